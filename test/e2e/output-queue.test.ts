/**
 * Per-canister output queues (issue 15 item 5): a canister can have at most 500 calls outstanding
 * to one callee (the replica's DEFAULT_QUEUE_CAPACITY); past that `ic0.call_perform` returns 2
 * (SYS_TRANSIENT), the call is not made and its cycles stay with the caller. Calls to another
 * callee have their own queue; once answers come back, slots free up. WAT canister (wasm32).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

// fan_out_self: 600 calls to itself ("noop") with 1 cycle each; fan_out_other: 600 calls to a
// canister that does not exist. Replies 12 bytes: calls made (i32), calls refused with 2 (i32),
// cycles balance after (i32, low bits of the 64-bit balance difference are enough here).
const WAT = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "canister_self_size" (func $self_size (result i32)))
  (import "ic0" "canister_self_copy" (func $self_copy (param i32 i32 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_cycles_add128" (func $cycles_add (param i64 i64)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "canister_cycle_balance128" (func $balance (param i32)))
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $noop_cb)
  (data (i32.const 16) "noop")
  (data (i32.const 32) "\\00\\00\\00\\00\\00\\f0\\ff\\ff\\01\\01")
  (func $noop_cb (param i32))
  (func $fan_out (param $callee i32) (param $len i32)
    (local $i i32) (local $ok i32) (local $full i32) (local $r i32)
    (call $balance (i32.const 300))
    (block $done (loop $next
      (br_if $done (i32.ge_u (local.get $i) (i32.const 600)))
      (call $call_new (local.get $callee) (local.get $len) (i32.const 16) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
      (call $cycles_add (i64.const 0) (i64.const 1))
      (local.set $r (call $perform))
      (if (i32.eqz (local.get $r)) (then (local.set $ok (i32.add (local.get $ok) (i32.const 1)))))
      (if (i32.eq (local.get $r) (i32.const 2)) (then (local.set $full (i32.add (local.get $full) (i32.const 1)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (call $balance (i32.const 400))
    (i32.store (i32.const 200) (local.get $ok))
    (i32.store (i32.const 204) (local.get $full))
    ;; cycles taken by this execution = balance before - balance after (low 32 bits)
    (i32.store (i32.const 208) (i32.sub (i32.load (i32.const 300)) (i32.load (i32.const 400))))
    (call $append (i32.const 200) (i32.const 12)) (call $reply))
  (func (export "canister_update fan_out_self")
    (call $self_copy (i32.const 64) (i32.const 0) (call $self_size))
    (call $fan_out (i32.const 64) (call $self_size)))
  (func (export "canister_update fan_out_other") (call $fan_out (i32.const 32) (i32.const 10)))
  (func (export "canister_update noop") (call $reply))
)`;

let r: Awaited<ReturnType<typeof startTestReplica>>;
let agent: HttpAgent;
let id: Principal;

before(async () => {
  // Fees off: the balance then moves by exactly the attached cycles of the calls made.
  r = await startTestReplica({ debugPrint: () => {}, costSchedule: 'free' });
  agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
  id = (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
  await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: await compileWat(WAT), arg: IDL.encode([], []), sender_canister_version: [] });
});
after(async () => {
  await r?.cleanup();
});

async function fanOut(method: string): Promise<{ made: number; refused: number; cyclesSent: number }> {
  const res = await agent.call(id, { methodName: method, arg: IDL.encode([], []), effectiveCanisterId: id });
  await r.replica.scheduler.idle();
  const status = r.replica.state.ingress(new Uint8Array(res.requestId))!;
  assert.equal(status.status, 'replied', `${method}: ${status.rejectMessage}`);
  const b = Buffer.from(status.reply!);
  return { made: b.readInt32LE(0), refused: b.readInt32LE(4), cyclesSent: b.readInt32LE(8) };
}

test('600 calls to one callee in one message: 500 made, 100 refused with SYS_TRANSIENT (2), their cycles kept', async () => {
  assert.deepEqual(await fanOut('fan_out_self'), { made: 500, refused: 100, cyclesSent: 500 });
});

test('another callee has its own queue; answered calls free their slots', async () => {
  // The 500 self-calls above have all been answered by now: the queue to self is empty again.
  for (let i = 0; i < 20 && r.replica.execution.hasQueuedMessages; i++) await r.replica.scheduler.idle();
  assert.deepEqual(await fanOut('fan_out_other'), { made: 500, refused: 100, cyclesSent: 500 });
  assert.deepEqual(await fanOut('fan_out_self'), { made: 500, refused: 100, cyclesSent: 500 });
});
