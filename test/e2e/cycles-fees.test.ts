/**
 * Acceptance (issue 13): a WAT canister's balance after each message is what a 13-node
 * application subnet leaves, to the cycle. Expected values are computed here from the replica's
 * formulas (dfinity/ic cycles_account_manager.rs; ../shared/reference/cycles.md §1-§2) and from
 * instruction counts worked out by hand from the WAT (the metering of instrumentation.rs: a block
 * is charged at its start, `call` 5, consts 1, ic0 base costs + bytes): ingress update, query
 * (free), inter-canister call with a reply and with a reject, `raw_rand` from `aaaaa-aa`, install
 * and upgrade, a global timer, `ic0.cost_call`, and an hour of storage on the replica's clock.
 * The signed envelope sizes (the ingress fee is per byte of it) are taken from the agent's
 * requests. For the Motoko canister (wasm64) the instruction count cannot be worked out by hand:
 * it is recovered from the balance with the formula and must be whole and the same for the same
 * work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { compileMotoko, compileMotokoFixture } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';
import { managementTypes } from '../../src/management/ic-did.ts';
import { instrument } from '../../src/execution/wasm/instrumentation.ts';
import { parseModule, readSectionHeaders } from '../../src/execution/wasm/wasm-binary.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

// ---- the replica's formulas at 13 nodes (scale_cost is the identity) ---------------------------
const ingressFee = (envelopeBytes: number): bigint => 1_200_000n + 2_000n * BigInt(envelopeBytes);
/** execution_cost(n), wasm32: 5 M base + 1 cycle per instruction. */
const execution = (instructions: bigint): bigint => 5_000_000n + instructions;
const XNET_CALL = 260_000n;
const PER_BYTE = 1_000n;
const RESPONSE_RESERVATION = 1_000n * 2n * 1024n * 1024n;
/** ic0.cost_call(m, p): transmission + response-transmission + response-execution (40 B) reservations. */
const costCall = (bytes: bigint): bigint => XNET_CALL + PER_BYTE * bytes + RESPONSE_RESERVATION + execution(40_000_000_000n);
const GIB = 1n << 30n;
/** canister_settings with nothing set (ic.did). */
const NO_SETTINGS = {
  controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [], log_visibility: [], log_memory_limit: [],
  snapshot_visibility: [], status_visibility: [], minimum_incoming_canister_call_cycles: [], wasm_memory_limit: [], wasm_memory_threshold: [], environment_variables: [],
};
const DAY = 86_400n;

/**
 * $on_reply with a reply of n bytes: entry 1 + 3 consts + 5 calls = 29; msg_arg_data_size 500 × 2,
 * msg_arg_data_copy 500 + n, msg_reply_data_append 500 + 50 n (bytes handed to the replica cost
 * 50 each), msg_reply 500; and 1000 for heap page 0 when the copied reply changed it.
 */
const onReply = (n: bigint): bigint => 29n + 2_500n + n + 50n * n + (n > 0n ? 1_000n : 0n);

/**
 * The fee canister (wasm32). Memory holds: 0: other canister id (10 bytes, set by `set_other`),
 * 16: "ok", 24: "nope", 32: "raw_rand", 48: DIDL\00\00, 64: management id (empty), 96: cost_call dst.
 */
