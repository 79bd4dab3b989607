/**
 * Candid encoding and decoding of management calls at the method types of ic-did.ts, strict as
 * the replica's decoder is (magic number, type table, every expected argument, no left-over
 * bytes), with the decoder's own text kept for the replica's reject (`Error decoding candid: …`).
 */
import { IDL } from '@icp-sdk/core/candid';
import { isManagementMethod, managementMethods, type ManagementMethod, type ManagementMethodName } from './ic-did.ts';
import type { ManagementArgs, ManagementResult } from './shapes.ts';

/**
 * Bytes that are not a valid Candid encoding of a management method's arguments (or reply).
 * `candidMessage` is the text of the `@icp-sdk/core/candid` error, verbatim, e.g.
 * `Wrong magic number: "\u0000\u0000\u0000\u0000"` or `Cannot find required field 'canister_id'
 * in record, expected fields: [canister_id], received fields: [...]`; the caller turns it into
 * the replica's reject (`Error decoding candid: …`, IC0408 InvalidManagementPayload).
 */
export class ManagementDecodeError extends Error {
  /** Wire name of the method whose payload failed to decode. */
  readonly method: string;
  /** The Candid library's own message. */
  readonly candidMessage: string;

  /**
   * @param method the management method's wire name.
   * @param candidMessage the decoder's message.
   * @param cause the decoder's error.
   */
  constructor(method: string, candidMessage: string, cause?: unknown) {
    super(`Failed to decode the Candid payload of ic00 method ${method}: ${candidMessage}`, {
      cause,
    });
    this.name = 'ManagementDecodeError';
    this.method = method;
    this.candidMessage = candidMessage;
  }
}

function methodOf(method: string): ManagementMethod {
  if (!isManagementMethod(method)) {
    throw new TypeError(`not a method of the management canister's interface: ${method}`);
  }
  return managementMethods[method];
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function decodeStrict(method: string, types: readonly IDL.Type[], bytes: Uint8Array): unknown[] {
  try {
    return IDL.decode([...types], bytes) as unknown[];
  } catch (e) {
    throw new ManagementDecodeError(method, messageOf(e), e);
  }
}

function encodeOrThrow(method: string, types: readonly IDL.Type[], values: unknown[]): Uint8Array {
  if (values.length !== types.length) {
    throw new TypeError(
      `ic00 method ${method}: expected ${types.length} value(s) to encode, got ${values.length}`,
    );
  }
  try {
    return IDL.encode([...types], values);
  } catch (e) {
    throw new TypeError(`ic00 method ${method}: cannot encode value: ${messageOf(e)}`, { cause: e });
  }
}

/**
 * Decodes the Candid argument bytes of a management call, strictly: the magic number, the type
 * table, and every expected argument must decode at the method's types (Candid subtyping: absent
 * `opt` record fields become `[]`, extra wire fields and extra trailing arguments are skipped);
 * left-over bytes are an error. `derivation_path` may have any number of elements here.
 *
 * @param method the method's wire name (must be in `managementMethods`).
 * @param bytes the call's `arg` blob (`DIDL…`).
 * @returns the argument tuple (`[]` for `raw_rand`).
 * @throws ManagementDecodeError naming the method, with the library's text in `candidMessage`.
 * @throws TypeError if `method` is not a management method (check `isManagementMethod` first).
 */
export function decodeManagementArgs<M extends ManagementMethodName>(
  method: M,
  bytes: Uint8Array,
): ManagementArgs<M> {
  return decodeStrict(method, methodOf(method).argTypes, bytes) as ManagementArgs<M>;
}

/**
 * Encodes the reply of a management call at the method's result types.
 *
 * @param method the method's wire name.
 * @param values the reply tuple (`[]` for methods returning `()`).
 * @returns Candid bytes for the reply's `arg`.
 * @throws TypeError if the method is unknown or a value does not fit its type (a host bug).
 */
export function encodeManagementReply<M extends ManagementMethodName>(
  method: M,
  values: ManagementResult<M>,
): Uint8Array {
  return encodeOrThrow(method, methodOf(method).retTypes, values);
}

/**
 * Encodes the arguments of a management call (for callers: tests, the CLI, canister fixtures).
 *
 * @param method the method's wire name.
 * @param values the argument tuple.
 * @throws TypeError if the method is unknown or a value does not fit its type.
 */
export function encodeManagementArgs<M extends ManagementMethodName>(
  method: M,
  values: ManagementArgs<M>,
): Uint8Array {
  return encodeOrThrow(method, methodOf(method).argTypes, values);
}

/**
 * Decodes a management reply, as strictly as `decodeManagementArgs` (for callers and tests).
 *
 * @param method the method's wire name.
 * @param bytes the reply's Candid bytes.
 * @throws ManagementDecodeError naming the method.
 * @throws TypeError if the method is unknown.
 */
export function decodeManagementReply<M extends ManagementMethodName>(
  method: M,
  bytes: Uint8Array,
): ManagementResult<M> {
  return decodeStrict(method, methodOf(method).retTypes, bytes) as ManagementResult<M>;
}
