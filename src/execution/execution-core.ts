/**
 * What every part of execution shares within one replica: the replica-side services, the round's
 * time, each canister's execution state (loaded lazily, with the round's dirty marks and the
 * checkpoint that writes them), the index of global timers, and running a piece of canister code
 * in a System API context (the replica's `ExecutionEnvironment` state plus the hypervisor call).
 */
import { Principal } from '@icp-sdk/core/principal';
import { thresholdRequestFee } from '../cycles/fee-schedule.ts';
import type { RoutingTable } from '../routing/routing-table.ts';
import type { Subnet } from '../routing/topology.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { MasterKey } from '../state/master-keys.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { StateStore } from '../store/state-store.ts';
import type { ExecutionState } from './execution-state.ts';
import { loadExecutionState, newExecutionState, saveExecutionState } from './execution-state-store.ts';
import { runOnInstance, type ExecutionResult } from './hypervisor.ts';
import type { ApiType } from './system-api/api-type.ts';
import type { ExecutionContext, SystemApiHost } from './system-api/execution-context.ts';
import { noChanges } from './system-api/system-state-changes.ts';

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

/** Map key of a canister (its textual id). */
const keyOf = (id: Principal): string => id.toText();

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
      caller: Principal.managementCanister(),
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
      frozenReserveCycles: 0n,
      wasmMemoryLimit: c.settings.wasm_memory_limit,
      thresholdFee: (method, keyId) => {
        const key = this.deps.masterKeys.get(keyId);
        // The quote is the fee table's (cycles_account_manager `*_fee`): the NNS exemption is only
        // applied when a request is paid for.
        return key ? thresholdRequestFee(method, key.subnet.size, false) : undefined;
      },
      changes: noChanges(),
      ...extra,
    };
  }

  /**
   * Runs canister code on the canister's instance (which must exist).
   * @param keepMemory whether successful memory changes are kept (false for queries; `pending`
   *   for the steps of a composite query, see {@link runOnInstance}).
   */
  run(
    c: CanisterState,
    es: ExecutionState,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    body: Parameters<typeof runOnInstance>[2],
    keepMemory: boolean | 'pending',
  ): ExecutionResult {
    const ctx = this.context(c, apiType, extra);
    let open: Map<string, number> | undefined;
    ctx.outstandingCallsTo = (callee) => {
      if (!open) {
        open = new Map();
        for (const cb of es.callContexts.callbacks.values()) {
          const k = cb.respondent.toText();
          open.set(k, (open.get(k) ?? 0) + 1);
        }
      }
      return open.get(callee.toText()) ?? 0;
    };
    const result = runOnInstance(es.instance!, ctx, body, keepMemory, es.globalTimerNanos);
    if (keepMemory === true && result.ok) this.checkLowWasmMemory(c, es);
    return result;
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

  /** Writes the changed execution states; call inside the round's transaction. */
  writeChanges(): void {
    const store = this.deps.store;
    for (const id of this.#deleted.values()) store.execution.remove(id.toUint8Array());
    for (const k of this.#touched) {
      const loaded = this.#states.get(k);
      if (loaded) saveExecutionState(store, loaded.canisterId.toUint8Array(), loaded.es);
    }
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.#touched.clear();
    this.#deleted.clear();
  }
}
