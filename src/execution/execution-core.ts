/**
 * What every part of execution shares within one replica: the replica-side services, the round's
 * time, each canister's execution state (loaded lazily, with the round's dirty marks and the
 * checkpoint that writes them), the index of global timers, and running a piece of canister code
 * in a System API context (the replica's `ExecutionEnvironment` state plus the hypervisor call).
 */
import { ErrorCode } from '../types/ic-error.ts';
import { Principal } from '@icp-sdk/core/principal';
import { FEES_AT_13_NODES } from '../cycles/fee-schedule.ts';
import { SubnetCosts, type CostSchedule, type ExecutionMode, type StorageFees } from '../cycles/subnet-costs.ts';
import { canisterMetadata } from './wasm/custom-sections.ts';
import { INSTRUCTION_LIMITS } from './instruction-meter.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { MasterKey } from '../state/master-keys.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { StateStore } from '../store/state-store.ts';
import type { ExecutionState } from './execution-state.ts';
import { loadExecutionState, newExecutionState, saveExecutionState } from './execution-state-store.ts';
import { runOnInstance, runOnInstanceSliced, type ExecutionResult, type SliceHooks } from './hypervisor.ts';
import type { CanisterCode } from './execution-state.ts';
import type { ApiType } from './system-api/api-type.ts';
import type { ExecutionContext, SystemApiHost } from './system-api/execution-context.ts';
import { noChanges } from './system-api/system-state-changes.ts';
import type { CanisterHttpRequests } from '../management/management-context.ts';
import { principalText } from '../types/principal-text.ts';

/** The management canister's id (aaaaa-aa), made once: every execution context names it. */
const MANAGEMENT = Principal.managementCanister();

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
  /** Whoever answers `http_request` outcalls (PocketIC instances); absent: not served. */
  httpRequests?: CanisterHttpRequests;
  /** A sliced execution ended outside a round: its result waits for the next round. */
  requestRound(): void;
  /** `free` overrides every subnet's cost schedule; absent: each subnet's own (default `normal`). */
  costSchedule?: CostSchedule;
  /** Storage fees at 13 nodes. */
  storageFees: StorageFees;
}

/** A loaded execution state and its canister's id. */
export interface LoadedState {
  canisterId: Principal;
  es: ExecutionState;
}

/** A canister's global timer in the timer index. */
export interface TimerEntry {
  canisterId: Principal;
  /** Deadline, nanoseconds since the epoch. */
  atNanos: bigint;
}

/** System (NNS) subnets: free, bigger limits (`SubnetType::System`). */
function isSystemSubnet(subnet: Subnet): boolean {
  return subnet.kind === 'nns' || subnet.kind === 'system';
}

/** Map key of a canister (its textual id). */
const keyOf = (id: Principal): string => principalText(id);

/** Execution's shared state; see the module comment. */
export class ExecutionCore {
  readonly deps: ExecutionDeps;
  /** The time of the round (or of the query) being executed, nanoseconds since the epoch. */
  time = 0n;
  readonly #states = new Map<string, LoadedState>();
  /** Canisters whose execution state changed since the last commit. */
  readonly #touched = new Set<string>();
  /** Canisters deleted since the last commit: their stored execution state goes. */
  readonly #deleted = new Map<string, Principal>();
  /** Canisters with a global timer set. */
  readonly timers = new Map<string, TimerEntry>();
  /** What canister code's System API reports to: debug_print (replicated prints also go to the canister log). */
  readonly host: SystemApiHost;
  /**
   * Canisters in a sliced execution that yielded (the replica's paused DTS executions), by id
   * text → settles when it ended. They take no other message until then; queries and
   * inspect_message wait for it.
   */
  readonly busy = new Map<string, Promise<void>>();
  /** Results of sliced executions that ended between rounds, applied at the next round's start. */
  completions: (() => void)[] = [];
  /** Set at shutdown: sliced executions stop at their next slice end, their effects dropped. */
  closed = false;

