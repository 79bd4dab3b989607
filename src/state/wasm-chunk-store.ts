/**
 * Each canister's wasm chunk store (interface spec §"IC method upload_chunk"): chunks keyed by
 * their SHA-256, at most {@link MAX_CHUNKS_PER_CANISTER} of them. Loaded from the store on first
 * use; changes are written with the round's commit.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { WasmChunkRepository } from '../store/wasm-chunk-repository.ts';
import type { StateStore } from '../store/state-store.ts';
import { principalText } from '../types/principal-text.ts';

/** The replica's bound on chunks per store (`wasm_chunk_store` max size 100 MiB of 1 MiB chunks). */
export const MAX_CHUNKS_PER_CANISTER = 100;

type Write = (store: StateStore) => void;

/** Every canister's chunk store. */
export class WasmChunkStore {
  readonly #repo: WasmChunkRepository;
  readonly #stores = new Map<string, Map<string, Uint8Array>>();
  #writes: Write[] = [];

  constructor(repo: WasmChunkRepository) {
    this.#repo = repo;
  }

  #store(id: Principal): Map<string, Uint8Array> {
    const k = principalText(id);
    let s = this.#stores.get(k);
    if (!s) {
      s = this.#repo.load(id.toUint8Array());
      this.#stores.set(k, s);
    }
    return s;
  }

  /** The chunks of a canister: hex SHA-256 → bytes (live view, do not mutate). */
  chunks(id: Principal): ReadonlyMap<string, Uint8Array> {
    return this.#store(id);
  }

  /** Stores a chunk under its hash (idempotent). */
  put(id: Principal, hash: Uint8Array, chunk: Uint8Array): void {
    const s = this.#store(id);
    const h = Buffer.from(hash).toString('hex');
    if (s.has(h)) return;
    s.set(h, chunk);
    const raw = id.toUint8Array();
    this.#writes.push((store) => store.wasmChunks.put(raw, hash, chunk));
  }

  /** Empties a canister's chunk store. */
  clear(id: Principal): void {
    this.#stores.set(principalText(id), new Map());
    const raw = id.toUint8Array();
    this.#writes.push((store) => store.wasmChunks.clear(raw));
  }

  /** Total bytes of the canister's chunks (canister_status `wasm_chunk_store_size`). */
  bytes(id: Principal): number {
    let n = 0;
    for (const c of this.#store(id).values()) n += c.length;
    return n;
  }

  /** Writes the changes since the last commit; call inside the round's transaction. */
  writeChanges(store: StateStore): void {
    for (const w of this.#writes) w(store);
  }

  /** Forgets the written changes after a successful commit. */
  clearChanges(): void {
    this.#writes = [];
  }
}
