/**
 * The store as upper layers see it: the repositories over one database, and `transaction` to make
 * a round's writes atomic (all of a round's changes land, or none do).
 */
import { openDatabase, openDatabaseReadOnly, type Db, type OpenDatabaseOptions } from './database.ts';
import type { StateDirLock } from './state-dir-lock.ts';
import { CanisterRepository } from './canister-repository.ts';
import { ExecutionRepository } from './execution-repository.ts';
import { IngressRepository } from './ingress-repository.ts';
import { MetaRepository } from './meta-repository.ts';
import { PreSignatureRepository } from './pre-signature-repository.ts';
import { SubnetAllocationRepository } from './subnet-allocation-repository.ts';
import { SubnetCallContextRepository } from './subnet-call-context-repository.ts';
import { ThresholdKeyRepository } from './threshold-key-repository.ts';
import { CanisterLogRepository } from './canister-log-repository.ts';
import { WasmChunkRepository } from './wasm-chunk-repository.ts';
import { CanisterSnapshotRepository } from './canister-snapshot-repository.ts';

/** All repositories over the replica's SQLite file. */
export class StateStore {
  readonly db: Db;
  readonly meta: MetaRepository;
  readonly canisters: CanisterRepository;
  readonly ingress: IngressRepository;
  readonly allocation: SubnetAllocationRepository;
  readonly execution: ExecutionRepository;
  readonly thresholdKeys: ThresholdKeyRepository;
  readonly subnetCallContexts: SubnetCallContextRepository;
  readonly #lock: StateDirLock | undefined;
  /** Closes the database (for a state dir: and records the clean close, store/database.ts). */
  readonly #closeDb: () => void;
  readonly canisterLogs: CanisterLogRepository;
  readonly wasmChunks: WasmChunkRepository;
  readonly snapshots: CanisterSnapshotRepository;
  readonly preSignatures: PreSignatureRepository;

  constructor(db: Db, lock?: StateDirLock, close?: () => void) {
    this.db = db;
    this.#lock = lock;
    this.#closeDb = close ?? (() => db.close());
    this.meta = new MetaRepository(db);
    this.canisters = new CanisterRepository(db);
    this.ingress = new IngressRepository(db);
    this.allocation = new SubnetAllocationRepository(db);
    this.execution = new ExecutionRepository(db);
    this.thresholdKeys = new ThresholdKeyRepository(db);
    this.subnetCallContexts = new SubnetCallContextRepository(db);
    this.canisterLogs = new CanisterLogRepository(db);
    this.wasmChunks = new WasmChunkRepository(db);
    this.snapshots = new CanisterSnapshotRepository(db);
    this.preSignatures = new PreSignatureRepository(db);
  }

  /**
   * Opens `<stateDir>/state.sqlite3` for writing, holding the state dir's lock until `close`
   * (see {@link openDatabase} for what is refused).
   */
  static open(stateDir: string, options?: OpenDatabaseOptions): StateStore {
    const { db, lock, close } = openDatabase(stateDir, options);
    return new StateStore(db, lock, close);
  }

  /** Opens an existing state read-only, without the lock (see {@link openDatabaseReadOnly}). */
  static openReadOnly(stateDir: string): StateStore {
    return new StateStore(openDatabaseReadOnly(stateDir));
  }

  /** Runs `fn` in one SQLite transaction; if it throws, nothing it wrote is kept. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** Closes the database (checkpointing the WAL). */
  close(): void {
    if (this.db.open) this.#closeDb();
    this.#lock?.release();
  }
}