  constructor(deps: ExecutionDeps) {
    this.deps = deps;
    this.host = {
      debugPrint: (id, text, replicated) => {
        deps.debugPrint(id, text);
        if (replicated) this.log(id, new TextEncoder().encode(text));
      },
    };
    for (const [id, t] of deps.store.execution.loadTimers()) {
      const canisterId = Principal.fromUint8Array(id);
      this.timers.set(keyOf(canisterId), { canisterId, atNanos: t });
    }
  }

  /** The canister's execution state, loaded from the store on first use. */
  state(c: CanisterState): ExecutionState {
    const k = keyOf(c.canisterId);
    let loaded = this.#states.get(k);
    if (!loaded) {
      const es = loadExecutionState(this.deps.store, c, this.host) ?? newExecutionState();
      this.#states.set(k, (loaded = { canisterId: c.canisterId, es }));
    }
    return loaded.es;
  }

  /**
   * Appends a record to the canister's log (interface spec §"Canister logs"), stamped with the
   * round's time and bounded by its log_memory_limit; for replicated executions only.
   */
  log(id: Principal, content: Uint8Array): void {
    const c = this.deps.state.canister(id);
    if (!c) return;
    this.deps.state.logs.append(id, content, this.time, Number(c.settings.log_memory_limit));
  }

  /** The execution state of a canister if it is loaded (no store read). */
  loadedState(c: CanisterState): ExecutionState | undefined {
    return this.#states.get(keyOf(c.canisterId))?.es;
  }

  /** Every loaded execution state. */
  loadedStates(): IterableIterator<LoadedState> {
    return this.#states.values();
  }

  /** Marks the canister's execution state (and its record) for the round's checkpoint. */
  touch(c: CanisterState): void {
    this.#touched.add(keyOf(c.canisterId));
    this.deps.state.markCanisterDirty(c.canisterId);
  }

  /** Forgets a deleted canister's execution state; the checkpoint removes what is stored. */
  forget(c: CanisterState): void {
    const k = keyOf(c.canisterId);
    this.#states.delete(k);
    this.timers.delete(k);
    this.#touched.delete(k);
    this.#deleted.set(k, c.canisterId);
  }

  /** The subnet hosting a canister (the default subnet when the routing table has none). */
  subnetOf(c: CanisterState): Subnet {
    return this.deps.routing.subnetOfCanister(c.canisterId) ?? this.deps.routing.defaultSubnet;
  }

  /** Sets (nanoseconds) or clears (0) the canister's global timer. */
  setTimer(c: CanisterState, es: ExecutionState, t: bigint): void {
    es.globalTimerNanos = t;
    if (t === 0n) this.timers.delete(keyOf(c.canisterId));
    else this.timers.set(keyOf(c.canisterId), { canisterId: c.canisterId, atNanos: t });
  }

  /** The System API context of one execution; `extra` overrides the defaults (no caller data, no cycles). */
  context(c: CanisterState, apiType: ApiType, extra: Partial<ExecutionContext>): ExecutionContext {
    const subnet = this.subnetOf(c);
    return {
      apiType,
      canisterId: c.canisterId,
      subnetId: subnet.subnetId,
      subnetSize: subnet.size,
      caller: MANAGEMENT,
      arg: new Uint8Array(),
      methodName: '',
      timeNanos: this.time,
      balance: c.cycles,
      cyclesAvailable: 0n,
      cyclesRefunded: 0n,
      rejectCode: 0,
      rejectMessage: '',
      responded: false,
      controllers: c.controllers,
      status: c.status === 'running' ? 1 : c.status === 'stopping' ? 2 : 3,
      version: c.version,
      rootKeyDer: this.deps.rootKeyDer,
      deadlineNanos: 0n,
      environmentVariables: c.settings.environment_variables,
      frozenReserveCycles: this.freezingThreshold(c),
      wasmMemoryLimit: c.settings.wasm_memory_limit,
      logCapacityBytes: Number(c.settings.log_memory_limit),
      logRemainingBytes: Math.max(0, Number(c.settings.log_memory_limit) - this.deps.state.logs.bytes(c.canisterId)),
      canisterCreationFee: this.costsOfSubnet(subnet).scale(FEES_AT_13_NODES.canisterCreation),
      callCost: (bytes) => this.costs(c).callCost(bytes, INSTRUCTION_LIMITS.message, this.modeOf(this.state(c))),
      thresholdFee: (method, keyId) => {
        const key = this.deps.masterKeys.get(keyId);
        // Priced by the key subnet (its size and cost schedule), as the request will be; the quote
        // is the fee table's (cycles_account_manager `*_fee`): the NNS exemption is only applied
        // when a request is paid for.
        return key ? this.costsOfSubnet(key.subnet).chainKeyFee(method) : undefined;
      },
      httpRequestCost: (requestBytes, maxResponseBytes) => this.costsOfSubnet(subnet).httpRequestFee(requestBytes, maxResponseBytes),
      changes: noChanges(),
      ...extra,
    };
  }

