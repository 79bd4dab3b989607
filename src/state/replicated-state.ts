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
import { SubnetCallContextManager } from './subnet-call-context-manager.ts';
import { CanisterLogs } from './canister-logs.ts';
import { WasmChunkStore } from './wasm-chunk-store.ts';
import { CanisterSnapshots } from './canister-snapshots.ts';
import { principalText } from '../types/principal-text.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
/** Statuses after which an ingress entry no longer changes (until it is pruned). */
const FINAL: ReadonlySet<IngressRecord['status']> = new Set(['replied', 'rejected', 'done']);

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
  /**
   * Ingress entries held in memory: those not final yet (received, processing) and any changed
   * since the last commit or not yet taken by the certified tree. With a store, a final entry
   * leaves memory once committed and taken ({@link ingress} then reads it from the store): a
   * retained history costs SQLite rows, not JavaScript objects for every collection to walk.
   */
  readonly #ingress = new Map<string, IngressRecord>();
  /** Entries pruned since the last commit (still in the store until it deletes them). */
  readonly #prunedIngress = new Set<string>();
  /**
   * The final entries the latest certification took out of memory: the calls they answer ask for
   * their certificates next, so the witnesses read them here, not back from the store.
   */
  #lastEvicted = new Map<string, IngressRecord>();
  #ingressCount = 0;
  #store: StateStore | undefined;
  /** Until the first take after load, every stored entry is a tree change (streamed from the store). */
  #treeFromStore = false;
  readonly #nextCanister = new Map<string, Principal>();
  readonly #dirtyCanisters = new Set<string>();
  readonly #deletedCanisters = new Set<string>();
  readonly #dirtyIngress = new Set<string>();
  /** Ingress keys changed or removed since the certified state tree last took them. */
  #ingressTreeChanges = new Set<string>();
  /** For those keys: the entry as the tree last took it (undefined: it was not there). */
  #ingressAsTaken = new Map<string, IngressRecord | undefined>();
  readonly #dirtyAllocation = new Set<string>();

  /** Loads every canister and ingress entry from the store. */
  static load(store: StateStore): ReplicatedState {
    const s = new ReplicatedState();
    for (const c of store.canisters.loadAll()) s.#canisters.set(principalText(c.canisterId), c);
    s.#store = store;
    s.#ingressCount = store.ingress.count();
    for (const e of store.ingress.unfinished()) s.#ingress.set(hex(e.requestId), e);
    s.#treeFromStore = true;
    s.subnetCallContexts = SubnetCallContextManager.load(store);
    s.logs = new CanisterLogs(store.canisterLogs);
    s.chunks = new WasmChunkStore(store.wasmChunks);
    s.snapshots = new CanisterSnapshots(store);
    return s;
  }

  // ---- canisters -------------------------------------------------------------------------

  /** The canister with this id, or undefined. */
  canister(id: Principal): CanisterState | undefined {
    return this.#canisters.get(principalText(id));
  }

  /** All canisters (live view; do not mutate without {@link markCanisterDirty}). */
  canisters(): IterableIterator<CanisterState> {
    return this.#canisters.values();
  }

  /** Adds or replaces a canister and marks it for the next commit. */
  putCanister(c: CanisterState): void {
    const k = principalText(c.canisterId);
    this.#canisters.set(k, c);
    this.#deletedCanisters.delete(k);
    this.#dirtyCanisters.add(k);
  }

  /** Marks a canister changed in place so the round's commit writes it. */
  markCanisterDirty(id: Principal): void {
    this.#dirtyCanisters.add(principalText(id));
  }

  /** Removes a canister (delete_canister). */
  removeCanister(id: Principal): void {
    const k = principalText(id);
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
    const key = principalText(subnet.subnetId);
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
        if (!this.#canisters.has(principalText(id)) && !this.#deletedCanisters.has(principalText(id))) {
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
    return this.#current(hex(requestId), requestId);
  }

  #current(k: string, requestId: Uint8Array): IngressRecord | undefined {
    const e = this.#ingress.get(k);
    if (e !== undefined || this.#prunedIngress.has(k)) return e;
    return this.#lastEvicted.get(k) ?? this.#store?.ingress.get(requestId);
  }

  /** Number of ingress history entries. */
  get ingressSize(): number {
    return this.#ingressCount;
  }

  /**
   * Records a new status for a request and marks it for the next commit.
   * @param isNew the caller knows the history has no entry for it (a call just accepted): the
   *   store is not asked again
   */
  putIngress(e: IngressRecord, isNew = false): void {
    const k = hex(e.requestId);
    const previous = isNew ? undefined : this.#current(k, e.requestId);
    if (previous === undefined) this.#ingressCount++;
    this.#noteTreeChange(k, previous);
    this.#prunedIngress.delete(k);
    this.#ingress.set(k, e);
    this.#dirtyIngress.add(k);
  }

  #noteTreeChange(k: string, previous: IngressRecord | undefined): void {
    if (this.#ingressTreeChanges.has(k)) return;
    this.#ingressTreeChanges.add(k);
    this.#ingressAsTaken.set(k, previous);
  }

  /**
   * The ingress history entry for a request id as the certified state tree last took it
   * ({@link takeIngressTreeChanges}): what the latest certificate says about it.
   */
  ingressAsCertified(requestId: Uint8Array): IngressRecord | undefined {
    if (this.#treeFromStore) return undefined;
    const k = hex(requestId);
    return this.#ingressTreeChanges.has(k) ? this.#ingressAsTaken.get(k) : this.#current(k, requestId);
  }

  /**
   * Drops entries whose expiry is before `beforeNanos` (spec: kept at least until expiry): the
   * store's by its expiry index, plus those only in memory. The store deletes them at the commit.
   * @returns how many were dropped.
   */
  pruneIngress(beforeNanos: bigint): number {
    const expired = new Map<string, Uint8Array>();
    for (const { requestId } of this.#store?.ingress.expiredBefore(beforeNanos) ?? []) expired.set(hex(requestId), requestId);
    for (const [k, e] of this.#ingress) if (e.expiryNanos < beforeNanos) expired.set(k, e.requestId);
    let n = 0;
    for (const [k, requestId] of expired) {
      const e = this.#current(k, requestId);
      if (e === undefined) continue;
      this.#noteTreeChange(k, e);
      this.#ingress.delete(k);
      this.#lastEvicted.delete(k);
      this.#dirtyIngress.delete(k);
      this.#prunedIngress.add(k);
      this.#ingressCount--;
      n++;
    }
    return n;
  }

  /**
   * The ingress entries changed (`put`: current records) and removed (`removed`: 32-byte request
   * ids) since the last call, for the certified state tree; the first call after load also puts
   * every stored entry (streamed from the store: consume `put` before touching the store again).
   * Clears the set.
   */
  takeIngressTreeChanges(): { put: Iterable<IngressRecord>; removed: Uint8Array[] } {
    const changes = this.#ingressTreeChanges;
    const fromStore = this.#treeFromStore;
    const put: IngressRecord[] = [];
    const removed: Uint8Array[] = [];
    for (const k of changes) {
      const e = this.#ingress.get(k);
      if (e) put.push(e);
      else removed.push(new Uint8Array(Buffer.from(k, 'hex')));
    }
    this.#ingressTreeChanges = new Set();
    this.#ingressAsTaken.clear();
    this.#treeFromStore = false;
    this.#lastEvicted = new Map();
    this.#evictFinal(changes, this.#lastEvicted);
    const store = this.#store;
    if (!fromStore || !store) return { put, removed };
    const pruned = new Set(this.#prunedIngress);
    function* all(): Generator<IngressRecord> {
      yield* put;
      for (const e of store!.ingress.iterateAll()) {
        const k = hex(e.requestId);
        if (!changes.has(k) && !pruned.has(k)) yield e;
      }
    }
    return { put: all(), removed };
  }

  /**
   * Final, committed entries the tree has taken leave memory (with a store to read them from);
   * `keep` gets them (the latest certification's, whose certificates are asked for next).
   */
  #evictFinal(keys: Iterable<string>, keep?: Map<string, IngressRecord>): void {
    if (!this.#store) return;
    for (const k of keys) {
      const e = this.#ingress.get(k);
      if (e && FINAL.has(e.status) && !this.#dirtyIngress.has(k) && !this.#ingressTreeChanges.has(k)) {
        this.#ingress.delete(k);
        keep?.set(k, e);
      }
    }
  }

  // ---- commit ------------------------------------------------------------------------------

  /**
   * Writes everything changed since the last commit, and deletes the ingress entries pruned since
   * ({@link pruneIngress}). Call inside `store.transaction`.
   */
  writeChanges(store: StateStore): void {
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
    for (const k of this.#prunedIngress) store.ingress.delete(Buffer.from(k, 'hex'));
  }

  /** Forgets the dirty marks after a successful commit. */
  clearChanges(): void {
    this.subnetCallContexts.clearChanges();
    this.logs.clearChanges();
    this.chunks.clearChanges();
    this.snapshots.clearChanges();
    this.#dirtyCanisters.clear();
    this.#deletedCanisters.clear();
    const committed = [...this.#dirtyIngress];
    this.#dirtyIngress.clear();
    this.#evictFinal(committed);
    this.#prunedIngress.clear();
    this.#dirtyAllocation.clear();
  }
}
