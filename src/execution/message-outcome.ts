/**
 * The final outcome of a message as the ingress history and query answers report it: reply bytes,
 * or a reject with the reject code, the replica's message and its `IC0xxx` error code.
 */
import { errorCodeText, type IcError } from '../types/ic-error.ts';

/** A message's outcome. */
export type MessageOutcome =
  | { kind: 'replied'; reply: Uint8Array }
  | { kind: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string };

/** Turns an `IcError` into a reject outcome. */
export function rejectOutcome(e: IcError): MessageOutcome {
  return { kind: 'rejected', rejectCode: e.rejectCode, rejectMessage: e.message, errorCode: errorCodeText(e.code) };
}
