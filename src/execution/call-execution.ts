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
import { canisterDidNotReply, canisterOutOfCycles, canisterRejected, compositeQueryCalledInReplicatedMode, type IcError } from '../types/ic-error.ts';
import { instructionLimitFor } from './instruction-meter.ts';
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
  async executeCall(c: CanisterState, origin: CallOrigin, caller: Principal, method: string, arg: Uint8Array, payment: bigint): Promise<void> {
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
    // Execution is prepaid for the whole limit above the freezing threshold, the unused part
    // refunded after (prepay_execution_cycles / refund_unused_execution_cycles).
    const prepaid = this.#prepay(c, es, apiType, caller);
    if (prepaid instanceof Error) return fail(prepaid);
    const cc = es.callContexts.open(origin, method, payment);
    this.#core.touch(c);
    await this.#core.runSliced(
      c,
      es,
      apiType,
      { caller, arg, cyclesAvailable: payment, deadlineNanos: origin.kind === 'canister' ? origin.deadlineNanos : 0n },
      (i) => i.callExportSliced(exportName),
      (result) => {
        this.#refund(c, es, prepaid.limit, result.instructions);
        // A replicated query runs on a copy of the system state: what it accepts or burns is not
        // kept, so the caller gets its whole payment back (replicated_query.rs).
        if (apiType === 'replicated_query' && result.ok) {
          result.changes.cyclesAccepted = 0n;
          result.changes.cyclesBurned = 0n;
        }
        this.finish(c, es, cc, result);
      },
      apiType === 'update',
    );
  }

  /** Runs the canister's global timer task in a call context of its own (nobody waits for a response). */
  async runGlobalTimer(c: CanisterState, es: ExecutionState, task: 'canister_global_timer' | 'canister_heartbeat' | 'canister_on_low_wasm_memory' = 'canister_global_timer'): Promise<void> {
    const prepaid = this.#prepay(c, es, 'system_task', Principal.managementCanister());
    if (prepaid instanceof Error) return; // a frozen canister's timer or heartbeat does not run
    const cc = es.callContexts.open({ kind: 'system' }, task, 0n);
    cc.responded = true;
    await this.#core.runSliced(c, es, 'system_task', {}, (i) => i.callExportSliced(task), (result) => {
      this.#refund(c, es, prepaid.limit, result.instructions);
      this.finish(c, es, cc, result);
    });
  }

  /**
   * Withdraws `execution_cost(limit)` for an execution in `apiType`, above the freezing
   * threshold; or the IC0207 error (the top-up amount shown to controllers only).
   */
  #prepay(c: CanisterState, es: ExecutionState, apiType: ApiType, caller: Principal): { limit: bigint } | IcError {
    const limit = instructionLimitFor(apiType, this.#core.onSystemSubnet(c));
    const cost = this.#core.costs(c).executionCost(limit, this.#core.modeOf(es));
    if (cost === 0n) return { limit };
    const threshold = this.#core.freezingThreshold(c);
    if (c.cycles < cost + threshold) {
      return canisterOutOfCycles(c.canisterId, c.cycles, cost, threshold, c.controllers.some((p) => p.compareTo(caller) === 'eq'));
    }
    c.cycles -= cost;
    this.#core.touch(c);
    return { limit };
  }

  /** Refunds the unused part of a prepaid (or reserved) execution of `limit` that used `used` instructions. */
  #refund(c: CanisterState, es: ExecutionState, limit: bigint, used: bigint): void {
    c.cycles += this.#core.costs(c).executionRefund(limit, used, this.#core.modeOf(es));
  }

  /** Delivers a response to the callback waiting for it (dropped when the callback is gone). */
  async deliverResponse(resp: CanisterResponse): Promise<void> {
    const c = this.#core.deps.state.canister(resp.originator);
    if (!c) return;
    const es = this.#core.state(c);
    const cb = es.callContexts.take(resp.originatorCallbackId);
    if (!cb) return;
    this.#core.touch(c);
    // Attached cycles not accepted, and the response-transmission reservation less what the
    // response's bytes cost (refund_for_response_transmission).
    const costs = this.#core.costs(c);
    const bytes = resp.payload.kind === 'reply' ? resp.payload.data.length : Buffer.byteLength(resp.payload.message);
    c.cycles += resp.refund + costs.responseTransmissionRefund(BigInt(bytes));
    // The callback runs on the response-execution reservation made with the call.
    const limit = instructionLimitFor('reply_callback', this.#core.onSystemSubnet(c));
    const cc = es.callContexts.contexts.get(cb.callContextId);
    if (!cc || cc.deleted || !es.instance) {
      // No callback runs: only the base fee is kept (settle_prepayment_for_unexecuted_response).
      this.#refund(c, es, limit, 0n);
    }
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
    const invoke = (fn: bigint, env: bigint) => async (i: CanisterCode) => {
      if (!(await i.callTableSliced(fn, env))) throw new CanisterTrap(functionNotFound(fn));
    };
    const onCleanup = cb.onCleanup;
    await this.#core.runSliced(
      c,
      es,
      isReply ? 'reply_callback' : 'reject_callback',
      extra,
      invoke(closure.fn, closure.env),
      (result) => this.#afterCallback(c, es, cc, onCleanup ? { ...onCleanup, extra } : null, result, limit),
      true,
      undefined,
      cc.instructions ?? 0n,
    );
  }

  /** After a reply/reject callback: the cleanup callback (unsliced) if it trapped, then finish. */
  #afterCallback(
    c: CanisterState,
    es: ExecutionState,
    cc: CallContext,
    cleanupCb: { fn: bigint; env: bigint; extra: Partial<ExecutionContext> } | null,
    result: ExecutionResult,
    limit: bigint,
  ): void {
    let used = result.instructions;
    if (!result.ok && cleanupCb) {
      const before = (cc.instructions ?? 0n) + result.instructions;
      const cleanup = this.#core.run(c, es, 'cleanup', cleanupCb.extra, (i: CanisterCode) => {
        if (!i.callTable(cleanupCb.fn, cleanupCb.env)) throw new CanisterTrap(functionNotFound(cleanupCb.fn));
      }, true, before);
      used += cleanup.instructions;
      if (cleanup.ok) {
        cc.instructions = (cc.instructions ?? 0n) + cleanup.instructions; // (a failed one is in the result below)
        this.#applyChanges(c, es, cc, { ...cleanup.changes, calls: [], response: undefined });
      } else {
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
    this.#refund(c, es, limit, used);
    this.finish(c, es, cc, result);
  }

  /** Applies an execution's result to the canister and its call context, then closes what is done. */
  finish(c: CanisterState, es: ExecutionState, cc: CallContext, result: ExecutionResult): void {
    cc.instructions = (cc.instructions ?? 0n) + result.instructions;
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
      c.cycles -= call.cycles + (call.fee ?? 0n);
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
