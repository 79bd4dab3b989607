/**
 * The ingress history in SQLite (spec §"Request status"): one row per request id with its status
 * and, once known, its reply or reject. Rows are kept at least until the request's expiry and
 * pruned after it, as the spec requires.
 */
import type Database from 'better-sqlite3';
import type { Db } from './database.ts';

/** Status of an ingress message (spec §"Overview of canister calling"). */
export type IngressStatus = 'received' | 'processing' | 'replied' | 'rejected' | 'done';

/** One ingress message's entry in the history. */
export interface IngressRecord {
  /** 32-byte request id. */
  requestId: Uint8Array;
  /** Raw principal bytes of the sender. */
  sender: Uint8Array;
  /** Raw principal bytes of the (target) canister id, empty for the management canister. */
  canisterId: Uint8Array;
  methodName: string;
  status: IngressStatus;
  /** Candid reply bytes when `replied`. */
  reply?: Uint8Array;
  rejectCode?: number;
  rejectMessage?: string;
  /** `IC0xxx` when rejected. */
  errorCode?: string;
  /** The request's `ingress_expiry`, nanoseconds since the epoch. */
  expiryNanos: bigint;
  /** Time of the last status change, nanoseconds since the epoch. */
  updatedNanos: bigint;
}

interface Row {
  request_id: Buffer;
  sender: Buffer;
  canister_id: Buffer;
  method_name: string;
  status: IngressStatus;
  reply: Buffer | null;
  reject_code: number | null;
  reject_message: string | null;
  error_code: string | null;
  expiry_nanos: number | bigint;
  updated_nanos: number | bigint;
}

/** Reads and writes the ingress history. Writes are meant to run inside a caller's transaction. */
export class IngressRepository {
  readonly #upsert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #all: Database.Statement;
  readonly #get: Database.Statement;
  readonly #expired: Database.Statement;
  readonly #count: Database.Statement;
  readonly #unfinished: Database.Statement;

  constructor(db: Db) {
    this.#upsert = db.prepare(`
      INSERT INTO ingress_history (request_id, sender, canister_id, method_name, status, reply,
        reject_code, reject_message, error_code, expiry_nanos, updated_nanos)
      VALUES (@request_id, @sender, @canister_id, @method_name, @status, @reply, @reject_code,
        @reject_message, @error_code, @expiry_nanos, @updated_nanos)
      ON CONFLICT (request_id) DO UPDATE SET status = excluded.status, reply = excluded.reply,
        reject_code = excluded.reject_code, reject_message = excluded.reject_message,
        error_code = excluded.error_code, updated_nanos = excluded.updated_nanos`);
    this.#delete = db.prepare('DELETE FROM ingress_history WHERE request_id = ?');
    this.#all = db.prepare('SELECT * FROM ingress_history').safeIntegers(true);
    this.#get = db.prepare('SELECT * FROM ingress_history WHERE request_id = ?').safeIntegers(true);
    this.#count = db.prepare('SELECT count(*) FROM ingress_history').pluck();
    this.#unfinished = db.prepare("SELECT * FROM ingress_history WHERE status IN ('received', 'processing')").safeIntegers(true);
    this.#expired = db.prepare('SELECT request_id, expiry_nanos FROM ingress_history WHERE expiry_nanos < ?').safeIntegers(true);
  }

  /** Every entry still in the history. */
  loadAll(): IngressRecord[] {
    return [...this.iterateAll()];
  }

  /** Every entry still in the history, one row at a time (for a large history: nothing kept). */
  *iterateAll(): Generator<IngressRecord> {
    for (const r of this.#all.iterate() as IterableIterator<Row>) yield recordOf(r);
  }

  /** Number of entries. */
  count(): number {
    return this.#count.get() as number;
  }

  /** The entries not yet replied, rejected or done. */
  unfinished(): IngressRecord[] {
    return (this.#unfinished.all() as Row[]).map(recordOf);
  }

  /** The entry of a 32-byte request id, or undefined. */
  get(requestId: Uint8Array): IngressRecord | undefined {
    const r = this.#get.get(Buffer.from(requestId)) as Row | undefined;
    return r === undefined ? undefined : recordOf(r);
  }

  /** Request ids (and expiries) of the entries whose expiry is before `beforeNanos` (by index). */
  expiredBefore(beforeNanos: bigint): { requestId: Uint8Array; expiryNanos: bigint }[] {
    return (this.#expired.all(beforeNanos) as { request_id: Buffer; expiry_nanos: bigint }[]).map((r) => ({ requestId: new Uint8Array(r.request_id), expiryNanos: BigInt(r.expiry_nanos) }));
  }

  /** Inserts an entry or updates its status and result. */
  save(e: IngressRecord): void {
    this.#upsert.run({
      request_id: Buffer.from(e.requestId),
      sender: Buffer.from(e.sender),
      canister_id: Buffer.from(e.canisterId),
      method_name: e.methodName,
      status: e.status,
      reply: e.reply ? Buffer.from(e.reply) : null,
      reject_code: e.rejectCode ?? null,
      reject_message: e.rejectMessage ?? null,
      error_code: e.errorCode ?? null,
      expiry_nanos: e.expiryNanos,
      updated_nanos: e.updatedNanos,
    });
  }

  /** Deletes the entry of a 32-byte request id (nothing if absent). */
  delete(requestId: Uint8Array): void {
    this.#delete.run(Buffer.from(requestId));
  }
}

function recordOf(r: Row): IngressRecord {
  return {
    requestId: new Uint8Array(r.request_id),
    sender: new Uint8Array(r.sender),
    canisterId: new Uint8Array(r.canister_id),
    methodName: r.method_name,
    status: r.status,
    ...(r.reply !== null && { reply: new Uint8Array(r.reply) }),
    ...(r.reject_code !== null && { rejectCode: Number(r.reject_code) }),
    ...(r.reject_message !== null && { rejectMessage: r.reject_message }),
    ...(r.error_code !== null && { errorCode: r.error_code }),
    expiryNanos: BigInt(r.expiry_nanos),
    updatedNanos: BigInt(r.updated_nanos),
  };
}
