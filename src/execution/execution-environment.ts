/**
 * The execution environment: runs canister messages within rounds and keeps call contexts,
 * callbacks and the queue of messages between canisters (interface spec §"Abstract behavior";
 * the replica's ExecutionEnvironment + scheduler + message routing for one process).
 *
 * A round executes the inducted ingress messages, fires due global timers, times out
 * best-effort calls, and then drains the canister message queue (requests and responses, in
 * order) until it is empty or the round's message budget is used; what remains is kept for the
 * next round (and persisted with the round's commit). Calls to `aaaaa-aa` from canisters run in
 * the management canister; calls across subnets go through the routing table like local ones.
 *
 * Cycles: attached cycles leave the caller's balance when the call is made, the callee accepts
 * what it wants, the rest is refunded with the response. Per-message execution fees and
 * per-instruction charges are not taken yet (see cycles/fee-schedule.ts for the table).
 */
import { Principal } from '@icp-sdk/core/principal';
import type { ChainKeyResponse } from '../consensus/chain-key-payload.ts';
import { thresholdRequestFee } from '../cycles/fee-schedule.ts';
import { encodeManagementReply } from '../management/interface.ts';
import * as management from '../management/management-canister.ts';
import type { CanisterExecution, CanisterMemoryUsage, InstallMode, ManagementEnv } from '../management/management-context.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { MasterKey } from '../state/master-keys.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { StateStore } from '../store/state-store.ts';
import { ErrorCode, errorCodeText, IcError, RejectCode } from '../types/ic-error.ts';
import { CallContextManager, type CallContext, type CallOrigin } from './call-context.ts';
import type { CanisterMessage, CanisterRequest, CanisterResponse, ResponsePayload } from './canister-message.ts';
import type { ExecutionState, StopRequest } from './execution-state.ts';
import {
  CanisterTrap,
  functionNotFound,
  messageRejected,
  methodNotFound,
  userErrorOf,
  wasmModuleNotFound,
  type HypervisorErrorInfo,
} from './hypervisor-error.ts';
import { runOnInstance, type ExecutionResult } from './hypervisor.ts';
import type { IngressMessage } from './ingress-message.ts';
import { CodeInstaller } from './install-code.ts';
import type { MessageOutcome } from './message-outcome.ts';
import type { ApiType } from './system-api/api-type.ts';
import type { ExecutionContext } from './system-api/execution-context.ts';
import { noChanges, type SystemStateChanges } from './system-api/system-state-changes.ts';
import { loadExecutionState, newExecutionState, saveExecutionState } from './execution-state-store.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const EMPTY_CANDID = new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0x00, 0x00]);

/** Messages executed per round at most; the rest waits for the next round. */
export const MAX_MESSAGES_PER_ROUND = 1_000;
/**
 * Wall-clock budget of a round's queue draining (ms): a canister calling itself forever must not
 * keep the event loop (and so the HTTP interface) from answering for long.
 */
export const MAX_ROUND_MILLIS = 100;

/** Replica-side services the execution environment uses. */
export interface ExecutionDeps {
  state: ReplicatedState;
  routing: RoutingTable;
  store: StateStore;
  /** DER BLS root key, 133 bytes (`ic0.root_key_copy`). */
  rootKeyDer: Uint8Array;
  randomBytes(n: number): Uint8Array;
  /** Where `ic0.debug_print` output goes. */
  debugPrint(canisterId: Principal, text: string): void;
  /** Threshold master keys by key id text. */
  masterKeys: ReadonlyMap<string, MasterKey>;
  /** A certificate covering the canister's certified data, for non-replicated queries. */
  dataCertificate(canisterId: Principal): Uint8Array | undefined;
}

/** Runs canister code for the replica. */
export class ExecutionEnvironment implements CanisterExecution {
  readonly #deps: ExecutionDeps;
  readonly #states = new Map<string, ExecutionState>();
  /** Canisters whose execution state changed since the last commit. */
  readonly #touched = new Set<string>();
  readonly #deleted = new Set<string>();
  #queue: CanisterMessage[] = [];
  #queueDirty = false;
  #time = 0n;
  readonly #installer: CodeInstaller;
  /** The management canister's view of the replica. */
  readonly managementEnv: ManagementEnv;
  /** Canisters with a global timer set: canister id text → deadline. */
  readonly #timers = new Map<string, bigint>();

