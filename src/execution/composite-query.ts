/**
 * Composite queries (interface spec §"Composite query methods"): a `canister_composite_query`
 * method may call query and composite query methods; each response runs the caller's reply or
 * reject callback, until the caller responds. The call graph is non-replicated and runs at once,
 * depth first. Each call is a frame on the callee's committed state: its steps keep their heap
 * changes in the live instance (a callback sees what the method wrote before calling), and when
 * the frame returns the instance goes back to what it was before (committed, or the live state of
 * an outer frame of the same canister, e.g. a self-call), so nothing the graph did is kept.
 * Stable memory writes are discarded after each step. A TypeScript canister cannot be re-entered
 * within one graph.
 *
 * Each step runs sliced (execution-core.ts `runNonReplicatedStep`): a long graph yields to the
 * event loop. From its first yield until it ends, every canister it entered is busy (their
 * instances hold the graph's live state), so nothing else runs on them meanwhile; a callee busy
 * with another execution is answered with an error, as before.
 *
 * Limits as the replica's query handler: callees on the caller's subnet only, call graph depth at
 * most {@link MAX_QUERY_CALL_DEPTH}. Attached cycles are ignored (nothing is kept anyway).
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import { canisterDidNotReply, canisterNotFound, canisterNotRunning, canisterRejected, ErrorCode, IcError } from '../types/ic-error.ts';
import type { ResponsePayload } from './canister-message.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { SliceHooks } from './hypervisor.ts';
import type { CanisterCode, ExecutionState } from './execution-state.ts';
import { CanisterTrap, functionNotFound, methodNotFound, userErrorOf, wasmModuleNotFound } from './hypervisor-error.ts';
import { rejectPayloadOf } from './message-delivery.ts';
import type { ApiType } from './system-api/api-type.ts';
import type { ExecutionContext } from './system-api/execution-context.ts';
import type { OutgoingCall } from './system-api/system-state-changes.ts';
import { CanisterInstance, type LiveState } from './wasm/canister-instance.ts';
import { principalText } from '../types/principal-text.ts';

/** Deepest query call graph (the replica's `max_query_call_graph_depth`). */
export const MAX_QUERY_CALL_DEPTH = 6;

/** What a method in the graph answered. */
export type CompositeAnswer = { kind: 'reply'; data: Uint8Array } | { kind: 'error'; error: IcError };

/** One composite query call graph; see the module comment. */
export class CompositeQuery {
  readonly #core: ExecutionCore;
  /** Instances with a frame in progress. */
  readonly #active = new Set<CanisterCode>();
  /** The time the graph sees, nanoseconds since the epoch. */
  #timeNanos = 0n;
  /** Canisters entered (id text); once the graph has yielded, each one held busy (release by id). */
  readonly #entered = new Map<string, Principal>();
  readonly #held = new Map<string, () => void>();
  #parked = false;
  readonly #hooks: SliceHooks;

