/**
 * Canister log records in SQLite (interface spec §"Canister logs"): one row per record of a
 * canister's log buffer, keyed by the canister and the record's index. The buffer's bound
 * (log_memory_limit) is kept by the state layer, which deletes the oldest rows.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** One log record as stored and as `fetch_canister_logs` returns it. */
export interface CanisterLogRecord {
  /** Index within the canister's log, increasing from 0. */
  idx: bigint;
  /** Time of the round that produced it, nanoseconds since the epoch. */
  timestamp_nanos: bigint;
  /** The printed bytes (UTF-8 for debug_print, `[TRAP]: …` for traps). */
  content: Uint8Array;
}

interface Row {
  idx: number | bigint;
  timestamp_nanos: number | bigint;
  content: Buffer;
}

/** Reads and writes log records; writes run inside the round's transaction. */
export class CanisterLogRepository {
  readonly #load: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #trim: Database.Statement;
  readonly #clear: Database.Statement;

  constructor(db: Db) {
    this.#load = db.prepare('SELECT idx, timestamp_nanos, content FROM canister_log_records WHERE canister_id = ? ORDER BY idx');
    this.#insert = db.prepare('INSERT OR REPLACE INTO canister_log_records (canister_id, idx, timestamp_nanos, content) VALUES (?, ?, ?, ?)');
    this.#trim = db.prepare('DELETE FROM canister_log_records WHERE canister_id = ? AND idx < ?');
    this.#clear = db.prepare('DELETE FROM canister_log_records WHERE canister_id = ?');
  }

  /** A canister's records, oldest first. */
  load(canisterId: Uint8Array): CanisterLogRecord[] {
    return (this.#load.safeIntegers(true).all(Buffer.from(canisterId)) as Row[]).map((r) => ({
      idx: BigInt(r.idx),
      timestamp_nanos: BigInt(r.timestamp_nanos),
      content: new Uint8Array(r.content),
    }));
  }

  /** Stores a record. */
  append(canisterId: Uint8Array, r: CanisterLogRecord): void {
    this.#insert.run(Buffer.from(canisterId), r.idx, r.timestamp_nanos, Buffer.from(r.content));
  }

  /** Deletes the records with index below `idx`. */
  trimBefore(canisterId: Uint8Array, idx: bigint): void {
    this.#trim.run(Buffer.from(canisterId), idx);
  }

  /** Deletes all of a canister's records. */
  clear(canisterId: Uint8Array): void {
    this.#clear.run(Buffer.from(canisterId));
  }
}