  constructor(deps: ExecutionDeps) {
    this.#deps = deps;
    this.managementEnv = {
      state: deps.state,
      routing: deps.routing,
      store: deps.store,
      randomBytes: deps.randomBytes,
      execution: this,
      masterKeys: deps.masterKeys,
    };
    this.#installer = new CodeInstaller({
      context: (c, es, apiType, extra) => this.#context(c, es, apiType, extra),
      host: { debugPrint: deps.debugPrint },
    });
    this.#queue = deps.store.execution.loadQueue();
    for (const [id, t] of deps.store.execution.loadTimers()) this.#timers.set(Principal.fromUint8Array(id).toText(), t);
  }

  // ---- state -------------------------------------------------------------------------------

  /** The canister's execution state, loaded from the store on first use. */
  #state(c: CanisterState): ExecutionState {
    const k = c.canisterId.toText();
    let es = this.#states.get(k);
    if (!es) {
      es = loadExecutionState(this.#deps.store, c, { debugPrint: this.#deps.debugPrint }) ?? newExecutionState();
      this.#states.set(k, es);
    }
    return es;
  }

  #touch(c: CanisterState): void {
    this.#touched.add(c.canisterId.toText());
    this.#deps.state.markCanisterDirty(c.canisterId);
  }

  #subnetOf(c: CanisterState): Subnet {
    return this.#deps.routing.subnetOfCanister(c.canisterId) ?? this.#deps.routing.defaultSubnet;
  }

  #context(c: CanisterState, es: ExecutionState, apiType: ApiType, extra: Partial<ExecutionContext>): ExecutionContext {
    const subnet = this.#subnetOf(c);
    return {
      apiType,
      canisterId: c.canisterId,
      subnetId: subnet.subnetId,
      subnetSize: subnet.size,
      caller: Principal.managementCanister(),
      arg: new Uint8Array(),
      methodName: '',
      timeNanos: this.#time,
      balance: c.cycles,
      cyclesAvailable: 0n,
      cyclesRefunded: 0n,
      rejectCode: 0,
      rejectMessage: '',
      responded: false,
      controllers: c.controllers,
      status: c.status === 'running' ? 1 : c.status === 'stopping' ? 2 : 3,
      version: c.version,
      rootKeyDer: this.#deps.rootKeyDer,
      deadlineNanos: 0n,
      environmentVariables: c.settings.environment_variables,
      frozenReserveCycles: 0n,
      thresholdFee: (method, keyId) => {
        const key = this.#deps.masterKeys.get(keyId);
        // The quote is the fee table's (cycles_account_manager `*_fee`): the NNS exemption is only
        // applied when a request is paid for.
        return key ? thresholdRequestFee(method, key.subnet.size, false) : undefined;
      },
      changes: noChanges(),
      ...extra,
    };
  }

  // ---- rounds ----------------------------------------------------------------------------------

  /** Sets the round's time (nanoseconds); call before executing anything in the round. */
  beginRound(timeNanos: bigint): void {
    this.#time = timeNanos;
  }

  /** Whether messages are waiting in the canister queue. */
  get hasQueuedMessages(): boolean {
    return this.#queue.length > 0;
  }

  /** The earliest global timer or best-effort call deadline (nanoseconds), if any. */
  get nextTimerNanos(): bigint | undefined {
    let min: bigint | undefined;
    for (const [k, t] of this.#timers) {
      if (this.#deps.state.canister(Principal.fromText(k))?.status !== 'running') continue;
      if (min === undefined || t < min) min = t;
    }
    for (const es of this.#states.values()) {
      for (const cb of es.callContexts.callbacks.values()) {
        if (cb.deadlineNanos !== 0n && !cb.timedOut && (min === undefined || cb.deadlineNanos < min)) min = cb.deadlineNanos;
      }
    }
    return min;
  }

  /** Executes an inducted ingress message (its outcome goes to the ingress history). */
  executeIngress(msg: IngressMessage): void {
    const rid = hex(msg.requestId);
    if (msg.canisterId.toUint8Array().length === 0) {
      this.#executeManagement(
        { kind: 'ingress', requestId: rid, sender: msg.sender.toText() },
        msg.sender,
        msg.methodName,
        msg.arg,
        0n,
        msg.effectiveCanisterId,
      );
      return;
    }
    const c = this.#deps.state.canister(msg.canisterId);
    if (!c) {
      this.#ingressDone(rid, { kind: 'rejected', rejectCode: 3, rejectMessage: `Canister ${msg.canisterId.toText()} not found`, errorCode: 'IC0301' });
      return;
    }
    // The canister may have been stopped after the message was accepted (earlier in this round).
    if (c.status !== 'running') {
      const e =
        c.status === 'stopped'
          ? new IcError(ErrorCode.CanisterStopped, `Canister ${c.canisterId.toText()} is stopped`)
          : new IcError(ErrorCode.CanisterStopping, `Canister ${c.canisterId.toText()} is stopping`);
      this.#ingressDone(rid, rejected(e));
      return;
    }
    this.#executeCall(c, { kind: 'ingress', requestId: rid, sender: msg.sender.toText() }, msg.sender, msg.methodName, msg.arg, 0n);
  }

  /** Fires global timers that are due, then times out overdue best-effort calls. */
  runSystemTasks(): void {
    for (const [k, t] of [...this.#timers]) {
      if (t > this.#time) continue;
      this.#timers.delete(k);
      const c = this.#deps.state.canister(Principal.fromText(k));
      if (!c) continue;
      // A stopping or stopped canister keeps its timer; it fires once the canister runs again.
      if (c.status !== 'running') {
        this.#timers.set(k, t);
        continue;
      }
      const es = this.#state(c);
      es.globalTimerNanos = 0n;
      this.#touch(c);
      if (!es.instance?.hasExport('canister_global_timer')) continue;
      const cc = es.callContexts.open({ kind: 'system' }, 'canister_global_timer', 0n);
      cc.responded = true;
      const result = this.#run(c, es, 'system_task', {}, (i) => i.callExport('canister_global_timer'), true);
      this.#finish(c, es, cc, result);
    }
    for (const [k, es] of this.#states) {
      for (const cb of es.callContexts.callbacks.values()) {
        if (cb.deadlineNanos !== 0n && cb.deadlineNanos <= this.#time && !cb.timedOut) {
          cb.timedOut = true;
          const c = this.#deps.state.canister(Principal.fromText(k));
          if (c) this.#touch(c);
          this.#enqueue({
            kind: 'response',
            originator: Principal.fromText(k),
            respondent: Principal.fromText(cb.respondent),
            originatorCallbackId: cb.id,
            refund: 0n,
            payload: { kind: 'reject', code: RejectCode.SYS_UNKNOWN, message: 'Call deadline has expired.' },
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
    while (this.#queue.length > 0 && k < budget && (k % 16 !== 0 || performance.now() < until)) {
      const m = this.#queue.shift()!;
      this.#queueDirty = true;
      k++;
      if (m.kind === 'request') this.#deliverRequest(m);
      else this.#deliverResponse(m);
    }
    return k;
  }

  #enqueue(m: CanisterMessage): void {
    this.#queue.push(m);
    this.#queueDirty = true;
  }

  // ---- requests ----------------------------------------------------------------------------

  #deliverRequest(req: CanisterRequest): void {
    if (req.receiver.toUint8Array().length === 0) {
      this.#executeManagement(
        { kind: 'canister', caller: req.sender.toText(), callbackId: req.senderCallbackId, deadlineNanos: req.deadlineNanos },
        req.sender,
        req.method,
        req.arg,
        req.payment,
        undefined,
      );
      return;
    }
    const c = this.#deps.state.canister(req.receiver);
    const reject = (code: number, message: string): void =>
      this.#enqueue(responseTo(req, req.payment, { kind: 'reject', code, message }));
    if (!c) return reject(RejectCode.DESTINATION_INVALID, `Canister ${req.receiver.toText()} not found`);
    if (c.status === 'stopped') return reject(RejectCode.CANISTER_ERROR, `Canister ${c.canisterId.toText()} is stopped`);
    if (c.status === 'stopping') return reject(RejectCode.CANISTER_ERROR, `Canister ${c.canisterId.toText()} is stopping`);
    this.#executeCall(
      c,
      { kind: 'canister', caller: req.sender.toText(), callbackId: req.senderCallbackId, deadlineNanos: req.deadlineNanos },
      req.sender,
      req.method,
      req.arg,
      req.payment,
    );
  }

  /** A call to the management canister from a user (ingress) or a canister. */
  #executeManagement(
    origin: CallOrigin,
    caller: Principal,
    method: string,
    arg: Uint8Array,
    payment: bigint,
    effectiveCanisterId: Principal | undefined,
  ): void {
    const callerCanister = origin.kind === 'canister' ? this.#deps.state.canister(caller) : undefined;
    try {
      const r = management.execute(this.managementEnv, {
        caller,
        callerIsCanister: origin.kind === 'canister',
        ...(callerCanister ? { callerSubnet: this.#subnetOf(callerCanister) } : {}),
        method,
        arg,
        payment,
        nowNanos: this.#time,
        ...(effectiveCanisterId ? { effectiveCanisterId } : {}),
      });
      if (r.thresholdRequest && origin.kind === 'canister') {
        // Paid and queued: the chain-key payload step answers it in a later round.
        const { method, keyId, args, refundCycles } = r.thresholdRequest;
        this.#deps.state.subnetCallContexts.push({
          method,
          keyId,
          args,
          origin: { caller: origin.caller, callbackId: origin.callbackId, deadlineNanos: origin.deadlineNanos },
          refundCycles,
          batchTimeNanos: this.#time,
          pseudoRandomId: this.#deps.randomBytes(32),
        });
        return;
      }
      if (r.deferredUntilStopped) {
        const target = this.#deps.state.canister(r.deferredUntilStopped)!;
        const es = this.#state(target);
        if (origin.kind === 'ingress') es.stopRequests.push({ kind: 'ingress', requestId: origin.requestId });
        else if (origin.kind === 'canister') {
          const { caller, callbackId, deadlineNanos } = origin;
          es.stopRequests.push({ kind: 'canister', caller, callbackId, deadlineNanos, payment: r.refund });
        }
        this.#touch(target);
        if (origin.kind === 'ingress') this.#ingressProcessing(origin.requestId);
        return;
      }
      this.#deliver(origin, Principal.managementCanister(), { kind: 'reply', data: r.reply }, r.refund, undefined);
    } catch (e) {
      if (!(e instanceof IcError)) throw e;
      // Canister callers see the error code in the text (`UserError` Display), users get it apart.
      this.#deliver(
        origin,
        Principal.managementCanister(),
        {
          kind: 'reject',
          code: e.rejectCode,
          message: origin.kind === 'canister' && !e.bareToCanisters ? `${errorCodeText(e.code)}: ${e.message}` : e.message,
        },
        payment,
        errorCodeText(e.code),
      );
    }
  }

  /** Starts a call context for an update (or replicated query) call and runs the method. */
  #executeCall(c: CanisterState, origin: CallOrigin, caller: Principal, method: string, arg: Uint8Array, payment: bigint): void {
    const es = this.#state(c);
    const fail = (info: HypervisorErrorInfo): void => {
      const e = userErrorOf(c.canisterId, info);
      this.#deliver(origin, c.canisterId, rejectPayloadOf(e, origin), payment, errorCodeText(e.code));
    };
    const inst = es.instance;
    if (!inst) return fail(wasmModuleNotFound());
    let apiType: ApiType;
    let exportName: string;
    if (inst.module.updateMethods.has(method)) {
      apiType = 'update';
      exportName = `canister_update ${method}`;
    } else if (inst.module.queryMethods.has(method)) {
      apiType = 'replicated_query';
      exportName = `canister_query ${method}`;
    } else if (inst.module.compositeQueryMethods.has(method)) {
      const e = new IcError(ErrorCode.CompositeQueryCalledInReplicatedMode, 'Composite query cannot be called in replicated mode');
      this.#deliver(origin, c.canisterId, rejectPayloadOf(e, origin), payment, errorCodeText(e.code));
      return;
    } else {
      return fail(methodNotFound('update', method));
    }
    const cc = es.callContexts.open(origin, method, payment);
    this.#touch(c);
    const result = this.#run(
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
    this.#finish(c, es, cc, result);
  }

  #run(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    body: Parameters<typeof runOnInstance>[2],
    keepMemory: boolean,
  ): ExecutionResult {
    const ctx = this.#context(c, es, apiType, extra);
    return runOnInstance(es.instance!, ctx, body, keepMemory, es.globalTimerNanos);
  }

  // ---- responses -----------------------------------------------------------------------------

  #deliverResponse(resp: CanisterResponse): void {
    const c = this.#deps.state.canister(resp.originator);
    if (!c) return;
    const es = this.#state(c);
    const cb = es.callContexts.take(resp.originatorCallbackId);
    if (!cb) return;
    this.#touch(c);
    c.cycles += resp.refund;
    const cc = es.callContexts.contexts.get(cb.callContextId);
    if (!cc) return;
    if (cc.deleted || !es.instance) {
      es.callContexts.closeIfDone(cc.id);
      this.#maybeStopped(c, es);
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
    const invoke = (fn: bigint, env: bigint) => (i: Parameters<Parameters<typeof runOnInstance>[2]>[0]) => {
      if (!i.callTable(fn, env)) throw new CanisterTrap(functionNotFound(fn));
    };
    let result = this.#run(c, es, isReply ? 'reply_callback' : 'reject_callback', extra, invoke(closure.fn, closure.env), true);
    if (!result.ok && cb.onCleanup) {
      const cleanup = this.#run(c, es, 'cleanup', extra, invoke(cb.onCleanup.fn, cb.onCleanup.env), true);
      if (cleanup.ok) this.#applyChanges(c, es, cc, { ...cleanup.changes, calls: [], response: undefined });
      else {
        result = {
          ok: false,
          error: {
            code: result.error.code,
            text: `${result.error.text}\n\ncall_on_cleanup also failed:\n\n${cleanup.error.text}`,
            help: '',
          },
        };
      }
    }
    this.#finish(c, es, cc, result);
  }

  // ---- after an execution ------------------------------------------------------------------

  /** Applies an execution's result to the canister and its call context, then closes what is done. */
  #finish(c: CanisterState, es: ExecutionState, cc: CallContext, result: ExecutionResult): void {
    if (result.ok) {
      this.#applyChanges(c, es, cc, result.changes);
    } else if (!cc.responded) {
      const e = userErrorOf(c.canisterId, result.error);
      this.#respond(c, cc, rejectPayloadOf(e, cc.origin), errorCodeText(e.code));
    }
    if (!cc.responded && es.callContexts.outstanding(cc.id) === 0) {
      if (cc.origin.kind === 'ingress') {
        this.#respond(c, cc, { kind: 'reject', code: RejectCode.CANISTER_ERROR, message: `Canister ${c.canisterId.toText()} did not reply to the call` }, 'IC0506');
      } else {
        this.#respond(c, cc, { kind: 'reject', code: RejectCode.CANISTER_ERROR, message: 'No response' }, 'IC0506');
      }
    }
    es.callContexts.closeIfDone(cc.id);
    this.#maybeStopped(c, es);
  }

  #applyChanges(c: CanisterState, es: ExecutionState, cc: CallContext, ch: SystemStateChanges): void {
    this.#touch(c);
    c.cycles += ch.cyclesAccepted;
    cc.availableCycles -= ch.cyclesAccepted;
    c.cycles -= ch.cyclesBurned;
    for (const call of ch.calls) {
      c.cycles -= call.cycles;
      const deadline = call.timeoutSeconds !== undefined ? this.#time + BigInt(call.timeoutSeconds) * 1_000_000_000n : 0n;
      const cb = es.callContexts.register({
        callContextId: cc.id,
        respondent: call.callee.toText(),
        cyclesSent: call.cycles,
        onReply: call.onReply,
        onReject: call.onReject,
        ...(call.onCleanup ? { onCleanup: call.onCleanup } : {}),
        deadlineNanos: deadline,
      });
      this.#enqueue({
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
    if (ch.globalTimerNanos !== undefined) this.#setTimer(c, es, ch.globalTimerNanos);
    if (ch.certifiedData !== undefined) es.certifiedData = ch.certifiedData;
    if (ch.response) {
      this.#respond(
        c,
        cc,
        ch.response.kind === 'reply'
          ? { kind: 'reply', data: ch.response.data }
          : { kind: 'reject', code: RejectCode.CANISTER_REJECT, message: ch.response.message },
        'IC0406',
      );
    }
  }

  #setTimer(c: CanisterState, es: ExecutionState, t: bigint): void {
    es.globalTimerNanos = t;
    if (t === 0n) this.#timers.delete(c.canisterId.toText());
    else this.#timers.set(c.canisterId.toText(), t);
  }

  /** Responds to a call context: the refund is whatever it still has available. */
  #respond(c: CanisterState, cc: CallContext, payload: ResponsePayload, errorCode: string): void {
    cc.responded = true;
    const refund = cc.availableCycles;
    cc.availableCycles = 0n;
    this.#deliver(cc.origin, c.canisterId, payload, refund, errorCode);
  }

  /** Sends a response to whoever is waiting for it: the ingress history or the calling canister. */
  #deliver(origin: CallOrigin, respondent: Principal, payload: ResponsePayload, refund: bigint, errorCode: string | undefined): void {
    if (origin.kind === 'ingress') {
      this.#ingressDone(
        origin.requestId,
        payload.kind === 'reply'
          ? { kind: 'replied', reply: payload.data }
          : { kind: 'rejected', rejectCode: payload.code, rejectMessage: payload.message, errorCode: errorCode ?? 'IC0406' },
      );
    } else if (origin.kind === 'canister') {
      this.#enqueue({
        kind: 'response',
        originator: Principal.fromText(origin.caller),
        respondent,
        originatorCallbackId: origin.callbackId,
        refund,
        payload,
        deadlineNanos: origin.deadlineNanos,
      });
    }
  }

  #ingressDone(requestIdHex: string, outcome: MessageOutcome): void {
    const rid = new Uint8Array(Buffer.from(requestIdHex, 'hex'));
    const prev = this.#deps.state.ingress(rid);
    if (!prev) return;
    const base: IngressRecord = {
      requestId: prev.requestId,
      sender: prev.sender,
      canisterId: prev.canisterId,
      methodName: prev.methodName,
      expiryNanos: prev.expiryNanos,
      updatedNanos: this.#time,
      status: 'replied',
    };
    this.#deps.state.putIngress(
      outcome.kind === 'replied'
        ? { ...base, status: 'replied', reply: outcome.reply }
        : { ...base, status: 'rejected', rejectCode: outcome.rejectCode, rejectMessage: outcome.rejectMessage, errorCode: outcome.errorCode },
    );
  }

  #ingressProcessing(requestIdHex: string): void {
    const prev = this.#deps.state.ingress(new Uint8Array(Buffer.from(requestIdHex, 'hex')));
    if (prev && prev.status === 'received') this.#deps.state.putIngress({ ...prev, status: 'processing', updatedNanos: this.#time });
  }

  /** Ingress whose call context is still open after its round shows as `processing`. */
  markProcessing(msg: IngressMessage): void {
    this.#ingressProcessing(hex(msg.requestId));
  }

  // ---- chain-key responses --------------------------------------------------------------------

  /**
   * Delivers answers to chain-key requests (from the chain-key payload step) to the calling
   * canisters, with the cycles left after the fee, and retires their contexts.
   */
  deliverChainKeyResponses(responses: readonly ChainKeyResponse[]): void {
    for (const { context, result } of responses) {
      this.#deps.state.subnetCallContexts.remove(context.callbackId);
      const payload: ResponsePayload =
        result.kind === 'signature'
          ? {
              kind: 'reply',
              data:
                context.method === 'vetkd_derive_key'
                  ? encodeManagementReply('vetkd_derive_key', [{ encrypted_key: result.bytes }])
                  : encodeManagementReply(context.method, [{ signature: result.bytes }]),
            }
          : { kind: 'reject', code: result.code, message: result.message };
      this.#deliver({ kind: 'canister', ...context.origin }, Principal.managementCanister(), payload, context.refundCycles, undefined);
    }
  }

  // ---- stopping -----------------------------------------------------------------------------

  #maybeStopped(c: CanisterState, es: ExecutionState): void {
    if (c.status !== 'stopping' || es.callContexts.hasOpenContexts) return;
    c.status = 'stopped';
    this.#touch(c);
    const waiting = es.stopRequests;
    es.stopRequests = [];
    for (const s of waiting) this.#answerStop(s, { kind: 'reply', data: EMPTY_CANDID }, undefined);
  }

  #answerStop(s: StopRequest, payload: ResponsePayload, errorCode: string | undefined): void {
    if (s.kind === 'ingress') this.#deliver({ kind: 'ingress', requestId: s.requestId, sender: '' }, Principal.managementCanister(), payload, 0n, errorCode);
    else {
      this.#deliver(
        { kind: 'canister', caller: s.caller, callbackId: s.callbackId, deadlineNanos: s.deadlineNanos },
        Principal.managementCanister(),
        payload,
        s.payment,
        errorCode,
      );
    }
  }

  // ---- CanisterExecution (for the management canister) --------------------------------------

  installCode(c: CanisterState, mode: InstallMode, wasmModule: Uint8Array, arg: Uint8Array, caller: Principal, nowNanos: bigint): void {
    const es = this.#state(c);
    const { timerSetByNewCode } = this.#installer.install(c, es, mode, wasmModule, arg, caller, nowNanos);
    if ('reinstall' in mode || 'install' in mode) this.#rejectOpenContexts(c, es);
    // The global timer is deactivated by install, reinstall and upgrade (spec), unless the new
    // code's start function, canister_init or canister_post_upgrade set it.
    this.#setTimer(c, es, timerSetByNewCode ? es.globalTimerNanos : 0n);
    this.#touch(c);
  }

  uninstallCode(c: CanisterState): void {
    const es = this.#state(c);
    this.#installer.uninstall(c, es);
    this.#rejectOpenContexts(c, es);
    this.#setTimer(c, es, 0n);
    this.#touch(c);
    this.#maybeStopped(c, es);
  }

  /** Rejects open call contexts of a canister that lost its code (spec: "Canister has been uninstalled"). */
  #rejectOpenContexts(c: CanisterState, es: ExecutionState): void {
    for (const cc of es.callContexts.contexts.values()) {
      if (!cc.responded && cc.origin.kind !== 'system') {
        this.#respond(c, cc, { kind: 'reject', code: RejectCode.CANISTER_REJECT, message: 'Canister has been uninstalled.' }, 'IC0406');
      }
      cc.deleted = true;
      es.callContexts.closeIfDone(cc.id);
    }
  }

  memoryUsage(c: CanisterState): CanisterMemoryUsage {
    const es = this.#state(c);
    return {
      wasmMemoryBytes: BigInt(es.instance?.memoryBytes ?? 0),
      stableMemoryBytes: es.stable.sizeBytes,
      globalsBytes: BigInt((es.instance?.module.globals.length ?? 0) * 8),
    };
  }

  hasOpenCallContexts(c: CanisterState): boolean {
    return this.#state(c).callContexts.hasOpenContexts;
  }

  canisterStarted(c: CanisterState): void {
    const es = this.#state(c);
    const waiting = es.stopRequests;
    es.stopRequests = [];
    this.#touch(c);
    for (const s of waiting) {
      if (s.kind === 'ingress') {
        this.#answerStop(s, { kind: 'reject', code: RejectCode.CANISTER_ERROR, message: `Canister ${c.canisterId.toText()}'s stop request was cancelled.` }, 'IC0511');
      } else {
        this.#answerStop(s, { kind: 'reject', code: RejectCode.CANISTER_REJECT, message: `Canister ${c.canisterId.toText()}'s stop request cancelled` }, undefined);
      }
    }
  }

  canisterDeleted(c: CanisterState): void {
    const k = c.canisterId.toText();
    this.#states.delete(k);
    this.#timers.delete(k);
    this.#touched.delete(k);
    this.#deleted.add(k);
  }

  // ---- queries and inspect_message ------------------------------------------------------------

  /**
   * Runs a query call (non-replicated; every state change is discarded).
   * @returns the outcome; never throws for canister faults.
   */
  query(sender: Principal, canisterId: Principal, method: string, arg: Uint8Array, timeNanos: bigint): MessageOutcome {
    const c = this.#deps.state.canister(canisterId);
    if (!c) return rejected(new IcError(ErrorCode.CanisterNotFound, `Canister ${canisterId.toText()} not found`));
    if (c.status === 'stopped') return rejected(new IcError(ErrorCode.CanisterStopped, `Canister ${canisterId.toText()} is stopped`));
    if (c.status === 'stopping') return rejected(new IcError(ErrorCode.CanisterStopping, `Canister ${canisterId.toText()} is stopping`));
    const es = this.#state(c);
    const inst = es.instance;
    if (!inst) return rejected(userErrorOf(canisterId, wasmModuleNotFound()));
    let exportName: string;
    let apiType: ApiType;
    if (inst.module.queryMethods.has(method)) {
      exportName = `canister_query ${method}`;
      apiType = 'non_replicated_query';
    } else if (inst.module.compositeQueryMethods.has(method)) {
      exportName = `canister_composite_query ${method}`;
      apiType = 'composite_query';
    } else return rejected(userErrorOf(canisterId, methodNotFound('query', method)));
    const saved = this.#time;
    this.#time = timeNanos;
    const cert = this.#deps.dataCertificate(canisterId);
    const result = this.#run(c, es, apiType, { caller: sender, arg, ...(cert ? { dataCertificate: cert } : {}) }, (i) => i.callExport(exportName), false);
    this.#time = saved;
    if (!result.ok) return rejected(userErrorOf(canisterId, result.error));
    if (result.changes.calls.length > 0) {
      return rejected(
        new IcError(ErrorCode.CanisterWasmEngineError, `Error from Canister ${canisterId.toText()}: chainkey-replica does not run calls from composite queries yet`),
      );
    }
    const r = result.changes.response;
    if (!r) return rejected(new IcError(ErrorCode.CanisterDidNotReply, `Canister ${canisterId.toText()} did not reply to the call`));
    return r.kind === 'reply'
      ? { kind: 'replied', reply: r.data }
      : { kind: 'rejected', rejectCode: RejectCode.CANISTER_REJECT, rejectMessage: r.message, errorCode: 'IC0406' };
  }

  /**
   * Runs `canister_inspect_message` for an ingress message, if the canister exports it.
   * @throws IcError when the canister does not accept the message or traps (IC0406 / the trap).
   */
  inspectMessage(sender: Principal, c: CanisterState, method: string, arg: Uint8Array, timeNanos: bigint): void {
    const es = this.#state(c);
    if (!es.instance?.hasExport('canister_inspect_message')) return;
    const saved = this.#time;
    this.#time = timeNanos;
    const result = this.#run(c, es, 'inspect_message', { caller: sender, arg, methodName: method }, (i) => i.callExport('canister_inspect_message'), false);
    this.#time = saved;
    if (!result.ok) throw userErrorOf(c.canisterId, result.error);
    if (!result.changes.messageAccepted) throw userErrorOf(c.canisterId, messageRejected());
  }

  /** `ic0.certified_data_set` data of a canister (for the state tree), or an empty array. */
  certifiedData(c: CanisterState): Uint8Array {
    return this.#states.get(c.canisterId.toText())?.certifiedData ?? this.#deps.store.execution.certifiedData(c.canisterId.toUint8Array());
  }

  // ---- checkpoint ---------------------------------------------------------------------------

  /** Writes the round's execution changes; call inside the round's transaction. */
  writeChanges(): void {
    const store = this.#deps.store;
    for (const k of this.#deleted) store.execution.remove(Principal.fromText(k).toUint8Array());
    for (const k of this.#touched) {
      const es = this.#states.get(k);
      if (es) saveExecutionState(store, Principal.fromText(k).toUint8Array(), es);
    }
    if (this.#queueDirty) store.execution.saveQueue(this.#queue);
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.#touched.clear();
    this.#deleted.clear();
    this.#queueDirty = false;
  }
}

/** The response to a request, carrying `refund` cycles back. */
function responseTo(req: CanisterRequest, refund: bigint, payload: ResponsePayload): CanisterResponse {
  return {
    kind: 'response',
    originator: req.sender,
    respondent: req.receiver,
    originatorCallbackId: req.senderCallbackId,
    refund,
    payload,
    deadlineNanos: req.deadlineNanos,
  };
}

/** A failure as a reject payload: canister callers see `ICxxxx: ` before the text (UserError Display). */
function rejectPayloadOf(e: IcError, origin: CallOrigin): ResponsePayload {
  return { kind: 'reject', code: e.rejectCode, message: origin.kind === 'canister' ? `${errorCodeText(e.code)}: ${e.message}` : e.message };
}

function rejected(e: IcError): MessageOutcome {
  return { kind: 'rejected', rejectCode: e.rejectCode, rejectMessage: e.message, errorCode: errorCodeText(e.code) };
}

/** The caller of a call context (the management canister's id for system tasks). */
function callerOf(cc: CallContext): Principal {
  if (cc.origin.kind === 'ingress') return Principal.fromText(cc.origin.sender);
  if (cc.origin.kind === 'canister') return Principal.fromText(cc.origin.caller);
  return Principal.managementCanister();
}

export { CallContextManager };
