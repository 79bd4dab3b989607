/**
 * Issue 3 scope beyond the Motoko acceptance: a WAT canister whose global timer (set in
 * canister_init) fires once in real time; canister_inspect_message refusing an ingress message
 * with the replica's text; create_canister and deposit_cycles called by a canister with cycles
 * (creation fee scaled by subnet size, exact balances); and stopping, starting and deleting.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

const WAT = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "msg_reject_msg_size" (func $reject_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $reject_copy (param i32 i32 i32)))
  (import "ic0" "msg_method_name_size" (func $method_size (result i32)))
  (import "ic0" "accept_message" (func $accept))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $cycles_add (param i64 i64)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "time" (func $time (result i64)))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
  (import "ic0" "trap" (func $trap (param i32 i32)))
  (memory 2)
  (table 4 funcref)
  (elem (i32.const 0) $on_reply $on_reject $trap_in_callback $cleanup)
  (global $cleanups (mut i32) (i32.const 0))
  (global $ticks (mut i32) (i32.const 0))
  (data (i32.const 0) "DIDL\\00\\01\\7d")
  (data (i32.const 16) "create_canister")
  (data (i32.const 48) "deposit_cycles")
  (data (i32.const 80) "raw_rand")
  (data (i32.const 96) "callback trap")
  (func $trap_in_callback (param i32) (call $trap (i32.const 96) (i32.const 13)))
  (func $cleanup (param i32) (global.set $cleanups (i32.add (global.get $cleanups) (i32.const 1))))
  (func (export "canister_update trap_then_cleanup")
    ;; raw_rand replies; the reply callback traps; the cleanup callback counts
    (call $call_new (i32.const 0) (i32.const 0) (i32.const 80) (i32.const 8) (i32.const 2) (i32.const 0) (i32.const 2) (i32.const 0))
    (call $on_cleanup (i32.const 3) (i32.const 0))
    (call $call_data (i32.const 0) (i32.const 6))
    (drop (call $perform)))
  (func (export "canister_query cleanups")
    (i32.store8 (i32.const 7) (global.get $cleanups))
    (call $append (i32.const 0) (i32.const 8)) (call $reply))
  ;; forward the callee's reply, or reject with its reject message
  (func $on_reply (param i32)
    (call $arg_copy (i32.const 1024) (i32.const 0) (call $arg_size))
    (call $append (i32.const 1024) (call $arg_size)) (call $reply))
  (func $on_reject (param i32)
    (call $reject_copy (i32.const 1024) (i32.const 0) (call $reject_size))
    (call $reject (i32.const 1024) (call $reject_size)))
  ;; calls aaaaa-aa (empty principal) method at name/len with this message's argument and cycles
  (func $forward (param $name i32) (param $len i32) (param $cycles i64)
    (call $call_new (i32.const 0) (i32.const 0) (local.get $name) (local.get $len) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $arg_copy (i32.const 1024) (i32.const 0) (call $arg_size))
    (call $call_data (i32.const 1024) (call $arg_size))
    (call $cycles_add (i64.const 0) (local.get $cycles))
    (drop (call $perform)))
  (func (export "canister_init")
    (drop (call $timer_set (i64.add (call $time) (i64.const 300000000)))))
  (func (export "canister_global_timer")
    (global.set $ticks (i32.add (global.get $ticks) (i32.const 1))))
  (func (export "canister_inspect_message")
    ;; refuses "forbidden" (9 bytes), accepts everything else
    (if (i32.ne (call $method_size) (i32.const 9)) (then (call $accept))))
  (func (export "canister_query ticks")
    (i32.store8 (i32.const 7) (global.get $ticks))
    (call $append (i32.const 0) (i32.const 8)) (call $reply))
  (func (export "canister_update forbidden") (call $append (i32.const 0) (i32.const 8)) (call $reply))
  (func (export "canister_update create_child") (call $forward (i32.const 16) (i32.const 15) (i64.const 2000000000000)))
  (func (export "canister_update deposit") (call $forward (i32.const 48) (i32.const 14) (i64.const 5000)))
)`;

describe('timers, inspect_message, canister-made management calls, lifecycle (WAT)', () => {
  let r: Running;
  let agent: HttpAgent;
  let id: Principal;
  let mgmt: (ecid: Principal) => any;

  before(async () => {
    const wasm = await compileWat(WAT);
    // Free cost schedule: exact transfers between canisters, not fees (cycles-fees.test.ts).
    r = await startTestReplica({ debugPrint: () => {}, costSchedule: 'free' });
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    mgmt = (ecid) => Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid }) as any;
    const anyApp = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    id = (await mgmt(anyApp).provisional_create_canister_with_cycles({ amount: [10_000_000_000_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
    await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
  });
  after(async () => {
    await r?.cleanup();
  });

  const ticks = async (): Promise<number> => {
    const q = await agent.query(id, { methodName: 'ticks', arg: IDL.encode([], []) });
    assert.equal(q.status, 'replied');
    return IDL.decode([IDL.Nat], (q as { reply: { arg: Uint8Array } }).reply.arg)[0] as unknown as number;
  };
  const balance = async (c: Principal): Promise<bigint> => (await mgmt(c).canister_status({ canister_id: c })).cycles;

  test('the global timer set in canister_init fires once, in real time', async () => {
    const deadline = Date.now() + 5000;
    while (Number(await ticks()) === 0 && Date.now() < deadline) await sleep(50);
    assert.equal(Number(await ticks()), 1);
    await sleep(400);
    assert.equal(Number(await ticks()), 1, 'a one-shot timer fires once');
  });

  test('canister_inspect_message refuses an ingress message with the replica text (IC0406)', async () => {
    // The sync call endpoint answers a refused message with a non-replicated rejection.
    const res = await agent.call(id, { methodName: 'forbidden', arg: IDL.encode([], []), effectiveCanisterId: id });
    const body = res.response.body as { reject_code?: number; reject_message?: string; error_code?: string };
    assert.equal(body.reject_code, 4);
    assert.equal(body.error_code, 'IC0406');
    assert.equal(body.reject_message, `Error from Canister ${id.toText()}: Canister rejected the message`);
    assert.equal(r.replica.state.ingress(new Uint8Array(res.requestId)), undefined, 'a refused message is not inducted');
  });

  test('create_canister from a canister: the child gets the cycles minus the creation fee', async () => {
    const before = await balance(id);
    const arg = IDL.encode([IDL.Record({ settings: IDL.Opt(IDL.Record({})), sender_canister_version: IDL.Opt(IDL.Nat64) })], [{ settings: [], sender_canister_version: [] }]);
    const res = await agent.call(id, { methodName: 'create_child', arg, effectiveCanisterId: id });
    assert.ok(res.response.ok);
    const child = [...r.replica.state.canisters()].find((c) => c.controllers.some((p) => p.toText() === id.toText()))!;
    assert.ok(child, 'the child canister exists, controlled by its creator');
    // On the free schedule creation costs nothing (PocketIC `Free`); cycles-fees.test.ts checks the fee.
    assert.equal(r.replica.execution.lifecycle.creationFee(r.replica.routing.defaultSubnet), 0n);
    assert.equal(child.cycles, 2_000_000_000_000n);
    assert.equal(await balance(id), before - 2_000_000_000_000n);
  });

  test('deposit_cycles from a canister moves exactly the attached cycles', async () => {
    const other = (await mgmt(id).provisional_create_canister_with_cycles({ amount: [1_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
    const before = await balance(id);
    const arg = IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: other }]);
    await agent.call(id, { methodName: 'deposit', arg, effectiveCanisterId: id });
    assert.equal(await balance(other), 6_000n);
    assert.equal(await balance(id), before - 5_000n);
  });

  test('a trapping callback runs the cleanup callback, keeps its changes, and rejects with the trap', async () => {
    const res = await agent.call(id, { methodName: 'trap_then_cleanup', arg: IDL.encode([], []), effectiveCanisterId: id });
    const rec = r.replica.state.ingress(new Uint8Array(res.requestId))!;
    assert.equal(rec.status, 'rejected');
    assert.equal(rec.errorCode, 'IC0503');
    assert.match(rec.rejectMessage!, new RegExp(`^Error from Canister ${id.toText()}: Canister called \`ic0.trap\` with message: 'callback trap'\.`));
    const q = await agent.query(id, { methodName: 'cleanups', arg: IDL.encode([], []) });
    assert.equal(q.status, 'replied');
    assert.equal(Number(IDL.decode([IDL.Nat], (q as { reply: { arg: Uint8Array } }).reply.arg)[0]), 1);
  });

  test('a stopped canister refuses calls with the replica text; start, stop and delete', async () => {
    await mgmt(id).stop_canister({ canister_id: id });
    await assert.rejects(agent.query(id, { methodName: 'ticks', arg: IDL.encode([], []) }).then((q) => {
      if (q.status === 'rejected') throw new Error(q.reject_message);
    }), new RegExp(`Canister ${id.toText()} is stopped`));
    await mgmt(id).start_canister({ canister_id: id });
    assert.equal(Number(await ticks()), 1);
    await mgmt(id).stop_canister({ canister_id: id });
    await mgmt(id).delete_canister({ canister_id: id });
    assert.equal(r.replica.state.canister(id), undefined);
  });
});
