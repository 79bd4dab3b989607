/**
 * Canister execution state in SQLite: one row per canister (memory size, globals, stable memory
 * size, timer, certified data, the call context manager's next ids and pending stops as JSON,
 * low-memory hook status), its call contexts and callbacks one JSON row each, the non-zero pages
 * of each canister's Wasm memory (4 KiB) and stable memory (64 KiB), and the queue of messages
 * between canisters left at the end of a round. Only changed pages and call context entries are
 * written per round.
 *
 * JSON encoding: bigints as `{"$n": "<decimal>"}`, bytes as `{"$b": "<base64>"}`, principals as
 * `{"$p": "<text>"}`, so rows read back exactly.
 */
import { Principal } from '@icp-sdk/core/principal';
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';
import { principalText } from '../types/principal-text.ts';

/** Which memory a page belongs to. */
export const MemoryKind = { wasm: 0, stable: 1 } as const;
export type MemoryKind = (typeof MemoryKind)[keyof typeof MemoryKind];

/** One canister's execution row. JSON fields are stored as produced by {@link toJson}. */
export interface ExecutionRow {
  memoryBytes: number;
  stablePages: bigint;
  globals: unknown;
  globalTimerNanos: bigint;
  certifiedData: Uint8Array;
  /** Read back: the parsed value. Written: a value, or its text already encoded. */
  callContexts: unknown;
  stopRequests: unknown;
  /** `canister_on_low_wasm_memory` status: undefined (condition not satisfied), `ready` or `executed`. */
  lowWasmMemoryHook: 'ready' | 'executed' | undefined;
}

/** JSON text for values with bigints, bytes and principals. */
export function toJson(v: unknown): string {
  return JSON.stringify(v, function (this: Record<string, unknown>, k, val) {
    const raw = this[k];
    if (typeof raw === 'bigint') return { $n: raw.toString() };
    if (raw instanceof Uint8Array) return { $b: Buffer.from(raw).toString('base64') };
    if (raw instanceof Principal) return { $p: principalText(raw) };
    return val;
  });
}

/**
 * JSON text a caller encoded already (e.g. with {@link toJsonMemo}); {@link ExecutionRepository.save}
 * stores it as is.
 */
export class EncodedJson {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const memo = new WeakMap<object, { values: unknown[]; text: string }>();

/**
 * {@link toJson} of an object whose fields change in place between rounds (a call context's
 * cycles, a callback's timeout flag), remembered per object: the text is reused while every own
 * field is still the same value (nested objects compared by identity, so they must be replaced,
 * not mutated). A canister with many calls in flight rewrote all their call contexts every round,
 * and encoding them was a tenth of the main thread at 64 concurrent vetKD calls.
 */
export function toJsonMemo(entry: object): string {
  const values = Object.values(entry);
  const m = memo.get(entry);
  if (m && m.values.length === values.length && m.values.every((v, i) => v === values[i])) return m.text;
  const text = toJson(entry);
  memo.set(entry, { values, text });
  return text;
}

/** Parses {@link toJson}'s output. */
export function fromJson(text: string): unknown {
  return JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      if (typeof v.$n === 'string') return BigInt(v.$n);
      if (typeof v.$b === 'string') return new Uint8Array(Buffer.from(v.$b, 'base64'));
      if (typeof v.$p === 'string') return Principal.fromText(v.$p);
    }
    return v;
  });
}

interface Row {
  memory_bytes: number;
  stable_pages: number | bigint;
  globals: string;
  global_timer_nanos: number | bigint;
  certified_data: Buffer;
  call_contexts: string;
  stop_requests: string;
  low_wasm_memory_hook: 'ready' | 'executed' | null;
}

