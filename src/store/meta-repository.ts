/**
 * Replica-wide values that are created once and never change afterwards: the BLS root key, the
 * node's Ed25519 key, the topology the state was created with. Stored as key → bytes.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** Small key → bytes store for replica-wide constants. */
export class MetaRepository {
  readonly #get: Database.Statement;
  readonly #insert: Database.Statement;

  constructor(db: Db) {
    this.#get = db.prepare('SELECT value FROM meta WHERE key = ?').pluck();
    this.#insert = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
  }

  /** The stored bytes for `key`, or undefined. */
  get(key: string): Uint8Array | undefined {
    const v = this.#get.get(key) as Buffer | undefined;
    return v === undefined ? undefined : new Uint8Array(v);
  }

  /**
   * Returns the value under `key`, creating it with `create()` on first use. Values are written
   * once and never replaced, so a key generated at first start stays the same for ever.
   */
  getOrCreate(key: string, create: () => Uint8Array): Uint8Array {
    const existing = this.get(key);
    if (existing) return existing;
    const value = create();
    this.#insert.run(key, Buffer.from(value));
    return value;
  }
}
