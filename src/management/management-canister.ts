/**
 * The management canister `aaaaa-aa` (interface spec §"The IC management canister"): the two
 * entry points over the method registry (method-registry.ts): `acceptIngress` (the replica's
 * ingress filter, run before a call is accepted) and `execute` (run in a round). Arguments and
 * replies are Candid per candid/ic.did; the reply is encoded here, so callers get bytes.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { canisterNotFound, managementQueryNotSupported } from '../types/ic-error.ts';
import * as K from './chain-key.ts';
import { decodeManagementArgs, encodeManagementReply, ManagementDecodeError } from './codec.ts';
import { effectiveCanisterIdOf } from './effective-canister-id.ts';
import * as E from './errors.ts';
import { isManagementMethod, type ManagementMethodName } from './ic-did.ts';
import type { ManagementCall, ManagementEnv, ManagementReply } from './management-context.ts';
import { ANSWERED_LATER, methodEntry, RunningExecution } from './method-registry.ts';
import type { ManagementArgs } from './shapes.ts';

export type { IngressPermission } from './method-registry.ts';

/**
 * The ingress checks for calls to `aaaaa-aa`, in the replica's order: the parse step
 * (`extract_effective_canister_id`: method known, callable by ingress, payload decodes), then the
 * ingress filter (`should_accept_ingress_message`: canister-only methods, controllers).
 * @throws IcError with the replica's code and text when the message is refused.
 */
export function acceptIngress(env: ManagementEnv, sender: Principal, method: string, arg: Uint8Array): void {
  if (!isManagementMethod(method)) throw E.ic00DoesNotExposeMethod(method);
  acceptIngressFor(env, sender, method, arg);
}

function acceptIngressFor<M extends ManagementMethodName>(env: ManagementEnv, sender: Principal, method: M, arg: Uint8Array): void {
  const entry = methodEntry(method);
  if (entry.ingress === 'not_allowed') throw E.notCallableViaIngress(method);
  if (entry.ingress === 'provisional') return;
  let target: Principal | 'any' | undefined;
  try {
    target = effectiveCanisterIdOf(method, arg);
  } catch (e) {
    if (e instanceof ManagementDecodeError) throw E.failedToParsePayload(method, e.candidMessage);
    throw e;
  }
  entry.checkIngressPayload?.(decodeManagementArgs(method, arg));
  if (entry.ingress === 'canister_only') throw E.onlyCanistersCanCall(method);
  if (target === undefined || target === 'any') throw E.notCallableViaIngress(method);
  const c = env.state.canister(target);
  if (!c) throw canisterNotFound(target);
  if (!c.controllers.some((p) => p.compareTo(sender) === 'eq')) throw E.onlyControllersCanCall(target, method);
}

/** Methods ic.did marks `query`: answered to query calls from users (non-replicated). */
const QUERY_METHODS: ReadonlySet<string> = new Set(['canister_status', 'fetch_canister_logs']);

/**
 * A query call to the management canister (interface spec: `canister_status` and
 * `fetch_canister_logs` are queries): runs the method's handler on the current state, whose
 * checks (controllers, visibility) apply to the sender; nothing it does is kept.
 * @returns the Candid reply
 * @throws IcError for a reject; IC0406 `Query call to management canister method … is not
 * supported.` for every other method, as the replica answers.
 */
export function query(env: ManagementEnv, sender: Principal, method: string, arg: Uint8Array, nowNanos: bigint): Uint8Array {
  if (!QUERY_METHODS.has(method)) {
    throw managementQueryNotSupported(method);
  }
  return execute(env, { caller: sender, callerIsCanister: false, method, arg, payment: 0n, nowNanos, queryCall: true }).reply;
}

/**
 * Executes one call to the management canister.
 * @returns the Candid reply and the cycles refunded to the caller, or that the answer comes later.
 * @throws IcError for every reject (the caller's attached cycles are then all refunded).
 */
export function execute(env: ManagementEnv, call: ManagementCall): ManagementReply {
  const { method } = call;
  if (!isManagementMethod(method)) throw E.managementCanisterHasNoMethod(method);
  return executeMethod(env, call, method);
}

function executeMethod<M extends ManagementMethodName>(env: ManagementEnv, call: ManagementCall, method: M): ManagementReply {
  const entry = methodEntry(method);
  if (!call.callerIsCanister && !call.queryCall && (entry.ingress === 'canister_only' || entry.ingress === 'not_allowed')) {
    throw E.notCallableViaIngress(method);
  }
  if (!entry.handle) throw E.notSupported(method);
  let args: ManagementArgs<M>;
  try {
    args = decodeManagementArgs(method, call.arg);
  } catch (e) {
    if (e instanceof ManagementDecodeError) {
      throw entry.routedByKeyId ? K.routingDecodeError(method, e.candidMessage) : E.candidDecodeError(e.candidMessage);
    }
    throw e;
  }
  const result = entry.handle(env, call, args);
  if (result === ANSWERED_LATER) return { reply: new Uint8Array(), refund: 0n, answeredLater: true };
  if (result instanceof RunningExecution) {
    return { reply: encodeManagementReply(method, result.result), refund: entry.keepsPayment ? 0n : call.payment, running: result.execution };
  }
  const reply: ManagementReply = { reply: encodeManagementReply(method, result), refund: entry.keepsPayment ? 0n : call.payment };
  const stopping = entry.waitsUntilStopped?.(env, args);
  if (stopping) reply.deferredUntilStopped = stopping;
  return reply;
}
