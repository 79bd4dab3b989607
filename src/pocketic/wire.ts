/**
 * PocketIC's JSON wire conventions (pocket_ic `common/rest.rs`, as PicJS 0.23 sends and reads
 * them; reference/pocketic-api.md §3): principals and blobs as standard base64 of their raw bytes
 * (`""` is `aaaaa-aa`, `"BA=="` the anonymous principal), call results as `{"Ok": b64}` or
 * `{"Err": RejectResponse}` with reject and error codes as serde variant names, and errors outside
 * call results as HTTP 400 `{"message": "<Debug of the PocketIcError>"}`.
 */
import { Principal } from '@icp-sdk/core/principal';
import type { MessageOutcome } from '../execution/message-outcome.ts';
import { ErrorCode } from '../types/ic-error.ts';

/** An error PocketIC reports as `400 {"message": …}` (PicJS throws `ServerError(message)`). */
export class PocketIcError extends Error {
  readonly status: number;
  /**
   * @param message the text, e.g. `CanisterNotFound(CanisterId(lxzze-…))`.
   * @param status HTTP status (400 unless given).
   */
  constructor(message: string, status = 400) {
    super(message);
    this.name = 'PocketIcError';
    this.status = status;
  }
}

/** Standard base64 of bytes. */
export function toB64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * Bytes of a base64 field.
 * @throws PocketIcError naming the field when it is not a base64 string.
 */
export function bytesField(obj: unknown, field: string): Uint8Array {
  const v = (obj as Record<string, unknown> | null)?.[field];
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) {
    throw new PocketIcError(`Failed to parse request: field "${field}" must be a base64 string`);
  }
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/**
 * A principal from a base64 field (raw principal bytes, at most 29).
 * @throws PocketIcError when the field is missing or not a principal.
 */
export function principalField(obj: unknown, field: string): Principal {
  const b = bytesField(obj, field);
  if (b.length > 29) throw new PocketIcError(`Failed to parse request: field "${field}" is not a principal (${b.length} bytes)`);
  return Principal.fromUint8Array(b);
}

/** A principal as base64 of its raw bytes. */
export function principalToB64(p: Principal): string {
  return toB64(p.toUint8Array());
}

/** Reject code names (serde variants of `RejectCode`), by the spec's numbers 1–6. */
const REJECT_CODE_NAMES: Record<number, string> = {
  1: 'SysFatal',
  2: 'SysTransient',
  3: 'DestinationInvalid',
  4: 'CanisterReject',
  5: 'CanisterError',
  6: 'SysUnknown',
};

const ERROR_CODE_NAMES = new Map<number, string>(Object.entries(ErrorCode).map(([name, n]) => [n, name]));

/** PocketIC's name for an `IC0xxx` error code (`IC0503` → `CanisterCalledTrap`), else the text as is. */
export function errorCodeName(errorCodeText: string): string {
  const m = /^IC(\d{4})$/.exec(errorCodeText);
  return (m && ERROR_CODE_NAMES.get(Number(m[1]))) || errorCodeText;
}

/** PocketIC's `RejectResponse`. */
export interface RejectResponse {
  reject_code: string;
  reject_message: string;
  error_code: string;
  certified: boolean;
}

/** A reject as PocketIC's `RejectResponse`. */
export function rejectResponse(rejectCode: number, message: string, errorCodeText: string, certified: boolean): RejectResponse {
  return {
    reject_code: REJECT_CODE_NAMES[rejectCode] ?? 'SysUnknown',
    reject_message: message,
    error_code: errorCodeName(errorCodeText),
    certified,
  };
}

/** A message outcome as `{"Ok": b64}` / `{"Err": RejectResponse}`. */
export function callResult(outcome: MessageOutcome, certified: boolean): { Ok: string } | { Err: RejectResponse } {
  return outcome.kind === 'replied'
    ? { Ok: toB64(outcome.reply) }
    : { Err: rejectResponse(outcome.rejectCode, outcome.rejectMessage, outcome.errorCode, certified) };
}
