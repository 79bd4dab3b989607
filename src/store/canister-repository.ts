/**
 * Canister records in SQLite: identity, subnet, lifecycle status, controllers, settings, cycles
 * balance, version and the installed module (in a table of its own, `canister_modules`: the
 * canister's row is rewritten every round it runs, and SQLite rewrites a row whole). Execution
 * keeps the live copy in memory and writes changed records back inside the round's transaction.
 */
import { Principal } from '@icp-sdk/core/principal';
import type Database from 'better-sqlite3';
import type { CanisterSettings, CanisterStatus } from '../types/canister-settings.ts';
import type { Db } from './database.ts';
import { principalText } from '../types/principal-text.ts';

export type { CanisterSettings, CanisterStatus, LogVisibility } from '../types/canister-settings.ts';

/** One canister as stored. */
export interface CanisterRecord {
  canisterId: Principal;
  subnetId: Principal;
  status: CanisterStatus;
  controllers: Principal[];
  settings: CanisterSettings;
  /** Balance in cycles. */
  cycles: bigint;
  /** Canister version (spec: bumped by every install, settings change, ...). */
  version: bigint;
  /** The installed Wasm module (as uploaded, possibly gzipped), or null when empty. */
  module: Uint8Array | null;
  /** SHA-256 of `module`, 32 bytes, or null when empty. */
  moduleHash: Uint8Array | null;
  /** Creation time, nanoseconds since the epoch. */
  createdAtNanos: bigint;
  /**
   * Round time up to which storage, the base fee and compute allocation are paid, nanoseconds
   * since the epoch (`time_of_last_allocation_charge`); undefined until the first round that
   * charges the canister sees it (a canister of an older state dir).
   */
  resourcesChargedAtNanos?: bigint;
}

interface Row {
  canister_id: Buffer;
  subnet_id: Buffer;
  status: CanisterStatus;
  controllers: string;
  settings: string;
  cycles: string;
  version: number | bigint;
  module: Buffer | null;
  module_hash: Buffer | null;
  created_at_nanos: number | bigint;
  resources_charged_at_nanos: number | bigint | null;
}

function settingsToJson(s: CanisterSettings): string {
  return JSON.stringify(s, (_k, v) => {
    if (typeof v === 'bigint') return { $n: v.toString() };
    if (v instanceof Principal) return { $p: principalText(v) };
    if (v && typeof v === 'object' && (v as { _isPrincipal?: boolean })._isPrincipal) {
      return { $p: Principal.from(v).toText() };
    }
    return v;
  });
}

/** Values of settings added after a state dir was created (spec defaults). */
const LATER_SETTINGS = {
  log_memory_limit: 4096n,
  snapshot_visibility: { controllers: null },
  status_visibility: { controllers: null },
  minimum_incoming_canister_call_cycles: 0n,
} as const;

function settingsFromJson(text: string): CanisterSettings {
  const parsed = JSON.parse(text, (_k, v) => {
    if (v && typeof v === 'object' && typeof v.$n === 'string') return BigInt(v.$n);
    if (v && typeof v === 'object' && typeof v.$p === 'string') return Principal.fromText(v.$p);
    return v;
  }) as CanisterSettings;
  return { ...LATER_SETTINGS, ...parsed };
}

function fromRow(r: Row): CanisterRecord {
  return {
    canisterId: Principal.fromUint8Array(new Uint8Array(r.canister_id)),
    subnetId: Principal.fromUint8Array(new Uint8Array(r.subnet_id)),
    status: r.status,
    controllers: (JSON.parse(r.controllers) as string[]).map((t) => Principal.fromText(t)),
    settings: settingsFromJson(r.settings),
    cycles: BigInt(r.cycles),
    version: BigInt(r.version),
    module: r.module ? new Uint8Array(r.module) : null,
    moduleHash: r.module_hash ? new Uint8Array(r.module_hash) : null,
    createdAtNanos: BigInt(r.created_at_nanos),
    ...(r.resources_charged_at_nanos !== null ? { resourcesChargedAtNanos: BigInt(r.resources_charged_at_nanos) } : {}),
  };
}

