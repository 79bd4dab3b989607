/**
 * Chain-key requests in flight (sign_with_ecdsa, sign_with_schnorr, vetkd_derive_key) in SQLite:
 * one row per accepted request, written in the round that accepted it and deleted in the round
 * that answers it, so a restart answers every request a canister has paid for.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';
import { fromJson, toJson } from './execution-repository.ts';

/** Reads and writes `sign_with_threshold_contexts`. */
export class SubnetCallContextRepository {
  readonly #all: Database.Statement;
  readonly #put: Database.Statement;
  readonly #remove: Database.Statement;

  constructor(db: Db) {
    this.#all = db.prepare('SELECT context FROM sign_with_threshold_contexts ORDER BY callback_id').pluck();
    this.#put = db.prepare('INSERT OR REPLACE INTO sign_with_threshold_contexts (callback_id, key_id, context) VALUES (?, ?, ?)');
    this.#remove = db.prepare('DELETE FROM sign_with_threshold_contexts WHERE callback_id = ?');
  }

  /** Every stored context (as {@link toJson} wrote it), oldest first. */
  loadAll(): unknown[] {
    return (this.#all.all() as string[]).map(fromJson);
  }

  /** Stores a context (call inside the round's transaction). */
  put(callbackId: number, keyId: string, context: unknown): void {
    this.#put.run(callbackId, keyId, toJson(context));
  }

  /** Deletes an answered context. */
  remove(callbackId: number): void {
    this.#remove.run(callbackId);
  }
}
