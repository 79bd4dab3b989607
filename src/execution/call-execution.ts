/**
 * Messages into canisters (interface spec §"Abstract behavior", §"Call contexts"): a request or
 * an ingress message opens a call context and runs the method; the calls the method makes
 * register callbacks and go to the queue; a response runs the reply or reject callback (and the
 * cleanup callback if that traps) in the call context it belongs to. After each execution its
 * changes are applied (cycles, calls, timer, certified data, the response) and the context closes
 * once it has responded and no callbacks are outstanding.
 */
import { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import { canisterDidNotReply, canisterRejected, compositeQueryCalledInReplicatedMode, type IcError } from '../types/ic-error.ts';
import type { CallContext, CallOrigin } from './call-context.ts';
import type { CanisterResponse } from './canister-message.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { CanisterCode, ExecutionState } from './execution-state.ts';
import { CanisterTrap, functionNotFound, methodNotFound, userErrorOf, wasmModuleNotFound } from './hypervisor-error.ts';
import type { ExecutionResult } from './hypervisor.ts';
import type { MessageDelivery } from './message-delivery.ts';
import type { StopRequests } from './stop-requests.ts';
import type { ApiType } from './system-api/api-type.ts';
import type { ExecutionContext } from './system-api/execution-context.ts';
import type { SystemStateChanges } from './system-api/system-state-changes.ts';

/** Call contexts, callbacks and the executions in them; see the module comment. */
export class CallExecution {
  readonly #core: ExecutionCore;
  readonly #out: MessageDelivery;
  readonly #stops: StopRequests;

  constructor(core: ExecutionCore, out: MessageDelivery, stops: StopRequests) {
    this.#core = core;
    this.#out = out;
    this.#stops = stops;
  }

  /**
   * Starts a call context for an update (or replicated query) call and runs the method.
   * @param payment cycles attached by the caller (0 for ingress)
   */
  executeCall(c: CanisterState, origin: CallOrigin, caller: Principal, method: string, arg: Uint8Array, payment: bigint): void {
    const es = this.#core.state(c);
    const fail = (e: IcError): void => this.#out.deliver(origin, c.canisterId, { kind: 'error', error: e }, payment);
    const inst = es.instance;
    if (!inst) return fail(userErrorOf(c.canisterId, wasmModuleNotFound()));
    let apiType: ApiType;
    let exportName: string;
    if (inst.module.updateMethods.has(method)) {
      apiType = 'update';
      exportName = `canister_update ${method}`;
    } else if (inst.module.queryMethods.has(method)) {
      apiType = 'replicated_query';
      exportName = `canister_query ${method}`;
    } else if (inst.module.compositeQueryMethods.has(method)) {
      return fail(compositeQueryCalledInReplicatedMode());
    } else {
      return fail(userErrorOf(c.canisterId, methodNotFound('update', method)));
    }
    const cc = es.callContexts.open(origin, method, payment);
    this.#core.touch(c);
    const result = this.#core.run(
      c,
      es,
      apiType,
      { caller, arg, cyclesAvailable: payment, deadlineNanos: origin.kind === 'canister' ? origin.deadlineNanos : 0n },
      (i) => i.callExport(exportName),
      apiType === 'update',
    );
    // A replicated query runs on a copy of the system state: what it accepts or burns is not
    // kept, so the caller gets its whole payment back (replicated_query.rs).
    if (apiType === 'replicated_query' && result.ok) {
      result.changes.cyclesAccepted = 0n;
      result.changes.cyclesBurned = 0n;
    }
    this.finish(c, es, cc, result);
  }

  /** Runs the canister's global timer task in a call context of its own (nobody waits for a response). */
  runGlobalTimer(c: CanisterState, es: ExecutionState): void {
    const cc = es.callContexts.open({ kind: 'system' }, 'canister_global_timer', 0n);
    cc.responded = true;
    const result = this.#core.run(c, es, 'system_task', {}, (i) => i.callExport('canister_global_timer'), true);
    this.finish(c, es, cc, result);
  }

  /** Runs the canister's `canister_on_low_wasm_memory` task in a call context of its own. */
  runLowWasmMemoryHook(c: CanisterState, es: ExecutionState): void {
    const cc = es.callContexts.open({ kind: 'system' }, 'canister_on_low_wasm_memory', 0n);
    cc.responded = true;
    const result = this.#core.run(c, es, 'system_task', {}, (i) => i.callExport('canister_on_low_wasm_memory'), true);
    this.finish(c, es, cc, result);
  }

  /** Delivers a response to the callback waiting for it (dropped when the callback is gone). */
  deliverResponse(resp: CanisterResponse): void {
    const c = this.#core.deps.state.canister(resp.originator);
    if (!c) return;
    const es = this.#core.state(c);
    const cb = es.callContexts.take(resp.originatorCallbackId);
    if (!cb) return;
    this.#core.touch(c);
    c.cycles += resp.refund;
    const cc = es.callContexts.contexts.get(cb.callContextId);
    if (!cc) return;
    if (cc.deleted || !es.instance) {
      es.callContexts.closeIfDone(cc.id);
      this.#stops.maybeStopped(c, es);
      return;
    }
    const isReply = resp.payload.kind === 'reply';
    const closure = isReply ? cb.onReply : cb.onReject;
    const extra: Partial<ExecutionContext> = {
      caller: callerOf(cc),
      arg: resp.payload.kind === 'reply' ? resp.payload.data : new Uint8Array(),
      rejectCode: resp.payload.kind === 'reject' ? resp.payload.code : 0,
      rejectMessage: resp.payload.kind === 'reject' ? resp.payload.message : '',
      cyclesAvailable: cc.availableCycles,
      cyclesRefunded: resp.refund,
      responded: cc.responded,
      deadlineNanos: cb.deadlineNanos,
    };
    const invoke = (fn: bigint, env: bigint) => (i: CanisterCode) => {
      if (!i.callTable(fn, env)) throw new CanisterTrap(functionNotFound(fn));
    };
    let result = this.#core.run(c, es, isReply ? 'reply_callback' : 'reject_callback', extra, invoke(closure.fn, closure.env), true);
    if (!result.ok && cb.onCleanup) {
      const cleanup = this.#core.run(c, es, 'cleanup', extra, invoke(cb.onCleanup.fn, cb.onCleanup.env), true);
      if (cleanup.ok) this.#applyChanges(c, es, cc, { ...cleanup.changes, calls: [], response: undefined });
      else {
        result = {
          ok: false,
          error: {
            code: result.error.code,
            text: `${result.error.text}\n\ncall_on_cleanup also failed:\n\n${cleanup.error.text}`,
            help: '',
          },
          instructions: result.instructions + cleanup.instructions,
        };
      }
    }
    this.finish(c, es, cc, result);
  }

  /** Applies an execution's result to the canister and its call context, then closes what is done. */
  finish(c: CanisterState, es: ExecutionState, cc: CallContext, result: ExecutionResult): void {
    if (!result.ok) {
      // The canister log records a trap as `[TRAP]: <the trap message>` (the whole text for other faults).
      const m = /^Canister called `ic0\.trap` with message: '([\s\S]*)'/.exec(result.error.text);
      this.#core.log(c.canisterId, new TextEncoder().encode(`[TRAP]: ${m ? m[1] : result.error.text}`));
    }
    if (result.ok) {
      this.#applyChanges(c, es, cc, result.changes);
    } else if (!cc.responded) {
      this.#out.respond(c, cc, { kind: 'error', error: userErrorOf(c.canisterId, result.error) });
    }
    if (!cc.responded && es.callContexts.outstanding(cc.id) === 0) {
      this.#out.respond(c, cc, { kind: 'error', error: canisterDidNotReply(c.canisterId, cc.origin.kind === 'canister') });
    }
    es.callContexts.closeIfDone(cc.id);
    this.#stops.maybeStopped(c, es);
  }

  #applyChanges(c: CanisterState, es: ExecutionState, cc: CallContext, ch: SystemStateChanges): void {
    this.#core.touch(c);
    c.cycles += ch.cyclesAccepted;
    cc.availableCycles -= ch.cyclesAccepted;
    c.cycles -= ch.cyclesBurned;
    for (const call of ch.calls) {
      c.cycles -= call.cycles;
      const deadline = call.timeoutSeconds !== undefined ? this.#core.time + BigInt(call.timeoutSeconds) * 1_000_000_000n : 0n;
      const cb = es.callContexts.register({
        callContextId: cc.id,
        respondent: call.callee,
        cyclesSent: call.cycles,
        onReply: call.onReply,
        onReject: call.onReject,
        ...(call.onCleanup ? { onCleanup: call.onCleanup } : {}),
        deadlineNanos: deadline,
      });
      this.#out.enqueue({
        kind: 'request',
        sender: c.canisterId,
        receiver: call.callee,
        method: call.method,
        arg: call.arg,
        payment: call.cycles,
        senderCallbackId: cb.id,
        deadlineNanos: deadline,
      });
    }
    if (ch.globalTimerNanos !== undefined) this.#core.setTimer(c, es, ch.globalTimerNanos);
    if (ch.certifiedData !== undefined) es.certifiedData = ch.certifiedData;
    if (ch.response) {
      this.#out.respond(
        c,
        cc,
        ch.response.kind === 'reply' ? { kind: 'reply', data: ch.response.data } : { kind: 'error', error: canisterRejected(ch.response.message) },
      );
    }
  }
}

/** The caller of a call context (the management canister's id for system tasks). */
function callerOf(cc: CallContext): Principal {
  if (cc.origin.kind === 'ingress') return cc.origin.sender;
  if (cc.origin.kind === 'canister') return cc.origin.caller;
  return Principal.managementCanister();
}