  constructor(core: ExecutionCore) {
    this.#core = core;
    this.#hooks = {
      onFirstYield: () => {
        if (this.#parked) return;
        this.#parked = true;
        for (const id of this.#entered.values()) this.#hold(id);
      },
      aborted: () => core.closed,
    };
  }

  #hold(id: Principal): void {
    const k = principalText(id);
    if (!this.#held.has(k)) this.#held.set(k, this.#core.hold(id));
  }

  /**
   * Runs composite query `method` of `c` as the root of a call graph, then rolls back every
   * instance the graph touched.
   * @param dataCertificate the root's `ic0.data_certificate_copy` certificate, if any.
   */
  async run(c: CanisterState, es: ExecutionState, method: string, caller: Principal, arg: Uint8Array, timeNanos: bigint, dataCertificate?: Uint8Array): Promise<CompositeAnswer> {
    this.#timeNanos = timeNanos;
    // The root's instance must be free (a long update on it may be suspended).
    for (let b = this.#core.busy.get(principalText(c.canisterId)); b; b = this.#core.busy.get(principalText(c.canisterId))) await b;
    try {
      return await this.#frame(c, es, 'composite_query', `canister_composite_query ${method}`, caller, arg, 0, dataCertificate);
    } finally {
      for (const release of this.#held.values()) release();
      this.#held.clear();
    }
  }

  /** Runs a method as a frame of its own (see the module comment). */
  async #frame(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    exportName: string,
    caller: Principal,
    arg: Uint8Array,
    depth: number,
    dataCertificate?: Uint8Array,
  ): Promise<CompositeAnswer> {
    const inst = es.instance!;
    this.#entered.set(principalText(c.canisterId), c.canisterId);
    if (this.#parked) this.#hold(c.canisterId);
    let outer: LiveState | undefined;
    if (this.#active.has(inst)) {
      if (!(inst instanceof CanisterInstance)) {
        return { kind: 'error', error: new IcError(ErrorCode.QueryCallGraphLoopDetected, 'Loop detected.  MSG: Composite query re-entered a TypeScript canister.') };
      }
      outer = inst.saveLive();
      inst.rollback();
    }
    this.#active.add(inst);
    try {
      return await this.#method(c, es, apiType, exportName, caller, arg, depth, dataCertificate);
    } finally {
      if (outer && inst instanceof CanisterInstance) inst.restoreLive(outer);
      else {
        inst.rollback();
        this.#active.delete(inst);
      }
    }
  }

  async #method(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    exportName: string,
    caller: Principal,
    arg: Uint8Array,
    depth: number,
    dataCertificate?: Uint8Array,
  ): Promise<CompositeAnswer> {
    const core = this.#core;
    const step = (type: ApiType, extra: Partial<ExecutionContext>, body: (i: CanisterCode) => Promise<unknown>) =>
      core.runNonReplicatedStep(c, es, type, { ...extra, timeNanos: this.#timeNanos }, body, 'pending', this.#hooks);
    const first = await step(apiType, { caller, arg, ...(dataCertificate ? { dataCertificate } : {}) }, (i) => i.callExportSliced(exportName));
    if (!first.ok) return { kind: 'error', error: userErrorOf(c.canisterId, first.error) };
    let response = first.changes.response;
    const outstanding = [...first.changes.calls];
    while (!response && outstanding.length > 0) {
      const call = outstanding.shift()!;
      const payload = await this.#call(c, call, depth + 1);
      const isReply = payload.kind === 'reply';
      const extra = {
        caller,
        arg: payload.kind === 'reply' ? payload.data : new Uint8Array(),
        rejectCode: payload.kind === 'reject' ? payload.code : 0,
        rejectMessage: payload.kind === 'reject' ? payload.message : '',
      };
      const invoke = (fn: bigint, env: bigint) => async (i: CanisterCode) => {
        if (!(await i.callTableSliced(fn, env))) throw new CanisterTrap(functionNotFound(fn));
      };
      const closure = isReply ? call.onReply : call.onReject;
      const r = await step(isReply ? 'reply_callback' : 'reject_callback', extra, invoke(closure.fn, closure.env));
      if (r.ok) {
        response = r.changes.response;
        outstanding.push(...r.changes.calls);
        continue;
      }
      if (call.onCleanup) await step('cleanup', extra, invoke(call.onCleanup.fn, call.onCleanup.env));
      return { kind: 'error', error: userErrorOf(c.canisterId, r.error) };
    }
    if (!response) return { kind: 'error', error: canisterDidNotReply(c.canisterId, depth > 0) };
    return response.kind === 'reply' ? { kind: 'reply', data: response.data } : { kind: 'error', error: canisterRejected(response.message) };
  }

  /** Runs a call from a composite query; its answer as the caller's callback sees it. */
  async #call(caller: CanisterState, call: OutgoingCall, depth: number): Promise<ResponsePayload> {
    const core = this.#core;
    const fail = (e: IcError): ResponsePayload => rejectPayloadOf(e, true);
    if (depth > MAX_QUERY_CALL_DEPTH) {
      return fail(new IcError(ErrorCode.QueryCallGraphTooDeep, `Composite query call exceeded the maximum call depth of ${MAX_QUERY_CALL_DEPTH}.`));
    }
    const c = core.deps.state.canister(call.callee);
    if (!c) return fail(canisterNotFound(call.callee));
    if (core.subnetOf(c).subnetId.compareTo(core.subnetOf(caller).subnetId) !== 'eq') {
      return fail(
        new IcError(
          ErrorCode.CanisterRejectedMessage,
          `Canister ${principalText(c.canisterId)} is on another subnet than ${principalText(caller.canisterId)}: composite queries call canisters on their own subnet only`,
        ),
      );
    }
    const notRunning = canisterNotRunning(c.canisterId, c.status);
    if (notRunning) return fail(notRunning);
    const es = core.state(c);
    const inst = es.instance;
    if (!inst) return fail(userErrorOf(c.canisterId, wasmModuleNotFound()));
    // A callee in another long execution (not one this graph holds): its instance is not free.
    if (core.isBusy(c.canisterId) && !this.#held.has(principalText(c.canisterId))) {
      return fail(userErrorOf(c.canisterId, {
        code: ErrorCode.CanisterWasmEngineError,
        text: `chainkey-replica: canister ${principalText(c.canisterId)} is in a long (sliced) execution; try again`,
        help: '',
      }));
    }
    let answer: CompositeAnswer;
    if (inst.module.queryMethods.has(call.method)) {
      answer = await this.#frame(c, es, 'non_replicated_query', `canister_query ${call.method}`, caller.canisterId, call.arg, depth);
    } else if (inst.module.compositeQueryMethods.has(call.method)) {
      answer = await this.#frame(c, es, 'composite_query', `canister_composite_query ${call.method}`, caller.canisterId, call.arg, depth);
    } else {
      answer = { kind: 'error', error: userErrorOf(c.canisterId, methodNotFound('query', call.method)) };
    }
    return answer.kind === 'reply' ? { kind: 'reply', data: answer.data } : fail(answer.error);
  }
}