const WAT = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "cost_call" (func $cost_call (param i64 i64 i32)))
  (import "ic0" "global_timer_set" (func $timer_set (param i64) (result i64)))
  (import "ic0" "time" (func $time (result i64)))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $on_reply $on_reject)
  (global $ticks (mut i32) (i32.const 0))
  (data (i32.const 16) "ok")
  (data (i32.const 24) "nope")
  (data (i32.const 32) "raw_rand")
  (data (i32.const 48) "DIDL\\00\\00")
  (func $on_reply (param i32) (call $arg_copy (i32.const 128) (i32.const 0) (call $arg_size)) (call $append (i32.const 128) (call $arg_size)) (call $reply))
  (func $on_reject (param i32) (call $reply))
  (func (export "canister_update ping") (call $reply))
  (func (export "canister_query peek") (call $reply))
  (func (export "canister_update set_other") (call $arg_copy (i32.const 0) (i32.const 0) (i32.const 10)) (call $reply))
  (func (export "canister_update call_ok")
    (call $call_new (i32.const 0) (i32.const 10) (i32.const 16) (i32.const 2) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (drop (call $perform)))
  (func (export "canister_update call_nope")
    (call $call_new (i32.const 0) (i32.const 10) (i32.const 24) (i32.const 4) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (drop (call $perform)))
  (func (export "canister_update rand")
    (call $call_new (i32.const 64) (i32.const 0) (i32.const 32) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_data (i32.const 48) (i32.const 6))
    (drop (call $perform)))
  (func (export "canister_update ok") (call $reply))
  (func (export "canister_update nope") (call $reject (i32.const 24) (i32.const 4)))
  (func (export "canister_query cost") (call $cost_call (i64.const 2) (i64.const 0) (i32.const 96)) (call $append (i32.const 96) (i32.const 16)) (call $reply))
  (func (export "canister_update arm") (drop (call $timer_set (call $time))) (call $reply))
  (func (export "canister_global_timer") (global.set $ticks (i32.add (global.get $ticks) (i32.const 1))))
  (func (export "canister_query ticks") (i32.store (i32.const 112) (global.get $ticks)) (call $append (i32.const 112) (i32.const 4)) (call $reply)))`;

describe('cycles: exact balances on a 13-node subnet (WAT, and a Motoko canister)', () => {
  let r: Running;
  let agent: HttpAgent;
  let a: Principal;
  let b: Principal;
  let wasm: Uint8Array;
  /** Body sizes of the agent's call requests, in order. */
  const callBodies: number[] = [];

  const balance = (id: Principal): bigint => r.replica.state.canister(id)!.cycles;
  const mgmt = (ecid: Principal): any => Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid });

  /** An update call; returns its reply (or reject) and the size of its signed envelope. */
  async function update(id: Principal, method: string, arg = new Uint8Array()) {
    const n = callBodies.length;
    const res = await agent.call(id, { methodName: method, arg, effectiveCanisterId: id });
    const record = await r.replica.waitForCompletion(new Uint8Array(res.requestId), 30_000);
    assert.equal(callBodies.length, n + 1, 'one call request was sent');
    return { record: record as { status: string; reply?: Uint8Array; rejectMessage?: string }, envelope: callBodies[n]! };
  }

  before(async () => {
    wasm = await compileWat(WAT);
    // No storage fees here: a charge every 10 s of test time would blur the per-message deltas
    // (the storage test below runs its own replica with them).
    r = await startTestReplica({ debugPrint: () => {}, storageFees: { gibStoragePerSecond: 0n, basePerSecond: 0n } });
    const recordingFetch: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/canister\/[^/]+\/call$/.test(url) && init?.body) callBodies.push((init.body as ArrayBuffer | Uint8Array).byteLength);
      return fetch(input, init);
    };
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true, fetch: recordingFetch });
    const app = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    for (const name of ['a', 'b'] as const) {
      const id = (await mgmt(app).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      if (name === 'a') a = id;
      else b = id;
    }
  });
  after(async () => {
    await r?.cleanup();
  });

  test('install: the ingress fee, 5 M and 6000 instructions per compiled instruction; a module the subnet compiled before, a hundredth', async () => {
    const raw = await compileWat(WAT);
    const count = BigInt(instrument(raw, parseModule(raw, readSectionHeaders(raw)), 'wasm32').instrumentedOperatorCount);
    // The first install compiles it in full; the subnet then has it compiled (the replica's
    // expected_compiled_wasms, until its next checkpoint): installing it on b and upgrading a
    // to it count 6000 × count / 100 (CompilationCostHandling::CountReducedAmount).
    for (const [id, compile, what] of [
      [a, 6_000n * count, 'install'],
      [b, (6_000n * count) / 100n, 'install of a module the subnet compiled'],
    ] as const) {
      const before = balance(id);
      const n = callBodies.length;
      await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] });
      // The canister pays the install_code ingress (its effective canister id) and the install.
      assert.equal(before - balance(id), ingressFee(callBodies[n]!) + execution(compile), what);
    }
    const before = balance(a);
    const n = callBodies.length;
    await mgmt(a).install_code({ mode: { upgrade: [] }, canister_id: a, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] });
    assert.equal(before - balance(a), ingressFee(callBodies[n]!) + execution((6_000n * count) / 100n), 'upgrade');
  });

  test('an ingress update: ingress fee + 5 M + its instructions; a query is free', async () => {
    let before = balance(a);
    const { envelope } = await update(a, 'ping');
    // entry 1 + call 5; msg_reply 500
    assert.equal(before - balance(a), ingressFee(envelope) + execution(1n + 5n + 500n));
    before = balance(a);
    const q = await agent.query(a, { methodName: 'peek', arg: new Uint8Array() });
    assert.equal(q.status, 'replied');
    assert.equal(balance(a), before);
  });

  test('ic0.cost_call reports transmission plus both reservations', async () => {
    const q = (await agent.query(a, { methodName: 'cost', arg: new Uint8Array() })) as { reply: { arg: Uint8Array } };
    const v = new DataView(q.reply.arg.buffer, q.reply.arg.byteOffset, 16);
    assert.equal(v.getBigUint64(0, true) + (v.getBigUint64(8, true) << 64n), costCall(2n)); // 42_102_414_000
    assert.equal(costCall(0n), 42_102_412_000n); // cycles.md §0.3
    // and create_canister's fee on this subnet (13 nodes, normal schedule)
    assert.equal(r.replica.execution.lifecycle.creationFee(r.replica.routing.defaultSubnet), 500_000_000_000n);
  });

  test('inter-canister call with a reply and with a reject: call fee, bytes, reservations refunded', async () => {
    await update(a, 'set_other', new Uint8Array(b.toUint8Array()));
    // call_ok: entry 1 + 8 consts + call 5 + call 5 + drop 1; call_new 1500 + 10 + 2 bytes; call_perform 5000
    const callOk = 1n + 8n + 5n + 5n + 1n + 1_500n + 12n + 5_000n;
    for (const [method, calleeMethod, responseBytes, calleeInstr, callbackInstr] of [
      ['call_ok', 'ok', 0n, 1n + 5n + 500n, onReply(0n)],
      // on_reject: entry 1 + call 5; msg_reply 500. The callee's msg_reject: entry 1 + 2 consts + call 5; 500 + 4 × 50 bytes.
      ['call_nope', 'nope', 4n, 1n + 2n + 5n + 500n + 4n * 50n, 1n + 5n + 500n],
    ] as const) {
      const beforeA = balance(a);
      const beforeB = balance(b);
      const { envelope } = await update(a, method);
      const instr = method === 'call_ok' ? callOk : callOk + 2n; // "nope" is 4 bytes, "ok" 2
      const expectedA =
        ingressFee(envelope) + execution(instr) + XNET_CALL + PER_BYTE * BigInt(calleeMethod.length) + PER_BYTE * responseBytes + execution(callbackInstr);
      assert.equal(beforeA - balance(a), expectedA, `caller, ${method}`);
      assert.equal(beforeB - balance(b), execution(calleeInstr), `callee, ${method}`);
    }
  });

  test('raw_rand from aaaaa-aa: the same call fees, no management charge', async () => {
    const before = balance(a);
    const { envelope, record } = await update(a, 'rand');
    assert.equal(record.status, 'replied');
    const reply = record.reply!.length; // the callback replies with raw_rand's reply as is
    // rand: entry 1 + 10 consts + 3 calls + drop 1; call_new 1500 + 0 + 8; call_data_append 500 + 6 × 50; call_perform 5000
    const instr = 1n + 10n + 15n + 1n + 1_508n + 800n + 5_000n;
    assert.equal(before - balance(a), ingressFee(envelope) + execution(instr) + XNET_CALL + PER_BYTE * (8n + 6n) + PER_BYTE * BigInt(reply) + execution(onReply(BigInt(reply))));
  });

  test('a global timer: 5 M + its instructions', async () => {
    const ticks = async (): Promise<number> => {
      const q = (await agent.query(a, { methodName: 'ticks', arg: new Uint8Array() })) as { reply: { arg: Uint8Array } };
      return new DataView(q.reply.arg.buffer, q.reply.arg.byteOffset, 4).getInt32(0, true);
    };
    const before = balance(a);
    const { envelope } = await update(a, 'arm');
    // arm: entry 1 + call 5 + call 5 + drop 1 + call 5; time 500, global_timer_set 500, msg_reply 500
    const arm = ingressFee(envelope) + execution(1n + 5n + 5n + 1n + 5n + 1_500n);
    const deadline = Date.now() + 10_000;
    while ((await ticks()) === 0 && Date.now() < deadline) await new Promise((res) => setTimeout(res, 20));
    assert.equal(await ticks(), 1);
    // the timer: entry 1 + global.get 2 + const 1 + add 1 + global.set 2; no page written
    assert.equal(before - balance(a), arm + execution(1n + 2n + 1n + 1n + 2n));
  });

  test('upload_chunk: 200 M management instructions; a canister that cannot pay its ingress gets IC0207 with the top-up amount', async () => {
    const chunks = Actor.createActor(
      ({ IDL: I }: { IDL: any }) =>
        I.Service({
          upload_chunk: I.Func([I.Record({ canister_id: I.Principal, chunk: I.Vec(I.Nat8) })], [I.Record({ hash: I.Vec(I.Nat8) })], []),
          canister_status: I.Func([I.Record({ canister_id: I.Principal })], [I.Record({ cycles: I.Nat })], []),
        }),
      { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: b },
    ) as any;
    let before = balance(b);
    let n = callBodies.length;
    await chunks.upload_chunk({ canister_id: b, chunk: new Uint8Array(1024) });
    assert.equal(before - balance(b), ingressFee(callBodies[n]!) + 200_000_000n);

    const poor = (await mgmt(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [1_000_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    const status = Actor.createActor(
      ({ IDL: I }: { IDL: any }) => I.Service({ canister_status: I.Func([I.Record({ canister_id: I.Principal })], [I.Record({ cycles: I.Nat })], []) }),
      { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: poor },
    ) as any;
    before = balance(poor);
    n = callBodies.length;
    await assert.rejects(status.canister_status({ canister_id: poor }), (e: Error) => {
      // no storage here, so the freezing threshold is 0: the shortfall is the fee minus the balance
      const shortfall = ingressFee(callBodies[n]!) - 1_000_000n;
      assert.match(e.message, new RegExp(`Canister ${poor.toText()} is out of cycles: please top up the canister with at least ${shortfall} additional cycles`));
      assert.match(e.message, /IC0207/);
      return true;
    });
    assert.equal(balance(poor), before, 'nothing charged for a refused message');
  });

  test('update_settings: the ingress fee is charged after the settings apply, for the argument and method name only', async () => {
    const arg = IDL.encode([managementTypes.update_settings_args], [{ canister_id: b, settings: { ...NO_SETTINGS, freezing_threshold: [1_000n] }, sender_canister_version: [] }]);
    assert.ok(arg.byteLength <= 366, 'a small update_settings');
    const before = balance(b);
    const res = await agent.call('aaaaa-aa', { methodName: 'update_settings', arg, effectiveCanisterId: b });
    const record = (await r.replica.waitForCompletion(new Uint8Array(res.requestId), 30_000)) as { status: string };
    assert.equal(record.status, 'replied');
    assert.equal(before - balance(b), 1_200_000n + 2_000n * BigInt(arg.byteLength + 'update_settings'.length));
  });

  test('dfinity/ic charge_for_dirty_heap: two stores on two 4 KiB pages cost 2 × 1000 on top of the block (wasm32; × 4 in wasm64)', async () => {
    for (const wide of [false, true]) {
      const a = wide ? 'i64.const' : 'i32.const';
      const wat = `(module (global $g1 (mut i64) (i64.const 0)) (memory ${wide ? 'i64 ' : ''}10)
        (func (export "canister_update test")
          (i64.store (${a} 0) (i64.const 17)) (i64.store (${a} 4096) (i64.const 117)) (i64.load (${a} 0)) global.set $g1))`;
      const wasmX = await compileWat(wat, { memory64: wide });
      const id = (await mgmt(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: wasmX, arg: new Uint8Array(), sender_canister_version: [] });
      const before = balance(id);
      const { envelope, record } = await update(id, 'test');
      assert.equal(record.status, 'rejected', 'it does not reply');
      // 1 + 5 consts + global.set 2 + 2 stores + 1 load (loads/stores cost 2 in wasm64) + 2 written
      // pages × 1000, × 4 for a wasm64 heap (rs/embedders wasmtime_embedder.rs charges
      // dirty_page_overhead × WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER, rs/config embedders.rs)
      const cs = wide ? 2n : 1n;
      const instr = 1n + 5n + 2n + 2n * cs + cs + 2n * 1_000n * (wide ? 4n : 1n);
      const perInstruction = wide ? 2n : 1n;
      assert.equal(before - balance(id), ingressFee(envelope) + 5_000_000n + perInstruction * instr, wide ? 'wasm64' : 'wasm32');
    }
  });

  test('canister_heartbeat runs every round, each beat charged 5 M + its instructions', async () => {
    const beat = await compileWat('(module (global $n (mut i32) (i32.const 0)) (func (export "canister_heartbeat") (global.set $n (i32.add (global.get $n) (i32.const 1)))))');
    const id = (await mgmt(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: beat, arg: new Uint8Array(), sender_canister_version: [] });
    const before = balance(id);
    await new Promise((res) => setTimeout(res, 2_500));
    const n = callBodies.length;
    await mgmt(id).stop_canister({ canister_id: id });
    const delta = before - balance(id) - ingressFee(callBodies[n]!);
    // a beat: entry 1 + global.get 2 + const 1 + add 1 + global.set 2
    const perBeat = execution(1n + 2n + 1n + 1n + 2n);
    assert.ok(delta >= perBeat, `at least one beat (${delta})`);
    assert.equal(delta % perBeat, 0n, `a whole number of beats (${delta})`);
  });

  test('an hour of storage on the replica clock: the idle burn rate for 3600 s', async () => {
    // The wall clock plus a test-controlled offset; frozen for the measured hour, so that the two
    // rounds are exactly 3,600 s apart (the wall clock moving between them added a cycle at times).
    let offset = 0n;
    let frozen: bigint | undefined;
    const s = await startTestReplica({ debugPrint: () => {}, clock: { nowNanos: () => (frozen ?? BigInt(Date.now()) * 1_000_000n) + offset } });
    try {
      const ag = await HttpAgent.create({ host: s.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const m = (ecid: Principal): any => Actor.createActor(managementIdlFactory, { agent: ag, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid });
      const id = (await m(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      await m(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] });
      const statusActor = Actor.createActor(
        ({ IDL: I }: { IDL: any }) =>
          I.Service({
            canister_status: I.Func(
              [I.Record({ canister_id: I.Principal })],
              [I.Record({ memory_size: I.Nat, idle_cycles_burned_per_day: I.Nat, reserved_cycles: I.Nat, cycles: I.Nat })],
              [],
            ),
          }),
        { agent: ag, canisterId: 'aaaaa-aa', effectiveCanisterId: id },
      ) as any;
      const status = await statusActor.canister_status({ canister_id: id });
      assert.equal(status.reserved_cycles, 0n);
      const memory = status.memory_size as bigint;
      // 127_000 per GiB-second (the default), no compute allocation, no base fee.
      const idlePerDay = (memory * 127_000n * DAY) / GIB;
      assert.equal(status.idle_cycles_burned_per_day, idlePerDay);
      // A freezing threshold beyond the balance freezes the canister: its queries get the frozen text
      // (storage is charged regardless of the threshold, below).
      await m(id).update_settings({
        canister_id: id,
        settings: { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [10n ** 15n], reserved_cycles_limit: [], wasm_memory_limit: [] },
        sender_canister_version: [],
      });
      const q = await ag.query(id, { methodName: 'peek', arg: new Uint8Array() });
      assert.equal(q.status, 'rejected');
      // A small update_settings is accepted from a frozen canister (its fee comes after the
      // settings): setting the threshold back unfreezes it.
      await m(id).update_settings({
        canister_id: id,
        settings: { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [2_592_000n], reserved_cycles_limit: [], wasm_memory_limit: [] },
        sender_canister_version: [],
      });
      assert.equal((await ag.query(id, { methodName: 'peek', arg: new Uint8Array() })).status, 'replied', 'unfrozen');
      await m(id).update_settings({
        canister_id: id,
        settings: { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [10n ** 15n], reserved_cycles_limit: [], wasm_memory_limit: [] },
        sender_canister_version: [],
      });
      const rej = q as unknown as { reject_code: number; reject_message: string; error_code: string };
      assert.deepEqual(
        [rej.reject_code, rej.error_code, rej.reject_message],
        [2, 'IC0207', `Canister ${id.toText()} is unable to process query calls because it's frozen. Please top up the canister with cycles and try again.`],
      );
      // One round 10 s later settles the charge so far; one hour after it, the next.
      frozen = BigInt(Date.now()) * 1_000_000n;
      offset += 10_000_000_000n;
      await s.replica.runRound();
      const before = s.replica.state.canister(id)!.cycles;
      offset += 3_600_000_000_000n;
      await s.replica.runRound();
      assert.equal(before - s.replica.state.canister(id)!.cycles, (idlePerDay * 3_600n) / DAY);
    } finally {
      await s.cleanup();
    }
  });

  test('a Motoko canister (wasm64) across calls: a reply, a reject and raw_rand — every fee exact, its instructions whole and the same each time', async () => {
    // The callee is WAT (instructions known): `ok` replies DIDL\00\00, `nope` rejects with "nope".
    const callee = await compileWat(`(module (import "ic0" "msg_reply" (func $reply)) (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
      (import "ic0" "msg_reject" (func $reject (param i32 i32))) (memory 1) (data (i32.const 0) "DIDL\\00\\00") (data (i32.const 8) "nope")
      (func (export "canister_update ok") (call $append (i32.const 0) (i32.const 6)) (call $reply))
      (func (export "canister_update nope") (call $reject (i32.const 8) (i32.const 4))))`);
    const motoko = await compileMotoko(`import Prim "mo:⛔";
persistent actor {
  type Callee = actor { ok : () -> async (); nope : () -> async () };
  transient let ic = actor "aaaaa-aa" : actor { raw_rand : () -> async Blob };
  public func callOk(p : Principal) : async () { await Prim.actorOfPrincipal<Callee>(p).ok() };
  public func callNope(p : Principal) : async Text { try { await Prim.actorOfPrincipal<Callee>(p).nope(); "" } catch (e) { Prim.errorMessage(e) } };
  public func rand() : async Nat { (await ic.raw_rand()).size() };
};`);
    const app = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    const create = async (module: Uint8Array, arg: Uint8Array) => {
      const id = (await mgmt(app).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: module, arg, sender_canister_version: [] });
      return id;
    };
    const calleeId = await create(callee, new Uint8Array());
    const mo = await create(motoko.wasm, new Uint8Array(IDL.encode([], [])));
    const EMPTY = 6n; // DIDL\00\00: the payload of every call here, and `ok`'s reply
    // [method, its Candid argument, callee method (null: raw_rand), reply or reject bytes back, the callee's instructions]
    const cases = [
      ['callOk', IDL.encode([IDL.Principal], [calleeId]), 'ok', EMPTY, 1n + 2n + 5n + 5n + 500n + 50n * 6n + 500n],
      ['callNope', IDL.encode([IDL.Principal], [calleeId]), 'nope', 4n, 1n + 2n + 5n + 500n + 50n * 4n],
      // raw_rand's reply: DIDL, 1 type (vec nat8), 1 value of that type, length 32, 32 bytes = 42
      ['rand', IDL.encode([], []), 'raw_rand', 42n, null],
    ] as const;
    for (const [method, arg, calleeMethod, responseBytes, calleeInstructions] of cases) {
      const recovered: bigint[] = [];
      for (let k = 0; k < 3; k++) {
        const [before, beforeCallee] = [balance(mo), balance(calleeId)];
        const { envelope, record } = await update(mo, method, new Uint8Array(arg));
        assert.equal(record.status, 'replied', method);
        // Known to the cycle: the ingress fee, two executions' 5 M (the update and its callback),
        // the call (260 K + 1000 per method and payload byte) and the response's bytes.
        const known = ingressFee(envelope) + 2n * 5_000_000n + XNET_CALL + PER_BYTE * (BigInt(calleeMethod.length) + EMPTY) + PER_BYTE * responseBytes;
        const rest = before - balance(mo) - known;
        assert.equal(rest % 2n, 0n, `${method}: wasm64 instructions cost 2 cycles each (${rest})`);
        recovered.push(rest / 2n);
        if (calleeInstructions !== null) assert.equal(beforeCallee - balance(calleeId), execution(calleeInstructions), `${method}: the callee`);
      }
      assert.ok(recovered[0]! > 0n);
      // The same work each time after the first (which runs Motoko's first-use paths): the runs
      // differ at most by heap pages written (4,000 instructions each on a wasm64 heap; which pages
      // a run touches depends on where Motoko's allocator is). raw_rand's reply is 32 random
      // bytes, and its count also moved by a few dozen instructions with them under load
      // (77970, 82011, 77970: one page + 41), so there the rest may be small but not 0.
      const diff = recovered[2]! - recovered[1]!;
      const page = 4_000n;
      const mod = ((diff % page) + page) % page;
      const rest = mod > page / 2n ? mod - page : mod; // diff minus the nearest whole number of pages
      if (calleeMethod === 'raw_rand') assert.ok(rest > -256n && rest < 256n, `${method}: whole pages and a small rest (${recovered.join(', ')})`);
      else assert.equal(rest, 0n, `${method}: the same instructions but for whole pages (${recovered.join(', ')})`);
    }
  });

  test('a Motoko canister (wasm64): an update is ingress + 5 M + 2 cycles per instruction, the same instructions each time; a query is free', async () => {
    const counter = await compileMotokoFixture('Counter');
    const id = (await mgmt(Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: counter.wasm, arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [] });
    const noArg = new Uint8Array(IDL.encode([], []));
    // Two inc() calls do the same work (a Nat of one byte either way): their instruction counts,
    // recovered from the balance with the formula, are equal and whole.
    const counts: bigint[] = [];
    for (let k = 0; k < 3; k++) {
      const before = balance(id);
      const { envelope, record } = await update(id, 'inc', noArg);
      assert.equal(record.status, 'replied');
      const paid = before - balance(id) - ingressFee(envelope) - 5_000_000n;
      assert.equal(paid % 2n, 0n, 'wasm64: 2 cycles per instruction');
      counts.push(paid / 2n);
    }
    assert.ok(counts[1]! > 0n);
    assert.equal(counts[2], counts[1], `same instructions for the same work: ${counts.join(', ')}`);
    const before = balance(id);
    const q = await agent.query(id, { methodName: 'get', arg: noArg });
    assert.equal(q.status, 'replied');
    assert.equal(balance(id), before, 'queries are free');
  });
});
