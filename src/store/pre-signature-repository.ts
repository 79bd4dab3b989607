/**
 * Finished pre-signatures of the n-node threshold protocol (`idkg_pre_signatures`): public
 * records only (transcript ids and combined commitments, as JSON); the nodes' shares are rows of
 * `key_shares`. A record is deleted (in its own transaction) before its pre-signature is used,
 * so a crash can never make two signatures from one pre-signature.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** Reads and writes pre-signature records. */
export class PreSignatureRepository {
  readonly #all: Database.Statement;
  readonly #put: Database.Statement;
  readonly #remove: Database.Statement;

  constructor(db: Db) {
    this.#all = db.prepare('SELECT record FROM idkg_pre_signatures ORDER BY rowid').pluck();
    this.#put = db.prepare('INSERT OR REPLACE INTO idkg_pre_signatures (pre_signature_id, key_id, record) VALUES (?, ?, ?)');
    this.#remove = db.prepare('DELETE FROM idkg_pre_signatures WHERE pre_signature_id = ?');
  }

  /** Every stored record (JSON-decoded), oldest first. */
  all(): unknown[] {
    return (this.#all.all() as string[]).map((s) => JSON.parse(s) as unknown);
  }

  /** Stores a record. */
  put(preSignatureId: string, keyId: string, record: unknown): void {
    this.#put.run(preSignatureId, keyId, JSON.stringify(record));
  }

  /** Deletes a record. */
  remove(preSignatureId: string): void {
    this.#remove.run(preSignatureId);
  }
}
