/**
 * Canister snapshots (interface spec §"IC method take_canister_snapshot"): per canister, up to
 * {@link MAX_SNAPSHOTS_PER_CANISTER} saved copies of its module, memories, globals, certified data
 * and timer. A snapshot id is the 8-byte big-endian local id followed by the canister id (as the
 * replica forms them). Summaries are read from the store; snapshots taken or deleted in the
 * running round are held here until the round's commit writes them.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { SnapshotContent, SnapshotSummary, StoredSnapshot } from '../store/canister-snapshot-repository.ts';
import type { StateStore } from '../store/state-store.ts';
import { principalText } from '../types/principal-text.ts';

export type { SnapshotContent, SnapshotSummary, StoredSnapshot } from '../store/canister-snapshot-repository.ts';

/** Snapshots a canister may hold at once (the replica's `max_number_of_snapshots_per_canister`). */
export const MAX_SNAPSHOTS_PER_CANISTER = 10;

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Every canister's snapshots. */
export class CanisterSnapshots {
  readonly #store: StateStore;
  /** Taken this round, not committed yet: id hex → snapshot. */
  readonly #pending = new Map<string, StoredSnapshot>();
  /** Deleted this round: id hex → id. */
  readonly #deleted = new Map<string, Uint8Array>();
  /** Highest local id handed out per canister in this process. */
  readonly #lastLocal = new Map<string, bigint>();

  constructor(store: StateStore) {
    this.#store = store;
  }

  /** A canister's snapshots, oldest first. */
  list(canisterId: Principal): SnapshotSummary[] {
    const raw = canisterId.toUint8Array();
    const out = this.#store.snapshots.list(raw).filter((s) => !this.#deleted.has(hex(s.id)) && !this.#pending.has(hex(s.id)));
    for (const s of this.#pending.values()) if (hex(s.canisterId) === hex(raw)) out.push(s);
    return out.sort((a, b) => (a.takenAtNanos < b.takenAtNanos ? -1 : a.takenAtNanos > b.takenAtNanos ? 1 : 0));
  }

  /** A snapshot in full, or undefined. */
  get(snapshotId: Uint8Array): StoredSnapshot | undefined {
    const k = hex(snapshotId);
    if (this.#deleted.has(k)) return undefined;
    return this.#pending.get(k) ?? this.#store.snapshots.get(snapshotId);
  }

  /** A new snapshot id for the canister: local id (8 bytes, big-endian) ‖ canister id. */
  newId(canisterId: Principal, nowNanos: bigint): Uint8Array {
    const k = principalText(canisterId);
    let local = nowNanos;
    const last = this.#lastLocal.get(k);
    if (last !== undefined && local <= last) local = last + 1n;
    for (const s of this.list(canisterId)) {
      const v = Buffer.from(s.id.subarray(0, 8)).readBigUInt64BE();
      if (local <= v) local = v + 1n;
    }
    this.#lastLocal.set(k, local);
    const id = Buffer.alloc(8);
    id.writeBigUInt64BE(local);
    return new Uint8Array(Buffer.concat([id, canisterId.toUint8Array()]));
  }

  /** Adds a snapshot (written at the round's commit). */
  put(s: StoredSnapshot): void {
    const k = hex(s.id);
    this.#deleted.delete(k);
    this.#pending.set(k, s);
  }

  /** Deletes a snapshot. */
  delete(snapshotId: Uint8Array): void {
    const k = hex(snapshotId);
    this.#pending.delete(k);
    this.#deleted.set(k, snapshotId);
  }

  /** Deletes all of a canister's snapshots (the canister was deleted). */
  deleteAll(canisterId: Principal): void {
    for (const s of this.list(canisterId)) this.delete(s.id);
  }

  /** Writes the changes since the last commit; call inside the round's transaction. */
  writeChanges(store: StateStore): void {
    for (const id of this.#deleted.values()) store.snapshots.delete(id);
    for (const s of this.#pending.values()) store.snapshots.put(s);
  }

  /** Forgets the written changes after a successful commit. */
  clearChanges(): void {
    this.#pending.clear();
    this.#deleted.clear();
  }
}

/** Bytes a snapshot holds (canister_status `snapshots_size`, the listing's `total_size`). */
export function snapshotSize(c: SnapshotContent): bigint {
  return BigInt((c.module?.length ?? 0) + c.memoryBytes + c.certifiedData.length + c.globals.length * 8) + c.stablePages * 65_536n;
}
