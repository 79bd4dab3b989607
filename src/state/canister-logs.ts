/**
 * Canister logs (interface spec §"Canister logs"): per canister, a buffer of the records that
 * replicated executions produced — each `ic0.debug_print` and each trap (`[TRAP]: …`) — with
 * increasing indices and the round's timestamp. The buffer holds at most `log_memory_limit`
 * bytes of content; the oldest records are dropped to make room. Loaded from the store on first
 * use; changes are written with the round's commit.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterLogRecord, CanisterLogRepository } from '../store/canister-log-repository.ts';
import type { StateStore } from '../store/state-store.ts';
import { principalText } from '../types/principal-text.ts';

export type { CanisterLogRecord } from '../store/canister-log-repository.ts';

interface Buffer {
  records: CanisterLogRecord[];
  bytes: number;
  nextIdx: bigint;
}

type Write = (store: StateStore) => void;

/** Every canister's log buffer. */
export class CanisterLogs {
  readonly #repo: CanisterLogRepository;
  readonly #buffers = new Map<string, Buffer>();
  #writes: Write[] = [];

  constructor(repo: CanisterLogRepository) {
    this.#repo = repo;
  }

  #buffer(id: Principal): Buffer {
    const k = principalText(id);
    let b = this.#buffers.get(k);
    if (!b) {
      const records = this.#repo.load(id.toUint8Array());
      const last = records[records.length - 1];
      b = { records, bytes: records.reduce((n, r) => n + r.content.length, 0), nextIdx: last ? last.idx + 1n : 0n };
      this.#buffers.set(k, b);
    }
    return b;
  }

  /**
   * Appends a record, then drops the oldest ones until the content fits `limitBytes`.
   * @param content the record's bytes (a record larger than the limit is cut to it)
   */
  append(id: Principal, content: Uint8Array, timestampNanos: bigint, limitBytes: number): void {
    const b = this.#buffer(id);
    const record: CanisterLogRecord = { idx: b.nextIdx++, timestamp_nanos: timestampNanos, content: content.slice(0, Math.max(0, limitBytes)) };
    b.records.push(record);
    b.bytes += record.content.length;
    while (b.bytes > limitBytes && b.records.length > 0) b.bytes -= b.records.shift()!.content.length;
    const raw = id.toUint8Array();
    const first = b.records[0]?.idx ?? b.nextIdx;
    const kept = b.records.includes(record);
    this.#writes.push((store) => {
      if (kept) store.canisterLogs.append(raw, record);
      store.canisterLogs.trimBefore(raw, first);
    });
  }

  /** The canister's records, oldest first (a copy). */
  records(id: Principal): CanisterLogRecord[] {
    return [...this.#buffer(id).records];
  }

  /** Bytes of content held for the canister (canister_status `log_memory_store_size`). */
  bytes(id: Principal): number {
    return this.#buffer(id).bytes;
  }

  /** Drops the canister's records (it was deleted or uninstalled). */
  clear(id: Principal): void {
    this.#buffers.delete(principalText(id));
    const raw = id.toUint8Array();
    this.#writes.push((store) => store.canisterLogs.clear(raw));
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
