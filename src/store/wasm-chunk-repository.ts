/**
 * Each canister's wasm chunk store in SQLite (interface spec §"IC method upload_chunk"): chunks
 * of at most 1 MiB keyed by their SHA-256, from which install_chunked_code assembles a module.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** Reads and writes chunks; writes run inside the round's transaction. */
export class WasmChunkRepository {
  readonly #load: Database.Statement;
  readonly #put: Database.Statement;
  readonly #clear: Database.Statement;

  constructor(db: Db) {
    this.#load = db.prepare('SELECT hash, chunk FROM wasm_chunks WHERE canister_id = ?');
    this.#put = db.prepare('INSERT OR REPLACE INTO wasm_chunks (canister_id, hash, chunk) VALUES (?, ?, ?)');
    this.#clear = db.prepare('DELETE FROM wasm_chunks WHERE canister_id = ?');
  }

  /** A canister's chunks: hex SHA-256 → bytes. */
  load(canisterId: Uint8Array): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    for (const r of this.#load.all(Buffer.from(canisterId)) as { hash: Buffer; chunk: Buffer }[]) {
      out.set(r.hash.toString('hex'), new Uint8Array(r.chunk));
    }
    return out;
  }

  /** Stores a chunk under its 32-byte hash. */
  put(canisterId: Uint8Array, hash: Uint8Array, chunk: Uint8Array): void {
    this.#put.run(Buffer.from(canisterId), Buffer.from(hash), Buffer.from(chunk));
  }

  /** Deletes all of a canister's chunks. */
  clear(canisterId: Uint8Array): void {
    this.#clear.run(Buffer.from(canisterId));
  }
}
