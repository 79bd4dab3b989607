/**
 * The execution environment: runs canister messages within rounds (interface spec §"Abstract
 * behavior"; the replica's ExecutionEnvironment + scheduler + message routing for one process).
 * This file is the round and the public face; the parts are, by concept:
 * - execution-core.ts: shared state (time, execution states, timers, running code in a context);
 * - message-delivery.ts: the canister queue, responses, ingress history writes;
 * - call-execution.ts: call contexts, callbacks, applying an execution's changes;
 * - management-calls.ts: calls to `aaaaa-aa`, chain-key answers; stop-requests.ts: stop deferral;
 * - lifecycle-hooks.ts: install/uninstall/start/delete for the management canister;
 * - query-execution.ts: queries and inspect_message;
 * - resource-charges.ts: storage, base fee and compute allocation on the round's clock;
 * - ingress-fees.ts: the ingress induction fee (checked at submission, charged at induction).
 *
 * A round executes the inducted ingress messages, fires due global timers, times out
 * best-effort calls, and then drains the canister message queue (requests and responses, in
 * order) until it is empty or the round's message budget is used; what remains is kept for the
 * next round (and persisted with the round's commit). Calls across subnets go through the
 * routing table like local ones.
 *
 * Cycles: attached cycles leave the caller's balance when the call is made, the callee accepts
 * what it wants, the rest is refunded with the response. Fees (cycles/subnet-costs.ts): ingress
 * at induction (ingress-fees.ts), execution prepaid and refunded (call-execution.ts), call fees
 * and reservations, and storage on the round's clock (resource-charges.ts).
 */
import { Principal } from '@icp-sdk/core/principal';
import { effectiveCanisterIdOf } from '../management/effective-canister-id.ts';
import type { ManagementEnv } from '../management/management-context.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { ChainKeyResponse } from '../state/subnet-call-context-manager.ts';
import { callDeadlineExpired, canisterNotFound, canisterNotRunning, type IcError, type RejectCode } from '../types/ic-error.ts';
import { CallExecution } from './call-execution.ts';
import type { CanisterMessage, CanisterRequest } from './canister-message.ts';
import { ExecutionCore, type ExecutionDeps } from './execution-core.ts';
import type { IngressMessage } from './ingress-message.ts';
import { chargeDelayedIngressFee, chargeIngressFee, isDelayedIngressCost } from './ingress-fees.ts';
import { LifecycleHooks } from './lifecycle-hooks.ts';
import { ManagementCalls } from './management-calls.ts';
import { MessageDelivery, rejected, rejectPayloadOf } from './message-delivery.ts';
import type { MessageOutcome } from './message-outcome.ts';
import { QueryExecution } from './query-execution.ts';
import { chargeForResources } from './resource-charges.ts';
import { StopRequests } from './stop-requests.ts';
import { STABLE_PAGE_BYTES } from './wasm/stable-memory.ts';
import { principalText } from '../types/principal-text.ts';

export type { ExecutionDeps } from './execution-core.ts';

/** Rounds run at least this often while some canister exports `canister_heartbeat` (mainnet: about one round a second). */
export const HEARTBEAT_INTERVAL_NANOS = 1_000_000_000n;
const HEARTBEAT = Buffer.from('canister_heartbeat');
/** Per module object: whether its bytes may export `canister_heartbeat` (see {@link mayExportHeartbeat}). */
const heartbeatByModule = new WeakMap<Uint8Array, boolean>();

/**
 * Whether a module (as stored: Wasm, or gzipped Wasm, which cannot be searched) may export
 * `canister_heartbeat`: its name is in the export section. Remembered per module object: every
 * round asks for every canister, and searching the modules (hundreds of KiB each) cost ~0.1 ms
 * per round.
 */
