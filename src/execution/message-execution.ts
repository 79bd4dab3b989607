/**
 * Executing one inducted ingress message in a round and recording its outcome in the ingress
 * history: calls to `aaaaa-aa` go to the management canister; calls to other canisters need Wasm
 * execution (the canister-execution layer), and until a canister can run they are rejected with
 * the replica's texts for an empty or unknown canister.
 */
import { ErrorCode, errorCodeText, IcError } from '../types/ic-error.ts';
import * as management from '../management/management-canister.ts';
import type { ManagementEnv } from '../management/management-context.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { IngressMessage } from './ingress-message.ts';

/** The outcome of a message: reply bytes or a reject. */
export type MessageOutcome =
  | { kind: 'replied'; reply: Uint8Array }
  | { kind: 'rejected'; rejectCode: number; rejectMessage: string; errorCode: string };

/** Turns an `IcError` into a reject outcome. */
export function rejectOutcome(e: IcError): MessageOutcome {
  return { kind: 'rejected', rejectCode: e.rejectCode, rejectMessage: e.message, errorCode: errorCodeText(e.code) };
}

/**
 * Executes an ingress message against the replicated state.
 * @param timeNanos the round's time.
 * @returns the outcome; never throws for the message's own failures (host bugs do throw).
 */
export function executeIngress(env: ManagementEnv, msg: IngressMessage, timeNanos: bigint): MessageOutcome {
  try {
    if (msg.canisterId.toUint8Array().length === 0) {
      const r = management.execute(env, {
        caller: msg.sender,
        callerIsCanister: false,
        method: msg.methodName,
        arg: msg.arg,
        payment: 0n,
        nowNanos: timeNanos,
        effectiveCanisterId: msg.effectiveCanisterId,
      });
      return { kind: 'replied', reply: r.reply };
    }
    const c = env.state.canister(msg.canisterId);
    if (!c) throw new IcError(ErrorCode.CanisterNotFound, `Canister ${msg.canisterId.toText()} not found.`);
    if (!c.module) {
      throw new IcError(
        ErrorCode.CanisterWasmModuleNotFound,
        `Error from Canister ${c.canisterId.toText()}: Attempted to execute a message, but the canister contains no Wasm module.`,
      );
    }
    throw new IcError(
      ErrorCode.CanisterWasmEngineError,
      `Error from Canister ${c.canisterId.toText()}: chainkey-replica cannot execute canister Wasm yet.`,
    );
  } catch (e) {
    if (e instanceof IcError) return rejectOutcome(e);
    throw e;
  }
}

/** The ingress history entry for a finished message. */
export function finishedRecord(msg: IngressMessage, outcome: MessageOutcome, timeNanos: bigint): IngressRecord {
  const base = {
    requestId: msg.requestId,
    sender: msg.sender.toUint8Array(),
    canisterId: msg.canisterId.toUint8Array(),
    methodName: msg.methodName,
    expiryNanos: msg.expiryNanos,
    updatedNanos: timeNanos,
  };
  return outcome.kind === 'replied'
    ? { ...base, status: 'replied', reply: outcome.reply }
    : {
        ...base,
        status: 'rejected',
        rejectCode: outcome.rejectCode,
        rejectMessage: outcome.rejectMessage,
        errorCode: outcome.errorCode,
      };
}
