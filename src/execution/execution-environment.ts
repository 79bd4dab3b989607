/**
 * The execution environment: runs canister messages within rounds (interface spec §"Abstract
 * behavior"; the replica's ExecutionEnvironment + scheduler + message routing for one process).
 * This file is the round and the public face; the parts are, by concept:
 * - execution-core.ts: shared state (time, execution states, timers, running code in a context);
 * - message-delivery.ts: the canister queue, responses, ingress history writes;
 * - call-execution.ts: call contexts, callbacks, applying an execution's changes;
 * - management-calls.ts: calls to `aaaaa-aa`, chain-key answers; stop-requests.ts: stop deferral;
 * - lifecycle-hooks.ts: install/uninstall/start/delete for the management canister;
 * - query-execution.ts: queries and inspect_message.
 *
 * A round executes the inducted ingress messages, fires due global timers, times out
 * best-effort calls, and then drains the canister message queue (requests and responses, in
 * order) until it is empty or the round's message budget is used; what remains is kept for the
 * next round (and persisted with the round's commit). Calls across subnets go through the
 * routing table like local ones.
 *
 * Cycles: attached cycles leave the caller's balance when the call is made, the callee accepts
 * what it wants, the rest is refunded with the response. Per-message execution fees and
 * per-instruction charges are not taken yet (see cycles/fee-schedule.ts for the table).
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { ManagementEnv } from '../management/management-context.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { ChainKeyResponse } from '../state/subnet-call-context-manager.ts';
import { callDeadlineExpired, canisterNotFound, canisterNotRunning } from '../types/ic-error.ts';
import { CallExecution } from './call-execution.ts';
import type { CanisterRequest } from './canister-message.ts';
import { ExecutionCore, type ExecutionDeps } from './execution-core.ts';
import type { IngressMessage } from './ingress-message.ts';
import { LifecycleHooks } from './lifecycle-hooks.ts';
import { ManagementCalls } from './management-calls.ts';
import { MessageDelivery, rejected, rejectPayloadOf } from './message-delivery.ts';
import type { MessageOutcome } from './message-outcome.ts';
import { QueryExecution } from './query-execution.ts';
import { StopRequests } from './stop-requests.ts';
import { STABLE_PAGE_BYTES } from './wasm/stable-memory.ts';

export type { ExecutionDeps } from './execution-core.ts';

/** Messages executed per round at most; the rest waits for the next round. */
export const MAX_MESSAGES_PER_ROUND = 1_000;
/**
 * Wall-clock budget of a round's queue draining (ms): a canister calling itself forever must not
 * keep the event loop (and so the HTTP interface) from answering for long.
 */
export const MAX_ROUND_MILLIS = 100;

/** Runs canister code for the replica. */
export class ExecutionEnvironment {
  readonly #core: ExecutionCore;
  readonly #out: MessageDelivery;
  readonly #calls: CallExecution;
  readonly #management: ManagementCalls;
  readonly #queries: QueryExecution;
  /** The execution side of the management canister's lifecycle methods. */
  readonly lifecycle: LifecycleHooks;
  /** The management canister's view of the replica. */
  readonly managementEnv: ManagementEnv;