/** Reads and writes execution state. Writes are meant to run inside the round's transaction. */
export class ExecutionRepository {
  readonly #get: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #pages: Database.Statement;
  readonly #putPage: Database.Statement;
  readonly #deletePage: Database.Statement;
  readonly #deletePages: Database.Statement;
  readonly #deleteAllPages: Database.Statement;
  readonly #timers: Database.Statement;
  readonly #certified: Database.Statement;
  readonly #queue: Database.Statement;
  readonly #clearQueue: Database.Statement;
  readonly #pushQueue: Database.Statement;
  readonly #entries: Database.Statement;
  readonly #putEntry: Database.Statement;
  readonly #deleteEntry: Database.Statement;
  readonly #deleteEntries: Database.Statement;

  constructor(db: Db) {
    this.#get = db.prepare('SELECT * FROM canister_execution WHERE canister_id = ?').safeIntegers(true);
    this.#upsert = db.prepare(`
      INSERT INTO canister_execution (canister_id, memory_bytes, stable_pages, globals, global_timer_nanos,
                                      certified_data, call_contexts, stop_requests, low_wasm_memory_hook)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
      ON CONFLICT (canister_id) DO UPDATE SET
        memory_bytes = excluded.memory_bytes, stable_pages = excluded.stable_pages, globals = excluded.globals,
        global_timer_nanos = excluded.global_timer_nanos, certified_data = excluded.certified_data,
        call_contexts = excluded.call_contexts, stop_requests = excluded.stop_requests,
        low_wasm_memory_hook = excluded.low_wasm_memory_hook`);
    this.#delete = db.prepare('DELETE FROM canister_execution WHERE canister_id = ?');
    this.#pages = db.prepare('SELECT page, bytes FROM canister_pages WHERE canister_id = ? AND memory = ? ORDER BY page');
    this.#putPage = db.prepare(
      'INSERT INTO canister_pages (canister_id, memory, page, bytes) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET bytes = excluded.bytes',
    );
    this.#deletePage = db.prepare('DELETE FROM canister_pages WHERE canister_id = ? AND memory = ? AND page = ?');
    this.#deletePages = db.prepare('DELETE FROM canister_pages WHERE canister_id = ? AND memory = ?');
    this.#deleteAllPages = db.prepare('DELETE FROM canister_pages WHERE canister_id = ?');
    this.#timers = db.prepare('SELECT canister_id, global_timer_nanos FROM canister_execution WHERE global_timer_nanos > 0').safeIntegers(true);
    this.#certified = db.prepare('SELECT certified_data FROM canister_execution WHERE canister_id = ?').pluck();
    this.#queue = db.prepare('SELECT message FROM canister_messages ORDER BY position').pluck();
    this.#clearQueue = db.prepare('DELETE FROM canister_messages');
    this.#pushQueue = db.prepare('INSERT INTO canister_messages (position, message) VALUES (?, ?)');
    this.#entries = db.prepare('SELECT kind, id, entry FROM call_context_entries WHERE canister_id = ? ORDER BY kind, id');
    this.#putEntry = db.prepare('INSERT INTO call_context_entries (canister_id, kind, id, entry) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET entry = excluded.entry');
    this.#deleteEntry = db.prepare('DELETE FROM call_context_entries WHERE canister_id = ? AND kind = ? AND id = ?');
    this.#deleteEntries = db.prepare('DELETE FROM call_context_entries WHERE canister_id = ?');
  }

  /** The canister's execution row, or undefined. @param canisterId raw principal bytes. */
  load(canisterId: Uint8Array): ExecutionRow | undefined {
    const r = this.#get.get(canisterId) as Row | undefined;
    if (!r) return undefined;
    return {
      memoryBytes: Number(r.memory_bytes),
      stablePages: BigInt(r.stable_pages),
      globals: fromJson(r.globals),
      globalTimerNanos: BigInt(r.global_timer_nanos),
      certifiedData: new Uint8Array(r.certified_data),
      callContexts: fromJson(r.call_contexts),
      stopRequests: fromJson(r.stop_requests),
      lowWasmMemoryHook: r.low_wasm_memory_hook ?? undefined,
    };
  }

  /** Writes the canister's execution row. */
  save(canisterId: Uint8Array, row: ExecutionRow): void {
    this.#upsert.run(
      canisterId,
      row.memoryBytes,
      row.stablePages,
      toJson(row.globals),
      row.globalTimerNanos,
      row.certifiedData,
      row.callContexts instanceof EncodedJson ? row.callContexts.text : toJson(row.callContexts),
      toJson(row.stopRequests),
      row.lowWasmMemoryHook ?? null,
    );
  }

  /** Deletes a canister's execution row, pages and call context entries. */
  remove(canisterId: Uint8Array): void {
    this.#delete.run(canisterId);
    this.#deleteAllPages.run(canisterId);
    this.#deleteEntries.run(canisterId);
  }

  /**
   * A canister's stored call context entries (kind 0: call context, 1: callback), in kind and id
   * order: the store text and its parsed value each.
   */
  callContextEntries(canisterId: Uint8Array): { kind: 0 | 1; id: number; text: string; value: unknown }[] {
    return (this.#entries.all(canisterId) as { kind: number; id: number; entry: string }[]).map((r) => ({
      kind: r.kind === 1 ? 1 : 0,
      id: Number(r.id),
      text: r.entry,
      value: fromJson(r.entry),
    }));
  }

  /** Writes one call context entry (store JSON text). */
  putCallContextEntry(canisterId: Uint8Array, kind: 0 | 1, id: number, text: string): void {
    this.#putEntry.run(canisterId, kind, id, text);
  }

  /** Deletes one call context entry. */
  deleteCallContextEntry(canisterId: Uint8Array, kind: 0 | 1, id: number): void {
    this.#deleteEntry.run(canisterId, kind, id);
  }

  /** Deletes every call context entry of a canister. */
  clearCallContextEntries(canisterId: Uint8Array): void {
    this.#deleteEntries.run(canisterId);
  }

  /** The stored pages of one memory, in page order. */
  pages(canisterId: Uint8Array, memory: MemoryKind): [number, Uint8Array][] {
    return (this.#pages.all(canisterId, memory) as { page: number; bytes: Buffer }[]).map((r) => [
      Number(r.page),
      new Uint8Array(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength),
    ]);
  }

  /** Stores a page, or deletes it when `bytes` is undefined (an all-zero page). */
  putPage(canisterId: Uint8Array, memory: MemoryKind, page: number, bytes: Uint8Array | undefined): void {
    if (bytes) this.#putPage.run(canisterId, memory, page, bytes);
    else this.#deletePage.run(canisterId, memory, page);
  }

  /** Deletes every page of one memory. */
  clearPages(canisterId: Uint8Array, memory: MemoryKind): void {
    this.#deletePages.run(canisterId, memory);
  }

  /** Canisters with a global timer set: [raw id, deadline nanoseconds]. */
  loadTimers(): [Uint8Array, bigint][] {
    return (this.#timers.all() as { canister_id: Buffer; global_timer_nanos: bigint }[]).map((r) => [
      new Uint8Array(r.canister_id),
      BigInt(r.global_timer_nanos),
    ]);
  }

  /** A canister's stored certified data (empty if none). */
  certifiedData(canisterId: Uint8Array): Uint8Array {
    const b = this.#certified.get(canisterId) as Buffer | undefined;
    return b ? new Uint8Array(b) : new Uint8Array();
  }

  /** The queued messages, in order (as stored by {@link saveQueue}). */
  loadQueue<T>(): T[] {
    return (this.#queue.all() as string[]).map((m) => fromJson(m) as T);
  }

  /** Replaces the stored queue. */
  saveQueue(messages: readonly unknown[]): void {
    this.#clearQueue.run();
    messages.forEach((m, i) => this.#pushQueue.run(i, toJson(m)));
  }
}