/** Reads and writes canister records. Writes are meant to run inside a caller's transaction. */
export class CanisterRepository {
  readonly #upsert: Database.Statement;
  readonly #delete: Database.Statement;
  readonly #all: Database.Statement;
  readonly #updateWithoutModule: Database.Statement;
  readonly #putModule: Database.Statement;
  readonly #deleteModule: Database.Statement;
  /** Canister id text → the module object last written or read (identity, not content). */
  readonly #storedModule = new Map<string, Uint8Array | null>();

  constructor(db: Db) {
    this.#upsert = db.prepare(`
      INSERT INTO canisters (canister_id, subnet_id, status, controllers, settings, cycles, version,
                             module, module_hash, created_at_nanos, resources_charged_at_nanos)
      VALUES (@canister_id, @subnet_id, @status, @controllers, @settings, @cycles, @version,
              NULL, @module_hash, @created_at_nanos, @resources_charged_at_nanos)
      ON CONFLICT (canister_id) DO UPDATE SET
        subnet_id = excluded.subnet_id, status = excluded.status, controllers = excluded.controllers,
        settings = excluded.settings, cycles = excluded.cycles, version = excluded.version,
        module = NULL, module_hash = excluded.module_hash,
        resources_charged_at_nanos = excluded.resources_charged_at_nanos`);
    this.#delete = db.prepare('DELETE FROM canisters WHERE canister_id = ?');
    this.#putModule = db.prepare('INSERT INTO canister_modules (canister_id, module) VALUES (?, ?) ON CONFLICT DO UPDATE SET module = excluded.module');
    this.#deleteModule = db.prepare('DELETE FROM canister_modules WHERE canister_id = ?');
    // Times in nanoseconds exceed 2^53: read integers as bigints, not doubles.
    this.#all = db
      .prepare(
        `SELECT c.canister_id, c.subnet_id, c.status, c.controllers, c.settings, c.cycles, c.version,
                m.module AS module, c.module_hash, c.created_at_nanos, c.resources_charged_at_nanos
         FROM canisters c LEFT JOIN canister_modules m ON m.canister_id = c.canister_id`,
      )
      .safeIntegers(true);
    this.#updateWithoutModule = db.prepare(`
      UPDATE canisters SET subnet_id = @subnet_id, status = @status, controllers = @controllers,
        settings = @settings, cycles = @cycles, version = @version,
        resources_charged_at_nanos = @resources_charged_at_nanos
      WHERE canister_id = @canister_id`);
  }

  /** Every stored canister. */
  loadAll(): CanisterRecord[] {
    const all = (this.#all.all() as Row[]).map(fromRow);
    for (const c of all) this.#storedModule.set(principalText(c.canisterId), c.module);
    return all;
  }

  /**
   * Inserts or replaces one canister record. The module (hundreds of KiB) is only written when
   * it is not the very object last stored or loaded for this canister, so a record changed by
   * every message (its balance) does not rewrite its module each round.
   */
  save(c: CanisterRecord): void {
    const key = principalText(c.canisterId);
    const fields = {
      canister_id: Buffer.from(c.canisterId.toUint8Array()),
      subnet_id: Buffer.from(c.subnetId.toUint8Array()),
      status: c.status,
      controllers: JSON.stringify(c.controllers.map((p) => principalText(p))),
      settings: settingsToJson(c.settings),
      cycles: c.cycles.toString(),
      version: c.version,
      resources_charged_at_nanos: c.resourcesChargedAtNanos ?? null,
    };
    if (this.#storedModule.has(key) && this.#storedModule.get(key) === c.module) {
      this.#updateWithoutModule.run(fields);
      return;
    }
    this.#storedModule.set(key, c.module);
    this.#upsert.run({
      ...fields,
      module_hash: c.moduleHash ? Buffer.from(c.moduleHash) : null,
      created_at_nanos: c.createdAtNanos,
    });
    if (c.module) this.#putModule.run(fields.canister_id, Buffer.from(c.module));
    else this.#deleteModule.run(fields.canister_id);
  }

  /** Removes a canister record (delete_canister). */
  remove(canisterId: Principal): void {
    this.#storedModule.delete(principalText(canisterId));
    this.#delete.run(Buffer.from(canisterId.toUint8Array()));
    this.#deleteModule.run(Buffer.from(canisterId.toUint8Array()));
  }
}