  /**
   * Runs canister code on the canister's instance (which must exist).
   * @param keepMemory whether successful memory changes are kept (false for queries; `pending`
   *   for the steps of a composite query, see {@link runOnInstance}).
   * @param callContextInstructions instructions of earlier executions in the call context
   *   (`performance_counter(1)`).
   */
  run(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    body: Parameters<typeof runOnInstance>[2],
    keepMemory: boolean | 'pending',
    callContextInstructions = 0n,
  ): ExecutionResult {
    // A composite query's callee in a sliced update: its instance must not be touched meanwhile.
    if (this.isBusy(c.canisterId)) {
      return {
        ok: false,
        error: { code: ErrorCode.CanisterWasmEngineError, text: `chainkey-replica: canister ${principalText(c.canisterId)} is in a long (sliced) execution; try again`, help: '' },
        instructions: 0n,
      };
    }
    const result = runOnInstance(es.instance!, this.#withQueues(this.context(c, apiType, extra), es), body, keepMemory, es.globalTimerNanos, {
      systemSubnet: this.onSystemSubnet(c),
      callContextInstructions,
    });
    if (keepMemory === true && result.ok) this.checkLowWasmMemory(c, es);
    return result;
  }

  /**
   * Gives the context the canister's outstanding calls per callee (its output queues, bounded in
   * ic0-calls.ts), counted once per execution when first asked.
   */
  #withQueues(ctx: ExecutionContext, es: ExecutionState): ExecutionContext {
    let open: Map<string, number> | undefined;
    ctx.outstandingCallsTo = (callee) => {
      if (!open) {
        open = new Map();
        for (const cb of es.callContexts.callbacks.values()) {
          const k = principalText(cb.respondent);
          open.set(k, (open.get(k) ?? 0) + 1);
        }
      }
      return open.get(principalText(callee)) ?? 0;
    };
    return ctx;
  }

  /**
   * Updates the low-memory hook status after memory may have changed (interface spec §"On low
   * Wasm memory"): the hook is due when `wasm_memory_limit - memory < wasm_memory_threshold`
   * (both settings non-zero) and was not run since the condition last became true.
   */
  checkLowWasmMemory(c: CanisterState, es: ExecutionState): void {
    const { wasm_memory_limit: limit, wasm_memory_threshold: threshold } = c.settings;
    const memory = BigInt(es.instance?.memoryBytes ?? 0);
    const low = limit > 0n && threshold > 0n && limit - memory < threshold;
    if (!low) es.lowWasmMemoryHook = undefined;
    else if (es.lowWasmMemoryHook === undefined) es.lowWasmMemoryHook = 'ready';
  }

  readonly #costs = new Map<string, SubnetCosts>();
  readonly #customSectionBytes = new Map<string, bigint>();

  /** The prices of the canister's subnet (system subnets and the free schedule charge nothing). */
  costs(c: CanisterState): SubnetCosts {
    return this.costsOfSubnet(this.subnetOf(c));
  }

  /** The prices of a subnet. */
  costsOfSubnet(subnet: Subnet): SubnetCosts {
    let costs = this.#costs.get(subnet.name);
    if (!costs) {
      const schedule = this.deps.costSchedule ?? subnet.costSchedule ?? 'normal';
      costs = new SubnetCosts(subnet.size, schedule, isSystemSubnet(subnet), this.deps.storageFees);
      this.#costs.set(subnet.name, costs);
    }
    return costs;
  }

  /**
   * Per subnet, the hashes (hex) of the modules compiled since the last checkpoint (the replica's
   * `expected_compiled_wasms`; in memory only, like the replica's, which drops it at checkpoints).
   */
  readonly #compiledWasms = new Map<string, Set<string>>();

  /** The modules the canister's subnet compiled since its last checkpoint (module hash hex). */
  compiledWasms(c: CanisterState): Set<string> {
    const k = this.subnetOf(c).name;
    let set = this.#compiledWasms.get(k);
    if (!set) this.#compiledWasms.set(k, (set = new Set()));
    return set;
  }

  /** Whether the canister's subnet is a system (NNS) subnet: bigger limits, no byte or page charges. */
  onSystemSubnet(c: CanisterState): boolean {
    return isSystemSubnet(this.subnetOf(c));
  }

  /** The canister's execution mode (wasm64 instructions cost twice as much); TypeScript canisters are wasm32. */
  modeOf(es: ExecutionState): ExecutionMode {
    return es.instance?.module.memoryType ?? 'wasm32';
  }

  /**
   * The canister's memory usage as `canister_status` reports it (`memory_size`): the module,
   * its custom sections, Wasm memory, stable memory and globals, bytes.
   */
  memoryBytes(c: CanisterState): bigint {
    const es = this.state(c);
    let sections = 0n;
    if (c.module && c.moduleHash) {
      const k = Buffer.from(c.moduleHash).toString('hex');
      let n = this.#customSectionBytes.get(k);
      if (n === undefined) {
        n = 0n;
        try {
          for (const m of canisterMetadata(c.module).values()) n += BigInt(m.content.length);
        } catch {
          /* a stored module was validated at install */
        }
        this.#customSectionBytes.set(k, n);
      }
      sections = n;
    }
    const globals = BigInt((es.instance?.module.globals.length ?? 0) * 8);
    return BigInt(c.module?.length ?? 0) + sections + BigInt(es.instance?.memoryBytes ?? 0) + es.stable.sizeBytes + globals;
  }

  /** `idle_cycles_burned_per_day`: storage (of max(memory allocation, usage)), base fee and compute allocation. */
  idleCyclesBurnedPerDay(c: CanisterState): bigint {
    return this.costs(c).idleCyclesBurnedPerDay(this.memoryBytes(c), c.settings.memory_allocation, c.settings.compute_allocation);
  }

  /** The freezing threshold in cycles: the idle burn rate over `freezing_threshold` seconds. */
  freezingThreshold(c: CanisterState): bigint {
    return this.costs(c).freezingThreshold(this.idleCyclesBurnedPerDay(c), c.settings.freezing_threshold);
  }

  /**
   * Runs non-replicated code (a query, canister_inspect_message) sliced (hypervisor.ts
   * `runOnInstanceSliced`, every change rolled back) and resolves with its result. A long one
   * yields to the event loop like an update does: from its first yield until it ends the canister
   * is busy (no message or query starts on it), while HTTP, rounds and other canisters go on.
   * Waits first if the canister is busy.
   */
  async runNonReplicated(c: CanisterState, es: ExecutionState, apiType: ApiType, extra: Partial<ExecutionContext>, body: (i: CanisterCode) => Promise<unknown>): Promise<ExecutionResult> {
    const k = keyOf(c.canisterId);
    for (let b = this.busy.get(k); b; b = this.busy.get(k)) await b;
    // Held from the start, not only once it yields: an execution that ends without yielding still
    // finishes (rollback, context cleared) a microtask after its Wasm returns, and another one
    // started in between (a caller woken by the last holder's release) had its context cleared
    // under it ("cannot be executed in start mode").
    const release = this.hold(c.canisterId);
    try {
      return await this.runNonReplicatedStep(c, es, apiType, extra, body, false, { onFirstYield: () => {}, aborted: () => this.closed });
    } finally {
      release();
    }
  }

  /**
   * {@link runNonReplicated} for a caller that keeps the canister busy itself (a composite
   * query's graph holds every canister it entered once it has yielded): no busy check; `hooks`
   * hear of the first yield; `keep` as in {@link runOnInstance}.
   */
  runNonReplicatedStep(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    body: (i: CanisterCode) => Promise<unknown>,
    keep: false | 'pending',
    hooks: SliceHooks,
  ): Promise<ExecutionResult> {
    const instance = es.instance;
    if (!instance) throw new Error(`canister ${keyOf(c.canisterId)} has no instance`); // callers check first
    const ctx = this.#withQueues(this.context(c, apiType, extra), es);
    return runOnInstanceSliced(instance, ctx, body, keep, es.globalTimerNanos, hooks, { systemSubnet: this.onSystemSubnet(c) });
  }

  /** Marks a canister busy until the returned function is called (see {@link busy}). */
  hold(canisterId: Principal): () => void {
    const k = keyOf(canisterId);
    let resolve!: () => void;
    this.busy.set(k, new Promise<void>((r) => (resolve = r)));
    return () => {
      this.busy.delete(k);
      resolve();
    };
  }

  /** Whether the canister is in a sliced execution that yielded. */
  isBusy(canisterId: Principal): boolean {
    return this.busy.has(keyOf(canisterId));
  }

  /**
   * Runs update-like code (update, replicated query, timer, callback) sliced (hypervisor.ts
   * `runOnInstanceSliced`); `then` gets the result. If the execution yields, the canister is busy
   * until it ends, the returned promise settles at that first yield (the round goes on with other
   * canisters), and `then` runs at the start of the round after the end (the replica's
   * deterministic time slicing across rounds). Otherwise `then` runs before it settles.
   */
  runSliced(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    body: (i: CanisterCode) => Promise<unknown>,
    then: (result: ExecutionResult) => void,
    keepMemory = true,
    limit?: bigint,
    callContextInstructions = 0n,
  ): Promise<void> {
    const ctx = this.#withQueues(this.context(c, apiType, extra), es);
    const metering = { systemSubnet: this.onSystemSubnet(c), callContextInstructions, ...(limit !== undefined ? { limit } : {}) };
    const given = then;
    then = (result) => {
      if (keepMemory && result.ok) this.checkLowWasmMemory(c, es);
      given(result);
    };
    const k = keyOf(c.canisterId);
    const instance = es.instance!;
    let parked = false;
    let onParked!: () => void;
    const yielded = new Promise<void>((resolve) => (onParked = resolve));
    // Busy from the start (see runNonReplicated): also an execution that does not yield ends a
    // microtask after its Wasm returns, and a query woken meanwhile must not start in between.
    const release = this.hold(c.canisterId);
    const run = runOnInstanceSliced(instance, ctx, body, keepMemory, es.globalTimerNanos, {
      onFirstYield: () => {
        parked = true;
        onParked();
      },
      aborted: () => this.closed,
    }, metering);
    const done = run.then(
      (result) => {
        if (!parked) {
          release();
          return then(result);
        }
        this.completions.push(() => {
          release();
          // Uninstalled, reinstalled or deleted meanwhile: its open contexts were answered then.
          if (this.#states.get(k)?.es.instance !== instance || !this.deps.state.canister(c.canisterId)) return;
          then(result);
        });
        this.deps.requestRound();
      },
      (e) => {
        release();
        if (!parked) throw e;
        if (!this.closed) console.error(`chainkey-replica: sliced execution on ${k} failed:`, e);
      },
    );
    return Promise.race([done, yielded]);
  }

  /**
   * Writes the changed execution states; call inside the round's transaction. A busy canister
   * (stable memory writes of an execution in flight are neither kept nor undone yet) is written
   * after its execution ends.
   */
  writeChanges(): void {
    const store = this.deps.store;
    for (const id of this.#deleted.values()) store.execution.remove(id.toUint8Array());
    for (const k of this.#touched) {
      const loaded = this.#states.get(k);
      if (loaded && !this.busy.has(k)) saveExecutionState(store, loaded.canisterId.toUint8Array(), loaded.es);
    }
  }

  /** Forgets the dirty marks after a successful commit (a busy canister's stay). */
  clearChanges(): void {
    for (const k of [...this.#touched]) if (!this.busy.has(k)) this.#touched.delete(k);
    this.#deleted.clear();
  }
}
