/**
 * Issue 12: canister logs, the wasm chunk store and snapshots through `aaaaa-aa`, called by
 * @icp-sdk/core with an actor built from candid/ic.did: log_visibility and status_visibility
 * admit others, the filter and log_memory_limit bound what comes back, install_chunked_code
 * checks the module hash, a snapshot survives a restart and loads afterwards, and uninstall_code
 * empties the chunk store and the log.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import type { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { deployTypeScriptCanister } from '../../src/canister-sdk/deploy.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { startTestReplica } from '../support/replica-fixture.ts';

const icDid = readFileSync(new URL('../../candid/ic.did', import.meta.url), 'utf8');
const counterDid = 'service : { inc : () -> (nat); get : () -> (nat) query; boom : () -> () }';
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const noSettings = {
  controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [],
  log_visibility: [], log_memory_limit: [], snapshot_visibility: [], status_visibility: [],
  minimum_incoming_canister_call_cycles: [], wasm_memory_limit: [], wasm_memory_threshold: [], environment_variables: [],
};

describe('canister logs, chunk store, snapshots', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let owner: any;
  let stranger: any;
  let counter: any;
  let id: Principal;
  let wasm: Uint8Array;
  const agents = async (url: string) => {
    const a = await HttpAgent.create({ host: url, identity: ownerId, shouldFetchRootKey: true });
    const b = await HttpAgent.create({ host: url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    return { a, b };
  };
  const ownerId = Ed25519KeyIdentity.generate();

  before(async () => {
    r = await startTestReplica({ debugPrint: () => {} });
    ({ wasm } = await compileMotokoFixture('WebCounter'));
    const { a, b } = await agents(r.url);
    owner = Actor.createActor(idlFactoryFromCandid(icDid), { agent: a, canisterId: 'aaaaa-aa' });
    stranger = Actor.createActor(idlFactoryFromCandid(icDid), { agent: b, canisterId: 'aaaaa-aa' });
    ({ canister_id: id } = await owner.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] }));
    // Query calls to aaaaa-aa go to the subnet of their effective canister id.
    owner = Actor.createActor(idlFactoryFromCandid(icDid), { agent: a, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
    stranger = Actor.createActor(idlFactoryFromCandid(icDid), { agent: b, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
    counter = Actor.createActor(idlFactoryFromCandid(counterDid), { agent: a, canisterId: id });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('install_chunked_code assembles the chunks and checks the module hash', async () => {
    const half = Math.ceil(wasm.length / 2);
    const parts = [wasm.subarray(0, half), wasm.subarray(half)];
    const hashes = [];
    for (const chunk of parts) hashes.push(await owner.upload_chunk({ canister_id: id, chunk }));
    assert.deepEqual(hashes.map((h) => Buffer.from(h.hash).toString('hex')), parts.map((p) => Buffer.from(sha256(p)).toString('hex')));
    assert.equal((await owner.stored_chunks({ canister_id: id })).length, 2);
    const args = { mode: { install: null }, target_canister: id, store_canister: [], chunk_hashes_list: hashes, arg: new Uint8Array(), sender_canister_version: [] };
    await assert.rejects(owner.install_chunked_code({ ...args, wasm_module_hash: new Uint8Array(32) }), /does not match given hash 0{64}/);
    await owner.install_chunked_code({ ...args, wasm_module_hash: sha256(wasm) });
    assert.equal(Buffer.from(r.replica.state.canister(id)!.moduleHash!).toString('hex'), Buffer.from(sha256(wasm)).toString('hex'));
    await owner.clear_chunk_store({ canister_id: id });
    assert.deepEqual(await owner.stored_chunks({ canister_id: id }), []);
  });

  test('logs: records with indices, the filter, log_visibility, log_memory_limit; status_visibility', async () => {
    await counter.inc();
    await counter.inc();
    await assert.rejects(counter.boom());
    const { canister_log_records: all } = await owner.fetch_canister_logs({ canister_id: id, filter: [] });
    assert.deepEqual(all.map((x: any) => [x.idx, text(x.content)]), [[0n, 'count is now 1'], [1n, 'count is now 2'], [2n, '[TRAP]: boom on purpose']]);
    assert.ok(all[0].timestamp_nanos <= all[2].timestamp_nanos);
    const { canister_log_records: some } = await owner.fetch_canister_logs({ canister_id: id, filter: [{ by_idx: { start: 1n, end: 2n } }] });
    assert.deepEqual(some.map((x: any) => x.idx), [1n]);
    await assert.rejects(stranger.fetch_canister_logs({ canister_id: id, filter: [] }), /Caller \S+ is not allowed to query ic00 method fetch_canister_logs/);
    await assert.rejects(stranger.canister_status({ canister_id: id }));
    await owner.update_settings({
      canister_id: id,
      settings: { ...noSettings, log_visibility: [{ public: null }], status_visibility: [{ public: null }], log_memory_limit: [30n] },
      sender_canister_version: [],
    });
    const status = await stranger.canister_status({ canister_id: id });
    assert.equal(status.settings.log_memory_limit, 30n);
    assert.deepEqual(status.settings.status_visibility, { public: null });
    await counter.inc();
    // 30 bytes hold only the newest record ('count is now 3', 14 bytes, plus the trap's 23 do not fit).
    const { canister_log_records: bounded } = await stranger.fetch_canister_logs({ canister_id: id, filter: [] });
    assert.deepEqual(bounded.map((x: any) => [x.idx, text(x.content)]), [[3n, 'count is now 3']]);
    assert.equal((await owner.canister_status({ canister_id: id })).memory_metrics.log_memory_store_size, 14n);
    // Replicated: a canister fetches the (public) logs with an inter-canister call.
    const reader = `
      import { defineCanister, update } from 'chainkey-replica/canister';
      export default defineCanister({
        candid: 'service : { count : (principal) -> (nat) }',
        methods: {
          count: update(async (ctx, id) => {
            const r = await ctx.call('aaaaa-aa', 'fetch_canister_logs', [{ canister_id: id, filter: [] }]);
            return BigInt(r.canister_log_records.length);
          }),
        },
      });`;
    const { canisterId: readerId } = await deployTypeScriptCanister({ url: r.url, source: reader });
    const { a } = await agents(r.url);
    const readerActor: any = Actor.createActor(idlFactoryFromCandid('service : { count : (principal) -> (nat) }'), { agent: a, canisterId: readerId });
    assert.equal(await readerActor.count(id), 1n);
  });

  test('a snapshot survives a restart and loads afterwards', async () => {
    await owner.stop_canister({ canister_id: id });
    const snap = await owner.take_canister_snapshot({ canister_id: id, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] });
    assert.equal((await owner.canister_status({ canister_id: id })).memory_metrics.snapshots_size, snap.total_size);
    await owner.start_canister({ canister_id: id });
    assert.equal(await counter.inc(), 4n);
    const { stateDir } = r;
    await r.stop();
    r = { ...(await startTestReplica({ stateDir, debugPrint: () => {} })), stateDir };
    const { a } = await agents(r.url);
    owner = Actor.createActor(idlFactoryFromCandid(icDid), { agent: a, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
    counter = Actor.createActor(idlFactoryFromCandid(counterDid), { agent: a, canisterId: id });
    const listed = await owner.list_canister_snapshots({ canister_id: id });
    assert.deepEqual(listed.map((s: any) => Buffer.from(s.id).toString('hex')), [Buffer.from(snap.id).toString('hex')]);
    await owner.stop_canister({ canister_id: id });
    await owner.load_canister_snapshot({ canister_id: id, snapshot_id: snap.id, sender_canister_version: [] });
    await owner.start_canister({ canister_id: id });
    assert.equal(await counter.get(), 3n);
    await owner.delete_canister_snapshot({ canister_id: id, snapshot_id: snap.id });
    assert.deepEqual(await owner.list_canister_snapshots({ canister_id: id }), []);
    await assert.rejects(owner.load_canister_snapshot({ canister_id: id, snapshot_id: snap.id, sender_canister_version: [] }), /Could not find the snapshot ID/);
  });

  test('uninstall_code empties the chunk store and the log (spec: chunk_store = (), canister_logs = []); snapshots stay', async () => {
    await counter.inc();
    await owner.upload_chunk({ canister_id: id, chunk: new Uint8Array([1, 2, 3]) });
    const snap = await owner.take_canister_snapshot({ canister_id: id, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] });
    assert.notDeepEqual((await owner.fetch_canister_logs({ canister_id: id, filter: [] })).canister_log_records, []);
    assert.equal((await owner.stored_chunks({ canister_id: id })).length, 1);
    await owner.uninstall_code({ canister_id: id, sender_canister_version: [] });
    assert.deepEqual((await owner.fetch_canister_logs({ canister_id: id, filter: [] })).canister_log_records, []);
    assert.deepEqual(await owner.stored_chunks({ canister_id: id }), []);
    assert.equal((await owner.canister_status({ canister_id: id })).memory_metrics.log_memory_store_size, 0n);
    assert.equal((await owner.list_canister_snapshots({ canister_id: id })).length, 1);
    await owner.delete_canister_snapshot({ canister_id: id, snapshot_id: snap.id });
  });
});