  constructor(deps: ExecutionDeps) {
    const core = (this.#core = new ExecutionCore(deps));
    const out = (this.#out = new MessageDelivery(core));
    const stops = new StopRequests(core, out);
    this.#calls = new CallExecution(core, out, stops);
    this.lifecycle = new LifecycleHooks(core, out, stops);
    this.managementEnv = {
      state: deps.state,
      routing: deps.routing,
      store: deps.store,
      randomBytes: deps.randomBytes,
      execution: this.lifecycle,
      masterKeys: deps.masterKeys,
    };
    this.#management = new ManagementCalls(core, out, stops, this.managementEnv);
    this.#queries = new QueryExecution(core);
  }

  // ---- the round -------------------------------------------------------------------------------

  /** Sets the round's time (nanoseconds); call before executing anything in the round. */
  beginRound(timeNanos: bigint): void {
    this.#core.time = timeNanos;
  }

  /** Whether messages are waiting in the canister queue. */
  get hasQueuedMessages(): boolean {
    return this.#out.queued > 0;
  }

  /** The earliest global timer or best-effort call deadline (nanoseconds), if any. */
  get nextTimerNanos(): bigint | undefined {
    let min: bigint | undefined;
    for (const { canisterId, atNanos } of this.#core.timers.values()) {
      if (this.#core.deps.state.canister(canisterId)?.status !== 'running') continue;
      if (min === undefined || atNanos < min) min = atNanos;
    }
    for (const { es } of this.#core.loadedStates()) {
      for (const cb of es.callContexts.callbacks.values()) {
        if (cb.deadlineNanos !== 0n && !cb.timedOut && (min === undefined || cb.deadlineNanos < min)) min = cb.deadlineNanos;
      }
    }
    return min;
  }

  /** Executes an inducted ingress message (its outcome goes to the ingress history). */
  executeIngress(msg: IngressMessage): void {
    const origin = { kind: 'ingress', requestId: msg.requestId, sender: msg.sender } as const;
    if (msg.canisterId.toUint8Array().length === 0) {
      this.#management.execute(origin, msg.sender, msg.methodName, msg.arg, 0n, msg.effectiveCanisterId);
      return;
    }
    const c = this.#core.deps.state.canister(msg.canisterId);
    if (!c) return this.#out.ingressDone(msg.requestId, rejected(canisterNotFound(msg.canisterId)));
    // The canister may have been stopped after the message was accepted (earlier in this round).
    const notRunning = canisterNotRunning(c.canisterId, c.status);
    if (notRunning) return this.#out.ingressDone(msg.requestId, rejected(notRunning));
    this.#calls.executeCall(c, origin, msg.sender, msg.methodName, msg.arg, 0n);
  }

  /** Fires global timers that are due, then times out overdue best-effort calls. */
  runSystemTasks(): void {
    const core = this.#core;
    for (const [k, timer] of [...core.timers]) {
      if (timer.atNanos > core.time) continue;
      core.timers.delete(k);
      const c = core.deps.state.canister(timer.canisterId);
      if (!c) continue;
      // A stopping or stopped canister keeps its timer; it fires once the canister runs again.
      if (c.status !== 'running') {
        core.timers.set(k, timer);
        continue;
      }
      const es = core.state(c);
      es.globalTimerNanos = 0n;
      core.touch(c);
      if (!es.instance?.hasExport('canister_global_timer')) continue;
      this.#calls.runGlobalTimer(c, es);
    }
    // Low-memory hooks that became due (execution-core checkLowWasmMemory), once each.
    for (const { canisterId, es } of [...core.loadedStates()]) {
      if (es.lowWasmMemoryHook !== 'ready') continue;
      const c = core.deps.state.canister(canisterId);
      if (!c || c.status !== 'running') continue;
      es.lowWasmMemoryHook = 'executed';
      core.touch(c);
      if (es.instance?.hasExport('canister_on_low_wasm_memory')) this.#calls.runLowWasmMemoryHook(c, es);
    }
    for (const { canisterId, es } of core.loadedStates()) {
      for (const cb of es.callContexts.callbacks.values()) {
        if (cb.deadlineNanos !== 0n && cb.deadlineNanos <= core.time && !cb.timedOut) {
          cb.timedOut = true;
          const c = core.deps.state.canister(canisterId);
          if (c) core.touch(c);
          this.#out.enqueue({
            kind: 'response',
            originator: canisterId,
            respondent: cb.respondent,
            originatorCallbackId: cb.id,
            refund: 0n,
            payload: rejectPayloadOf(callDeadlineExpired(), true),
            deadlineNanos: cb.deadlineNanos,
          });
        }
      }
    }
  }

  /**
   * Executes queued canister messages until the queue is empty or `budget` messages ran.
   * @returns the number of messages executed.
   */
  drainQueue(budget = MAX_MESSAGES_PER_ROUND): number {
    let k = 0;
    const until = performance.now() + MAX_ROUND_MILLIS;
    while (this.#out.queued > 0 && k < budget && (k % 16 !== 0 || performance.now() < until)) {
      const m = this.#out.dequeue()!;
      k++;
      if (m.kind === 'request') this.#deliverRequest(m);
      else this.#calls.deliverResponse(m);
    }
    return k;
  }

  /** A request to `aaaaa-aa` or to a canister (rejected here if that canister cannot take it). */
  #deliverRequest(req: CanisterRequest): void {
    const origin = { kind: 'canister', caller: req.sender, callbackId: req.senderCallbackId, deadlineNanos: req.deadlineNanos } as const;
    // A call addressed to a subnet id goes to that subnet's management canister (as the CMC's
    // create_canister does on mainnet).
    const subnet = req.receiver.toUint8Array().length === 0 ? undefined : this.#core.deps.routing.subnetById(req.receiver);
    if (req.receiver.toUint8Array().length === 0 || subnet) {
      this.#management.execute(origin, req.sender, req.method, req.arg, req.payment, undefined, subnet);
      return;
    }
    const c = this.#core.deps.state.canister(req.receiver);
    if (!c) return this.#out.rejectRequest(req, canisterNotFound(req.receiver));
    const notRunning = canisterNotRunning(c.canisterId, c.status);
    if (notRunning) return this.#out.rejectRequest(req, notRunning);
    this.#calls.executeCall(c, origin, req.sender, req.method, req.arg, req.payment);
  }

