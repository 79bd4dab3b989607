/**
 * `ic0.performance_counter(1)` (interface spec §"Performance counter"; ../shared/reference/cycles.md
 * §5): the instructions of the whole call context so far — every earlier execution in it (the
 * update, earlier callbacks) plus the current one — while counter 0 restarts with each
 * execution. A WAT canister reads both counters at the end of an update that calls itself, and
 * again in the reply callback; the expected values follow from the metering rules (each
 * `performance_counter` call costs 200, a block is charged at its start, 1000 per written 4 KiB
 * heap page after the execution). Also: what a debug_print costs, read the same way.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

/**
 * `start`: calls its own `pong`, then stores pc(0), pc(1) at 0 and 8 (the last things it does).
 * The reply callback stores pc(0), pc(1) at 16 and 24 and replies with the 32 bytes. All writes
 * are on heap page 0.
 */
const WAT = `
(module
  (import "ic0" "performance_counter" (func $pc (param i32) (result i64)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "debug_print" (func $print (param i32 i32)))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $on_reply $on_reject)
  (data (i32.const 200) "pong")
  (func $on_reply (param i32)
    (i64.store (i32.const 16) (call $pc (i32.const 0)))
    (i64.store (i32.const 24) (call $pc (i32.const 1)))
    (call $append (i32.const 0) (i32.const 32))
    (call $reply))
  (func $on_reject (param i32) (call $reply))
  (func (export "canister_update pong") (call $reply))
  (func (export "canister_update print")
    (i64.store (i32.const 0) (call $pc (i32.const 0)))
    (call $print (i32.const 200) (i32.const 4))
    (i64.store (i32.const 8) (call $pc (i32.const 0)))
    (call $append (i32.const 0) (i32.const 16))
    (call $reply))
  (func (export "canister_update start")
    (call $self_copy (i32.const 100) (i32.const 0) (call $self_size))
    (call $call_new (i32.const 100) (call $self_size) (i32.const 200) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (drop (call $perform))
    (i64.store (i32.const 0) (call $pc (i32.const 0)))
    (i64.store (i32.const 8) (call $pc (i32.const 1)))))`;

describe('ic0.performance_counter(1): the call context instruction counter', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let agent: HttpAgent;
  let id: Principal;

  before(async () => {
    r = await startTestReplica({ debugPrint: () => {} });
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    id = (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
    await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: await compileWat(WAT), arg: new Uint8Array(), sender_canister_version: [] });
  });
  after(async () => {
    await r?.cleanup();
  });

  async function start(method = 'start'): Promise<bigint[]> {
    const res = await agent.call(id, { methodName: method, arg: new Uint8Array(), effectiveCanisterId: id });
    const rec = await r.replica.waitForCompletion(new Uint8Array(res.requestId), 30_000);
    assert.equal(rec?.status, 'replied');
    const reply = (rec as { reply: Uint8Array }).reply;
    const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
    return [0, 8, 16, 24].filter((o) => o < reply.length).map((o) => view.getBigUint64(o, true));
  }

  test('debug_print pays 100 + 2 × the bytes the log allocates + 50 × the bytes transmitted to it (linker.rs logging_charge_bytes)', async () => {
    const [before, after] = (await start('print')) as [bigint, bigint];
    // between the two reads: the print of 4 bytes (the log has room) and the second counter call
    assert.equal(after - before, 100n + 2n * 4n + 50n * 4n + 200n);
  });

  test('counter 1 adds the update execution to the callback; counter 0 restarts; a new call context starts from 0', async () => {
    for (let round = 0; round < 2; round++) {
      const [u0, u1, cb0, cb1] = (await start()) as [bigint, bigint, bigint, bigint];
      // In the update, no earlier execution: counter 1 is counter 0 plus the second call's 200.
      assert.equal(u1, u0 + 200n, `round ${round}: update`);
      // The update's total: u0, the pc(1) call after it, and heap page 0 written (1000).
      const update = u0 + 200n + 1_000n;
      assert.ok(cb0 < update, 'counter 0 restarted in the callback');
      assert.equal(cb1, update + cb0 + 200n, `round ${round}: callback`);
    }
  });
});