function mayExportHeartbeat(module: Uint8Array): boolean {
  let may = heartbeatByModule.get(module);
  if (may === undefined) {
    const gzipped = module[0] === 0x1f && module[1] === 0x8b;
    may = gzipped || Buffer.from(module.buffer, module.byteOffset, module.length).indexOf(HEARTBEAT) >= 0;
    heartbeatByModule.set(module, may);
  }
  return may;
}

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
      ...(deps.httpRequests ? { httpRequests: deps.httpRequests } : {}),
    };
    this.#management = new ManagementCalls(core, out, stops, this.managementEnv);
    this.#queries = new QueryExecution(core);
  }

  // ---- the round -------------------------------------------------------------------------------

  /** Sets the round's time (nanoseconds); call before executing anything in the round. */
  beginRound(timeNanos: bigint): void {
    this.#core.time = timeNanos;
  }

  /** Whether messages are waiting in the canister queue for a canister that can take them. */
  get hasQueuedMessages(): boolean {
    return this.#out.messages.some((m) => !this.#waitsForBusy(m));
  }

  /**
   * The execution part of a round: results of sliced executions that ended since the last round,
   * then the inducted ingress (and ingress deferred while its canister was busy), due timers,
   * and the canister message queue.
   */
  async executeRound(messages: readonly IngressMessage[]): Promise<number> {
    chargeForResources(this.#core, this.lifecycle);
    const done = this.#core.completions;
    this.#core.completions = [];
    for (const apply of done) apply();
    const deferred = this.#deferredIngress;
    this.#deferredIngress = [];
    const t0 = performance.now();
    for (const m of [...deferred, ...messages]) await this.executeIngress(m);
    const ingressMs = performance.now() - t0;
    await this.runSystemTasks();
    await this.drainQueue();
    return ingressMs;
  }

  /** Ingress for canisters that were busy when it was inducted, executed in a later round. */
  #deferredIngress: IngressMessage[] = [];

  /** Whether results of sliced executions or deferred ingress wait for a round. */
  get hasPendingWork(): boolean {
    return this.#core.completions.length > 0 || this.#deferredIngress.some((m) => !this.#core.isBusy(ingressTarget(m)));
  }

  /**
   * The ingress fee of `msg` (ingress-fees.ts `chargeIngressFee`).
   * @param charge false: only check that it could be paid (`should_accept_ingress_message`).
   * @returns the IC0207 error if the payer cannot pay above its freezing threshold, else undefined.
   */
  chargeIngress(msg: IngressMessage, charge: boolean): IcError | undefined {
    return chargeIngressFee(this.#core, msg, charge);
  }

  /** Whether the canister is in a sliced execution that yielded (it takes no other message). */
  isBusy(canisterId: Principal): boolean {
    return this.#core.isBusy(canisterId);
  }

  /** Resolves when the canister is not in a sliced execution. */
  async idle(canisterId: Principal): Promise<void> {
    for (let b = this.#core.busy.get(principalText(canisterId)); b; b = this.#core.busy.get(principalText(canisterId))) await b;
  }

  /** Stops sliced executions at their next slice end (their effects are dropped); for shutdown. */
  async abortSlicedExecutions(): Promise<void> {
    this.#core.closed = true;
    await Promise.allSettled([...this.#core.busy.values()]);
  }

  /** The earliest global timer or best-effort call deadline (nanoseconds), if any; a round a second while a canister has a heartbeat. */
  get nextTimerNanos(): bigint | undefined {
    let min: bigint | undefined;
    for (const { es } of this.#core.loadedStates()) {
      if (es.instance?.hasExport('canister_heartbeat')) {
        min = this.#core.time + HEARTBEAT_INTERVAL_NANOS;
        break;
      }
    }
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
  async executeIngress(msg: IngressMessage): Promise<void> {
    if (this.#core.isBusy(ingressTarget(msg))) {
      this.#deferredIngress.push(msg);
      return;
    }
    // Induction: the receiving canister pays the ingress fee (above its freezing threshold).
    const unpaid = this.chargeIngress(msg, true);
    if (unpaid) return this.#out.ingressDone(msg.requestId, rejected(unpaid));
    const origin = { kind: 'ingress', requestId: msg.requestId, sender: msg.sender } as const;
    if (msg.canisterId.toUint8Array().length === 0) {
      await this.#management.execute(origin, msg.sender, msg.methodName, msg.arg, 0n, msg.effectiveCanisterId);
      if (isDelayedIngressCost(msg)) chargeDelayedIngressFee(this.#core, msg);
      return;
    }
    const c = this.#core.deps.state.canister(msg.canisterId);
    if (!c) return this.#out.ingressDone(msg.requestId, rejected(canisterNotFound(msg.canisterId)));
    // The canister may have been stopped after the message was accepted (earlier in this round).
    const notRunning = canisterNotRunning(c.canisterId, c.status);
    if (notRunning) return this.#out.ingressDone(msg.requestId, rejected(notRunning));
    await this.#calls.executeCall(c, origin, msg.sender, msg.methodName, msg.arg, 0n);
  }

  /** Fires global timers that are due, then times out overdue best-effort calls. */
  async runSystemTasks(): Promise<void> {
    const core = this.#core;
    for (const [k, timer] of [...core.timers]) {
      if (timer.atNanos > core.time || core.isBusy(timer.canisterId)) continue;
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
      await this.#calls.runGlobalTimer(c, es);
    }
    // canister_heartbeat, every round (charged like any system task).
    for (const c of core.deps.state.canisters()) {
      if (c.status !== 'running' || !c.module || core.isBusy(c.canisterId)) continue;
      // (No need to load a canister whose module cannot export it: the name is in the export section.)
      if (!mayExportHeartbeat(c.module)) continue;
      const es = core.state(c);
      if (es.instance?.hasExport('canister_heartbeat')) await this.#calls.runGlobalTimer(c, es, 'canister_heartbeat');
    }
    // Low-memory hooks that became due (execution-core checkLowWasmMemory), once each.
    for (const { canisterId, es } of [...core.loadedStates()]) {
      if (es.lowWasmMemoryHook !== 'ready') continue;
      const c = core.deps.state.canister(canisterId);
      if (!c || c.status !== 'running' || core.isBusy(canisterId)) continue;
      es.lowWasmMemoryHook = 'executed';
      core.touch(c);
      if (es.instance?.hasExport('canister_on_low_wasm_memory')) await this.#calls.runGlobalTimer(c, es, 'canister_on_low_wasm_memory');
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
  async drainQueue(budget = MAX_MESSAGES_PER_ROUND): Promise<number> {
    let k = 0;
    const until = performance.now() + MAX_ROUND_MILLIS;
    // Messages for busy canisters stay queued, in order, for a later round.
    const waiting: CanisterMessage[] = [];
    while (this.#out.queued > 0 && k < budget) {
      // The wall-clock cut (for responsiveness) never falls before a request to aaaaa-aa: such
      // requests run no canister code, and the replica inducts a canister's whole output queue in
      // one round, so a batch of chain-key requests meets the per-key queue together (with a cut
      // between them, a later round would find the queue partly drained: a load-dependent answer).
      if (k % 16 === 0 && performance.now() >= until && !isManagementRequest(this.#out.messages[0]!)) break;
      const m = this.#out.dequeue()!;
      if (this.#waitsForBusy(m)) {
        waiting.push(m);
        continue;
      }
      k++;
      if (m.kind === 'request') await this.#deliverRequest(m);
      else await this.#calls.deliverResponse(m);
    }
    this.#out.requeueFront(waiting);
    return k;
  }

  /**
   * Whether a queued message must wait for a busy canister (one in a sliced execution): a
   * request to it, a response to it, or a call to the management canister whose effective
   * canister it is (the replica's scheduler keeps subnet messages for a canister with a paused
   * execution queued, `can_execute_subnet_msg`).
   */
  #waitsForBusy(m: CanisterMessage): boolean {
    const core = this.#core;
    if (core.busy.size === 0) return false;
    if (m.kind === 'response') return core.isBusy(m.originator);
    if (!isManagementRequest(m) && !core.deps.routing.subnetById(m.receiver)) return core.isBusy(m.receiver);
    let target: Principal | 'any' | undefined;
    try {
      target = effectiveCanisterIdOf(m.method, m.arg);
    } catch {
      return false; // rejected when it runs
    }
    return target instanceof Principal && core.isBusy(target);
  }

  /** A request to `aaaaa-aa` or to a canister (rejected here if that canister cannot take it). */
  async #deliverRequest(req: CanisterRequest): Promise<void> {
    const origin = { kind: 'canister', caller: req.sender, callbackId: req.senderCallbackId, deadlineNanos: req.deadlineNanos } as const;
    // A call addressed to a subnet id goes to that subnet's management canister (as the CMC's
    // create_canister does on mainnet).
    const subnet = req.receiver.toUint8Array().length === 0 ? undefined : this.#core.deps.routing.subnetById(req.receiver);
    if (req.receiver.toUint8Array().length === 0 || subnet) {
      await this.#management.execute(origin, req.sender, req.method, req.arg, req.payment, undefined, subnet);
      return;
    }
    const c = this.#core.deps.state.canister(req.receiver);
    if (!c) return this.#out.rejectRequest(req, canisterNotFound(req.receiver));
    const notRunning = canisterNotRunning(c.canisterId, c.status);
    if (notRunning) return this.#out.rejectRequest(req, notRunning);
    await this.#calls.executeCall(c, origin, req.sender, req.method, req.arg, req.payment);
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

  /**
   * Delivers the response to an `http_request` outcall (already transformed) to the calling
   * canister's callback, with the cycles left after the fee; it runs in the next round.
   */
  deliverHttpResponse(origin: { caller: Principal; callbackId: number; deadlineNanos: bigint }, response: { kind: 'reply'; data: Uint8Array } | { kind: 'reject'; code: number; message: string }, refund: bigint): void {
    this.#out.deliver(
      { kind: 'canister', ...origin },
      Principal.managementCanister(),
      response.kind === 'reply' ? response : { kind: 'reject', reject: { code: response.code as RejectCode, message: response.message } },
      refund,
    );
  }

  // ---- queries, inspect_message, certified data ------------------------------------------------

  /**
   * Runs a query call (non-replicated; every state change is discarded).
   * @returns the outcome; never throws for canister faults.
   */
  query(sender: Principal, canisterId: Principal, method: string, arg: Uint8Array, timeNanos: bigint): Promise<MessageOutcome> {
    return this.#queries.query(sender, canisterId, method, arg, timeNanos);
  }

  /**
   * Runs `canister_inspect_message` for an ingress message, if the canister exports it.
   * @throws IcError when the canister does not accept the message or traps (IC0406 / the trap).
   */
  inspectMessage(sender: Principal, c: CanisterState, method: string, arg: Uint8Array, timeNanos: bigint): Promise<void> | null {
    return this.#queries.inspectMessage(sender, c, method, arg, timeNanos);
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

/** The canister an ingress message is for: its receiver, or for `aaaaa-aa` its effective canister. */
function ingressTarget(msg: IngressMessage): Principal {
  return msg.canisterId.toUint8Array().length === 0 ? msg.effectiveCanisterId : msg.canisterId;
}

/** A request addressed to the management canister (`aaaaa-aa`, the empty principal). */
function isManagementRequest(m: CanisterMessage): boolean {
  return m.kind === 'request' && m.receiver.toUint8Array().length === 0;
}