  /** Ingress whose call context is still open after its round shows as `processing`. */
  markProcessing(msg: IngressMessage): void {
    this.#out.ingressProcessing(msg.requestId);
  }

  /**
   * Delivers answers to chain-key requests (from the chain-key payload step) to the calling
   * canisters, with the cycles left after the fee, and retires their contexts.
   */
  deliverChainKeyResponses(responses: readonly ChainKeyResponse[]): void {
    this.#management.deliverChainKeyResponses(responses);
  }

  // ---- queries, inspect_message, certified data ------------------------------------------------

  /**
   * Runs a query call (non-replicated; every state change is discarded).
   * @returns the outcome; never throws for canister faults.
   */
  query(sender: Principal, canisterId: Principal, method: string, arg: Uint8Array, timeNanos: bigint): MessageOutcome {
    return this.#queries.query(sender, canisterId, method, arg, timeNanos);
  }

  /**
   * Runs `canister_inspect_message` for an ingress message, if the canister exports it.
   * @throws IcError when the canister does not accept the message or traps (IC0406 / the trap).
   */
  inspectMessage(sender: Principal, c: CanisterState, method: string, arg: Uint8Array, timeNanos: bigint): void {
    this.#queries.inspectMessage(sender, c, method, arg, timeNanos);
  }

  /** `ic0.certified_data_set` data of a canister (for the state tree), or an empty array. */
  certifiedData(c: CanisterState): Uint8Array {
    return this.#core.loadedState(c)?.certifiedData ?? this.#core.deps.store.execution.certifiedData(c.canisterId.toUint8Array());
  }

  // ---- stable memory from outside (PocketIC's get/set_stable_memory) ---------------------------

  /** A canister's whole stable memory (its size is whole 64 KiB pages). */
  stableMemory(c: CanisterState): Uint8Array {
    const stable = this.#core.state(c).stable;
    return stable.read(0n, Number(stable.sizeBytes));
  }

  /** Replaces a canister's stable memory with `data`, grown to whole 64 KiB pages; kept at the next checkpoint. */
  setStableMemory(c: CanisterState, data: Uint8Array): void {
    const stable = this.#core.state(c).stable;
    stable.clear();
    stable.grow(BigInt(Math.ceil(data.length / STABLE_PAGE_BYTES)));
    stable.write(0n, data);
    this.#core.touch(c);
  }

  // ---- checkpoint ---------------------------------------------------------------------------

  /** Writes the round's execution changes; call inside the round's transaction. */
  writeChanges(): void {
    this.#core.writeChanges();
    this.#out.writeChanges();
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.#core.clearChanges();
    this.#out.clearChanges();
  }
}
