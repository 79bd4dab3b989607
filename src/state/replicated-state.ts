/**
 * The replicated state held in memory while the replica runs: canisters, the ingress history,
 * chain-key requests in flight and each subnet's canister id allocation. It is loaded from the
 * store at start and written back at the end of every round, in one transaction, for exactly the
 * entries the round changed.
 */
import { Principal } from '@icp-sdk/core/principal';
import { canisterIdFromIndex, canisterIndexOf } from '../routing/canister-id.ts';
import type { Subnet } from '../routing/topology.ts';
import type { StateStore } from '../store/state-store.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { CanisterState } from './canister-state.ts';
import { ExpiryQueue } from './expiry-queue.ts';
import { SubnetCallContextManager } from './subnet-call-context-manager.ts';
import { CanisterLogs } from './canister-logs.ts';
import { WasmChunkStore } from './wasm-chunk-store.ts';
import { CanisterSnapshots } from './canister-snapshots.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Canisters, ingress history and allocation, with dirty tracking for the round's commit. */
export class ReplicatedState {
  /** Chain-key requests in flight. */
  subnetCallContexts = new SubnetCallContextManager();
  /** Canister log buffers (set by {@link load}). */
  logs!: CanisterLogs;
  /** Wasm chunk stores (set by {@link load}). */
  chunks!: WasmChunkStore;
  /** Canister snapshots (set by {@link load}). */
  snapshots!: CanisterSnapshots;
  readonly #canisters = new Map<string, CanisterState>();
  readonly #ingress = new Map<string, IngressRecord>();
  readonly #nextCanister = new Map<string, Principal>();
  readonly #dirtyCanisters = new Set<string>();
  readonly #deletedCanisters = new Set<string>();
  readonly #dirtyIngress = new Set<string>();
  /** Ingress keys by expiry, for pruning without a scan. */
  readonly #ingressByExpiry = new ExpiryQueue();
  /** Ingress keys changed or removed since the certified state tree last took them. */
  #ingressTreeChanges = new Set<string>();
  readonly #dirtyAllocation = new Set<string>();

  /** Loads every canister and ingress entry from the store. */
  static load(store: StateStore): ReplicatedState {
    const s = new ReplicatedState();
    for (const c of store.canisters.loadAll()) s.#canisters.set(c.canisterId.toText(), c);
    for (const e of store.ingress.loadAll()) {
      const k = hex(e.requestId);
      s.#ingress.set(k, e);
      s.#ingressByExpiry.push(e.expiryNanos, k);
      s.#ingressTreeChanges.add(k);
    }
    s.subnetCallContexts = SubnetCallContextManager.load(store);
    s.logs = new CanisterLogs(store.canisterLogs);
    s.chunks = new WasmChunkStore(store.wasmChunks);
    s.snapshots = new CanisterSnapshots(store);
    return s;
  }

  // ---- canisters -------------------------------------------------------------------------

  /** The canister with this id, or undefined. */
  canister(id: Principal): CanisterState | undefined {
    return this.#canisters.get(id.toText());
  }

  /** All canisters (live view; do not mutate without {@link markCanisterDirty}). */
  canisters(): IterableIterator<CanisterState> {
    return this.#canisters.values();
  }

  /** Adds or replaces a canister and marks it for the next commit. */
  putCanister(c: CanisterState): void {
    const k = c.canisterId.toText();
    this.#canisters.set(k, c);
    this.#deletedCanisters.delete(k);
    this.#dirtyCanisters.add(k);
  }

  /** Marks a canister changed in place so the round's commit writes it. */
  markCanisterDirty(id: Principal): void {
    this.#dirtyCanisters.add(id.toText());
  }

  /** Removes a canister (delete_canister). */
  removeCanister(id: Principal): void {
    const k = id.toText();
    this.#canisters.delete(k);
    this.#dirtyCanisters.delete(k);
    this.#deletedCanisters.add(k);
  }

