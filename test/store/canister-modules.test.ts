/**
 * Installed modules live in a table of their own (migration 11), so the canister row a round
 * rewrites (its balance) carries no module: a state dir of the version before keeps its modules
 * (moved at the migration), and a module is written, replaced and deleted with its canister.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Principal } from '@icp-sdk/core/principal';
import { migrations } from '../../src/store/schema.ts';
import { StateStore } from '../../src/store/state-store.ts';
import type { CanisterRecord } from '../../src/store/canister-repository.ts';

const id = Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai');

test('modules move to their own table at the migration; written, replaced and deleted with the canister', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ckr-modules-'));
  try {
    // A state dir at the version before: the module in the canister row.
    const old = new Database(join(dir, 'state.sqlite3'));
    old.pragma('journal_mode = WAL');
    for (const sql of migrations.slice(0, 10)) old.exec(sql);
    old.pragma('user_version = 10');
    const module = new Uint8Array(300_000).fill(7);
    old
      .prepare(`INSERT INTO canisters (canister_id, subnet_id, status, controllers, settings, cycles, version, module, module_hash, created_at_nanos)
                VALUES (?, ?, 'running', '[]', '{}', '5', 1, ?, ?, 0)`)
      .run(Buffer.from(id.toUint8Array()), Buffer.from(Principal.anonymous().toUint8Array()), Buffer.from(module), Buffer.alloc(32, 1));
    old.close();

    const store = StateStore.open(dir);
    try {
      const [c] = store.canisters.loadAll() as [CanisterRecord];
      assert.deepEqual(c.module, module, 'the module survives the migration');
      const raw = store.db.prepare('SELECT module FROM canisters').pluck().get();
      assert.equal(raw, null, 'and the canister row no longer carries it');
      // A balance change keeps the module; a new module replaces it; none deletes it.
      store.transaction(() => store.canisters.save({ ...c, cycles: 9n }));
      assert.deepEqual(store.canisters.loadAll()[0]!.module, module);
      const next = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]);
      store.transaction(() => store.canisters.save({ ...c, module: next }));
      assert.deepEqual(store.canisters.loadAll()[0]!.module, next);
      store.transaction(() => store.canisters.save({ ...c, module: null, moduleHash: null }));
      assert.equal(store.canisters.loadAll()[0]!.module, null);
      assert.equal(store.db.prepare('SELECT count(*) FROM canister_modules').pluck().get(), 0);
      store.transaction(() => store.canisters.save({ ...c, module: next }));
      store.transaction(() => store.canisters.remove(id));
      assert.equal(store.db.prepare('SELECT count(*) FROM canister_modules').pluck().get(), 0, 'a deleted canister leaves no module');
    } finally {
      store.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
