/**
 * Per-subnet canister id allocation: the next canister id a subnet will hand out, so ids are never
 * reused, even after deletion or a restart (as on the replica, ids come from the subnet's ranges in
 * increasing order).
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** Stores each subnet's next canister id (raw principal bytes). */
export class SubnetAllocationRepository {
  readonly #get: Database.Statement;
  readonly #put: Database.Statement;

  constructor(db: Db) {
    this.#get = db.prepare('SELECT next_canister FROM subnet_allocation WHERE subnet_id = ?').pluck();
    this.#put = db.prepare(`INSERT INTO subnet_allocation (subnet_id, next_canister) VALUES (?, ?)
      ON CONFLICT (subnet_id) DO UPDATE SET next_canister = excluded.next_canister`);
  }

  /** The subnet's next canister id bytes, or undefined if it has not allocated any. */
  next(subnetId: Uint8Array): Uint8Array | undefined {
    const v = this.#get.get(Buffer.from(subnetId)) as Buffer | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  /** Records the subnet's next canister id. */
  setNext(subnetId: Uint8Array, canisterId: Uint8Array): void {
    this.#put.run(Buffer.from(subnetId), Buffer.from(canisterId));
  }
}
