/**
 * Canister snapshots in SQLite (interface spec §"IC method take_canister_snapshot"): per snapshot
 * one row (owner, time, size, module, metadata as JSON) and its non-zero pages — Wasm memory
 * (kind 0, 4 KiB) and stable memory (kind 1, 64 KiB) — as separate rows.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** A snapshot's listing entry. */
export interface SnapshotSummary {
  /** Snapshot id: 8-byte big-endian local id ‖ canister id bytes. */
  id: Uint8Array;
  canisterId: Uint8Array;
  takenAtNanos: bigint;
  /** Bytes: module + memories + certified data. */
  totalSize: bigint;
}

/** Everything a snapshot holds to restore its canister. */
export interface SnapshotContent {
  module: Uint8Array | null;
  moduleHash: Uint8Array | null;
  /** Wasm memory size, bytes, and its non-zero 4 KiB pages. */
  memoryBytes: number;
  memoryPages: [number, Uint8Array][];
  /** Mutable globals as the instance stores them. */
  globals: (number | string | null)[];
  /** Stable memory size, 64 KiB pages, and its non-zero pages. */
  stablePages: bigint;
  stablePageData: [number, Uint8Array][];
  certifiedData: Uint8Array;
  globalTimerNanos: bigint;
  canisterVersion: bigint;
  /** How it was made: taken from the canister, or created by upload_canister_snapshot_metadata. */
  source?: 'taken' | 'uploaded';
}

/** A snapshot in full. */
export interface StoredSnapshot extends SnapshotSummary {
  content: SnapshotContent;
}

interface Meta {
  moduleHash: string | null;
  memoryBytes: number;
  globals: (number | string | null)[];
  stablePages: string;
  certifiedData: string;
  globalTimerNanos: string;
  canisterVersion: string;
  source?: 'taken' | 'uploaded';
}

const WASM = 0;
const STABLE = 1;

/** Reads and writes snapshots; writes run inside the round's transaction. */
export class CanisterSnapshotRepository {
  readonly #list: Database.Statement;
  readonly #get: Database.Statement;
  readonly #pages: Database.Statement;
  readonly #insert: Database.Statement;
  readonly #insertPage: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #deletePages: Database.Statement;

  constructor(db: Db) {
    this.#list = db.prepare('SELECT snapshot_id, canister_id, taken_at_nanos, total_size FROM canister_snapshots WHERE canister_id = ? ORDER BY taken_at_nanos, snapshot_id');
    this.#get = db.prepare('SELECT snapshot_id, canister_id, taken_at_nanos, total_size, module, meta FROM canister_snapshots WHERE snapshot_id = ?');
    this.#pages = db.prepare('SELECT page, bytes FROM canister_snapshot_pages WHERE snapshot_id = ? AND kind = ? ORDER BY page');
    this.#insert = db.prepare('INSERT OR REPLACE INTO canister_snapshots (snapshot_id, canister_id, taken_at_nanos, total_size, module, meta) VALUES (?, ?, ?, ?, ?, ?)');
    this.#insertPage = db.prepare('INSERT OR REPLACE INTO canister_snapshot_pages (snapshot_id, kind, page, bytes) VALUES (?, ?, ?, ?)');
    this.#delete = db.prepare('DELETE FROM canister_snapshots WHERE snapshot_id = ?');
    this.#deletePages = db.prepare('DELETE FROM canister_snapshot_pages WHERE snapshot_id = ?');
  }

  /** A canister's snapshots, oldest first. */
  list(canisterId: Uint8Array): SnapshotSummary[] {
    return (this.#list.safeIntegers(true).all(Buffer.from(canisterId)) as { snapshot_id: Buffer; canister_id: Buffer; taken_at_nanos: bigint; total_size: bigint }[]).map((r) => ({
      id: new Uint8Array(r.snapshot_id),
      canisterId: new Uint8Array(r.canister_id),
      takenAtNanos: BigInt(r.taken_at_nanos),
      totalSize: BigInt(r.total_size),
    }));
  }

  /** A snapshot in full, or undefined. */
  get(snapshotId: Uint8Array): StoredSnapshot | undefined {
    const r = this.#get.safeIntegers(true).get(Buffer.from(snapshotId)) as
      | { snapshot_id: Buffer; canister_id: Buffer; taken_at_nanos: bigint; total_size: bigint; module: Buffer | null; meta: string }
      | undefined;
    if (!r) return undefined;
    const m = JSON.parse(r.meta) as Meta;
    const pages = (kind: number): [number, Uint8Array][] =>
      (this.#pages.safeIntegers(false).all(Buffer.from(snapshotId), kind) as { page: number; bytes: Buffer }[]).map((p) => [p.page, new Uint8Array(p.bytes)]);
    return {
      id: new Uint8Array(r.snapshot_id),
      canisterId: new Uint8Array(r.canister_id),
      takenAtNanos: BigInt(r.taken_at_nanos),
      totalSize: BigInt(r.total_size),
      content: {
        module: r.module ? new Uint8Array(r.module) : null,
        moduleHash: m.moduleHash ? new Uint8Array(Buffer.from(m.moduleHash, 'hex')) : null,
        memoryBytes: m.memoryBytes,
        memoryPages: pages(WASM),
        globals: m.globals,
        stablePages: BigInt(m.stablePages),
        stablePageData: pages(STABLE),
        certifiedData: new Uint8Array(Buffer.from(m.certifiedData, 'hex')),
        globalTimerNanos: BigInt(m.globalTimerNanos),
        canisterVersion: BigInt(m.canisterVersion),
        source: m.source ?? 'taken',
      },
    };
  }

  /** Stores a snapshot (replacing one with the same id). */
  put(s: StoredSnapshot): void {
    const c = s.content;
    const meta: Meta = {
      moduleHash: c.moduleHash ? Buffer.from(c.moduleHash).toString('hex') : null,
      memoryBytes: c.memoryBytes,
      globals: c.globals,
      stablePages: c.stablePages.toString(),
      certifiedData: Buffer.from(c.certifiedData).toString('hex'),
      globalTimerNanos: c.globalTimerNanos.toString(),
      canisterVersion: c.canisterVersion.toString(),
      source: c.source ?? 'taken',
    };
    const id = Buffer.from(s.id);
    this.#deletePages.run(id);
    this.#insert.run(id, Buffer.from(s.canisterId), s.takenAtNanos, s.totalSize, c.module ? Buffer.from(c.module) : null, JSON.stringify(meta));
    for (const [p, b] of c.memoryPages) this.#insertPage.run(id, WASM, p, Buffer.from(b));
    for (const [p, b] of c.stablePageData) this.#insertPage.run(id, STABLE, p, Buffer.from(b));
  }

  /** Deletes a snapshot and its pages. */
  delete(snapshotId: Uint8Array): void {
    this.#delete.run(Buffer.from(snapshotId));
    this.#deletePages.run(Buffer.from(snapshotId));
  }
}