  /**
   * Hands out the subnet's next free canister id, skipping ids already in use (e.g. taken by a
   * `specified_id`), in range order as the replica does.
   * @throws Error if the subnet's ranges are exhausted (the caller maps it to the replica's error).
   */
  allocateCanisterId(subnet: Subnet, store: StateStore): Principal {
    const key = subnet.subnetId.toText();
    let next = this.#nextCanister.get(key);
    if (!next) {
      const stored = store.allocation.next(subnet.subnetId.toUint8Array());
      next = stored ? Principal.fromUint8Array(stored) : subnet.canisterRanges[0]!.start;
    }
    let i = canisterIndexOf(next);
    for (const r of subnet.canisterRanges) {
      const a = canisterIndexOf(r.start);
      const b = canisterIndexOf(r.end);
      if (i > b) continue;
      if (i < a) i = a;
      for (; i <= b; i++) {
        const id = canisterIdFromIndex(i);
        if (!this.#canisters.has(id.toText()) && !this.#deletedCanisters.has(id.toText())) {
          this.#nextCanister.set(key, canisterIdFromIndex(i + 1n));
          this.#dirtyAllocation.add(key);
          return id;
        }
      }
    }
    throw new Error(`subnet ${subnet.name} has no canister ids left in its ranges`);
  }

  // ---- ingress history ---------------------------------------------------------------------

  /** The ingress history entry for a 32-byte request id, or undefined. */
  ingress(requestId: Uint8Array): IngressRecord | undefined {
    return this.#ingress.get(hex(requestId));
  }

  /** All ingress history entries. */
  ingressEntries(): IterableIterator<IngressRecord> {
    return this.#ingress.values();
  }

  /** Number of ingress history entries. */
  get ingressSize(): number {
    return this.#ingress.size;
  }

  /** Records a new status for a request and marks it for the next commit. */
  putIngress(e: IngressRecord): void {
    const k = hex(e.requestId);
    if (!this.#ingress.has(k)) this.#ingressByExpiry.push(e.expiryNanos, k);
    this.#ingress.set(k, e);
    this.#dirtyIngress.add(k);
    this.#ingressTreeChanges.add(k);
  }

  /**
   * Drops entries whose expiry is before `beforeNanos` (spec: kept at least until expiry), in
   * expiry order: O(k log n) for k dropped entries.
   * @returns how many were dropped.
   */
  pruneIngress(beforeNanos: bigint): number {
    let n = 0;
    for (const [expiry, k] of this.#ingressByExpiry.popBefore(beforeNanos)) {
      const e = this.#ingress.get(k);
      if (e === undefined || e.expiryNanos !== expiry) continue;
      this.#ingress.delete(k);
      this.#dirtyIngress.delete(k);
      this.#ingressTreeChanges.add(k);
      n++;
    }
    return n;
  }

  /**
   * The ingress entries changed (`put`: current records) and removed (`removed`: 32-byte request
   * ids) since the last call, for the certified state tree; the first call after load returns
   * every entry. Clears the set.
   */
  takeIngressTreeChanges(): { put: IngressRecord[]; removed: Uint8Array[] } {
    const put: IngressRecord[] = [];
    const removed: Uint8Array[] = [];
    for (const k of this.#ingressTreeChanges) {
      const e = this.#ingress.get(k);
      if (e) put.push(e);
      else removed.push(new Uint8Array(Buffer.from(k, 'hex')));
    }
    this.#ingressTreeChanges = new Set();
    return { put, removed };
  }

  // ---- commit ------------------------------------------------------------------------------

  /**
   * Writes everything changed since the last commit. Call inside `store.transaction`.
   * @param pruneBeforeNanos ingress entries with expiry before this are deleted from the store too.
   */
  writeChanges(store: StateStore, pruneBeforeNanos: bigint): void {
    this.subnetCallContexts.writeChanges(store);
    this.logs.writeChanges(store);
    this.chunks.writeChanges(store);
    this.snapshots.writeChanges(store);
    for (const k of this.#dirtyCanisters) {
      const c = this.#canisters.get(k);
      if (c) store.canisters.save(c);
    }
    for (const k of this.#deletedCanisters) store.canisters.remove(Principal.fromText(k));
    for (const k of this.#dirtyIngress) {
      const e = this.#ingress.get(k);
      if (e) store.ingress.save(e);
    }
    for (const k of this.#dirtyAllocation) {
      const next = this.#nextCanister.get(k);
      if (next) store.allocation.setNext(Principal.fromText(k).toUint8Array(), next.toUint8Array());
    }
    store.ingress.pruneExpired(pruneBeforeNanos);
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.subnetCallContexts.clearChanges();
    this.logs.clearChanges();
    this.chunks.clearChanges();
    this.snapshots.clearChanges();
    this.#dirtyCanisters.clear();
    this.#deletedCanisters.clear();
    this.#dirtyIngress.clear();
    this.#dirtyAllocation.clear();
  }
}
