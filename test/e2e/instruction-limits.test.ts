/**
 * Acceptance (issue 13): instructions are counted as on the replica and limits end runaway code.
 * `ic0.performance_counter(0)` reads the metered count (the block is charged at its start, the
 * call itself costs 200), and an infinite loop in an update, in a query and in
 * canister_inspect_message ends with IC0522 and the replica's text naming the limit that applied
 * (40 B, 5 B, 200 M); during the update's, the query's and the composite query's loops the status
 * endpoint answers (each runs sliced). The loops fill 64 KiB per iteration so that the limit (charged one
 * instruction per byte) is reached in seconds; wasm32 and wasm64. A loop in canister_init (wasm32) ends
 * the install_code with IC0522 naming 300 B, undone and charged, while status and another canister answer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

const HELP =
  'Try optimizing this method to consume fewer instructions or split the work across multiple messages. ' +
  'See documentation: http://internetcomputer.org/docs/current/references/execution-errors#instruction-limit-exceeded';
const limitText = (id: Principal, limit: string): string =>
  `Error from Canister ${id.toText()}: Canister exceeded the limit of ${limit} instructions for single message execution..\n${HELP}`;

/**
 * While `running()`, polls /api/v2/status and makes an update call to `other`'s `ok`, each round
 * trip checked; returns how many round trips completed and the worst one (ms), for the notes.
 */
async function statusAndCallsWhile(
  running: () => boolean,
  r: Awaited<ReturnType<typeof startTestReplica>>,
  agent: HttpAgent,
  other: Principal,
): Promise<{ during: number; worstMs: number }> {
  let during = 0;
  let worstMs = 0;
  while (running()) {
    const t0 = performance.now();
    const status = await fetch(`${r.url}/api/v2/status`);
    assert.equal(status.status, 200);
    await status.arrayBuffer();
    const res = await agent.call(other, { methodName: 'ok', arg: new Uint8Array(), effectiveCanisterId: other });
    const ms = performance.now() - t0;
    if (!running()) break;
    assert.equal((await r.replica.waitForCompletion(new Uint8Array(res.requestId), 60_000))?.status, 'replied');
    during++;
    worstMs = Math.max(worstMs, ms);
  }
  return { during, worstMs };
}

function limitsWat(wide: boolean): string {
  const I = wide ? 'i64' : 'i32';
  const c = (n: number) => `(${I}.const ${n})`;
  return `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param ${I} ${I})))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result ${I})))
  (import "ic0" "accept_message" (func $accept))
  (import "ic0" "performance_counter" (func $pc (param i32) (result i64)))
  (memory ${wide ? 'i64 ' : ''}2)
  (func $spin (loop $l (memory.fill ${c(65536)} (i32.const 1) ${c(65536)}) (br $l)))
  (func (export "canister_update perf")
    (i64.store ${c(0)} (call $pc (i32.const 0)))
    (i64.store ${c(8)} (call $pc (i32.const 0)))
    (call $append ${c(0)} ${c(16)})
    (call $reply))
  (func (export "canister_update spin") (call $spin))
  (func (export "canister_query spin_query") (call $spin))
  (func (export "canister_composite_query spin_composite") (call $spin))
  (func (export "canister_update ok") (call $append ${c(0)} ${c(0)}) (call $reply))
  (func (export "canister_inspect_message")
    (if (${wide ? 'i64.ne' : 'i32.ne'} (call $arg_size) ${c(0)}) (then (call $spin)))
    (call $accept)))`;
}

for (const wide of [false, true]) {
  describe(`instruction counting and limits (WAT, ${wide ? 'wasm64' : 'wasm32'})`, () => {
    let r: Running;
    let agent: HttpAgent;
    let id: Principal;

    before(async () => {
      const wasm = await compileWat(limitsWat(wide), { memory64: wide, bulk_memory: true });
      r = await startTestReplica({ debugPrint: () => {} });
      agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
      id = (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
      await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    });
    after(async () => {
      await r?.cleanup();
    });

    async function call(method: string, arg = new Uint8Array()) {
      const res = await agent.call(id, { methodName: method, arg, effectiveCanisterId: id });
      const status = r.replica.state.ingress(new Uint8Array(res.requestId));
      return { res, status };
    }

    test('performance_counter(0) counts the metered block and its own 200-instruction cost', async () => {
      const { status } = await call('perf');
      assert.equal(status?.status, 'replied');
      const reply = (status as { reply: Uint8Array }).reply;
      const view = new DataView(reply.buffer, reply.byteOffset, reply.byteLength);
      // The one block is charged at function entry: 1 + two × (const, const, call 5, i64.store)
      // + append (const, const, call 5) + reply (call 5); a store is 1 (wasm32) or 2 (wasm64).
      const store = wide ? 2n : 1n;
      const block = 1n + 2n * (1n + 1n + 5n + store) + 7n + 5n;
      assert.equal(view.getBigUint64(0, true), block + 200n);
      assert.equal(view.getBigUint64(8, true), block + 400n);
    });

    test('an infinite loop in an update ends with IC0522 at 40 B; meanwhile /api/v2/status and another canister answer', async () => {
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any;
      const other = (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      const wasm = await compileWat(limitsWat(wide), { memory64: wide, bulk_memory: true });
      await mgmt.install_code({ mode: { install: null }, canister_id: other, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
      let spinning = true;
      const spin = (async () => {
        const res = await agent.call(id, { methodName: 'spin', arg: new Uint8Array(), effectiveCanisterId: id });
        return r.replica.waitForCompletion(new Uint8Array(res.requestId), 120_000);
      })().finally(() => (spinning = false));
      // (wasm32 only: the traffic slows the loop down, and one width shows the slicing.)
      const { during, worstMs } = await statusAndCallsWhile(() => spinning && !wide, r, agent, other);
      const s = (await spin) as { status: string; rejectCode: number; errorCode: string; rejectMessage: string };
      assert.deepEqual([s.status, s.rejectCode, s.errorCode, s.rejectMessage], ['rejected', 5, 'IC0522', limitText(id, '40000000000')]);
      if (!wide) assert.ok(during > 0, 'status and the other canister answered while the loop ran');
      assert.equal((await call('ok')).status?.status, 'replied', 'the looping canister takes messages again');
      // A figure for the closing note (no timed assert): worst status + call round trip during the loop.
      if (!wide) console.log(`# ${during} status+call round trips during the loop, worst ${worstMs.toFixed(1)} ms`);
    });

    for (const [method, kind] of [['spin_query', 'query'], ['spin_composite', 'composite query']] as const) {
      test(`an infinite loop in a ${kind} ends with IC0522 at 5 B instructions; meanwhile /api/v2/status answers`, async () => {
        let spinning = true;
        const spin = agent.query(id, { methodName: method, arg: new Uint8Array() }).finally(() => (spinning = false));
        const worst = await pollStatusWhile(() => spinning, !wide);
        const q = await spin;
        assert.equal(q.status, 'rejected');
        const rej = q as unknown as { reject_code: number; reject_message: string; error_code: string };
        assert.deepEqual([rej.reject_code, rej.error_code, rej.reject_message], [5, 'IC0522', limitText(id, '5000000000')]);
        if (!wide) {
          assert.ok(worst.polls >= 3, `status answered while the ${kind} looped (${worst.polls} times)`);
          console.log(`# ${worst.polls} status polls during the looping ${kind}, worst ${worst.ms.toFixed(1)} ms`);
        }
      });
    }

    /** Polls /api/v2/status while `going()` (when `poll`); the number of answers and the slowest. */
    async function pollStatusWhile(going: () => boolean, poll: boolean): Promise<{ polls: number; ms: number }> {
      let polls = 0;
      let ms = 0;
      await new Promise((res) => setImmediate(res));
      while (poll && going()) {
        const t0 = performance.now();
        const status = await fetch(`${r.url}/api/v2/status`);
        assert.equal(status.status, 200);
        await status.arrayBuffer();
        if (!going()) break;
        polls++;
        ms = Math.max(ms, performance.now() - t0);
      }
      return { polls, ms };
    }

    test('an infinite loop in canister_inspect_message ends with IC0522 at 200 M instructions', async () => {
      const res = await agent.call(id, { methodName: 'ok', arg: new Uint8Array([1]), effectiveCanisterId: id });
      const body = res.response.body as { reject_code?: number; reject_message?: string; error_code?: string };
      assert.deepEqual([body.reject_code, body.error_code, body.reject_message], [5, 'IC0522', limitText(id, '200000000')]);
    });
  });
}

/** A canister whose canister_init loops (16 KiB fills: the 300 B limit in seconds) when given an argument. */
const INIT_LOOP_WAT = `
(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_reply" (func $reply))
  (memory 1)
  (func (export "canister_init")
    (if (i32.ne (call $arg_size) (i32.const 0))
      (then (loop $l (memory.fill (i32.const 0) (i32.const 1) (i32.const 16384)) (br $l)))))
  (func (export "canister_update ok") (call $reply)))`;

describe('a loop in canister_init (install_code runs sliced)', () => {
  test('ends with IC0522 at 300 B, the install undone and 300 B charged; meanwhile /api/v2/status and another canister answer', async () => {
    // No storage fees: the balance delta is the install's alone.
    const r = await startTestReplica({ debugPrint: () => {}, storageFees: { gibStoragePerSecond: 0n, basePerSecond: 0n } });
    try {
      /** Call requests sent: the effective canister in the URL and the envelope's size. */
      const bodies: { url: string; bytes: number }[] = [];
      const recordingFetch: typeof fetch = async (input, init) => {
        const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
        if (/\/canister\/[^/]+\/call$/.test(url) && init?.body) bodies.push({ url, bytes: (init.body as ArrayBuffer | Uint8Array).byteLength });
        return fetch(input, init);
      };
      const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true, fetch: recordingFetch });
      const app = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: app }) as any;
      const create = async () => (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      const [looper, other] = [await create(), await create()];
      const wasm = await compileWat(INIT_LOOP_WAT, { bulk_memory: true });
      const install = IDL.Func(
        [IDL.Record({ mode: IDL.Variant({ install: IDL.Null }), canister_id: IDL.Principal, wasm_module: IDL.Vec(IDL.Nat8), arg: IDL.Vec(IDL.Nat8), sender_canister_version: IDL.Opt(IDL.Nat64) })],
        [],
      );
      const installArg = (id: Principal, arg: number[]) =>
        IDL.encode(install.argTypes, [{ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(arg), sender_canister_version: [] }]);
      const installOn = async (id: Principal, arg: number[]) => {
        const res = await agent.call(Principal.managementCanister(), { methodName: 'install_code', arg: installArg(id, arg), effectiveCanisterId: id });
        return new Uint8Array(res.requestId);
      };
      assert.equal((await r.replica.waitForCompletion(await installOn(other, []), 30_000))?.status, 'replied');

      const before = r.replica.state.canister(looper)!.cycles;
      const n = bodies.length;
      let spinning = true;
      let installId: Uint8Array | undefined;
      const looping = installOn(looper, [1])
        .then((id) => r.replica.waitForCompletion((installId = id), 180_000))
        .finally(() => (spinning = false));
      // A management call about the busy canister waits for the install to end (as the replica's scheduler keeps it queued).
      const statusCall = (async () => {
        while (!installId) await new Promise((res) => setTimeout(res, 5));
        const arg = IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: looper }]);
        const res = await agent.call(Principal.managementCanister(), { methodName: 'canister_status', arg, effectiveCanisterId: looper });
        const done = await r.replica.waitForCompletion(new Uint8Array(res.requestId), 180_000);
        return [done?.status, r.replica.state.ingress(installId)?.status];
      })();
      const { during, worstMs } = await statusAndCallsWhile(() => spinning, r, agent, other);
      const s = (await looping) as { status: string; rejectCode: number; errorCode: string; rejectMessage: string };
      assert.deepEqual([s.status, s.rejectCode, s.errorCode, s.rejectMessage], ['rejected', 5, 'IC0522', limitText(looper, '300000000000')]);
      assert.ok(during > 0, 'status and the other canister answered while canister_init looped');
      assert.deepEqual(await statusCall, ['replied', 'rejected'], 'canister_status was answered only once the install had ended');
      // Undone: still empty; charged: the install_code and canister_status ingress (the canister is their
      // effective canister) and execution_cost(300 B) (nothing refunded).
      assert.equal(r.replica.state.canister(looper)!.module, null);
      const paid = bodies.slice(n).filter((b) => b.url.includes(`/canister/${looper.toText()}/`));
      assert.equal(paid.length, 2);
      const ingress = paid.reduce((sum, b) => sum + 1_200_000n + 2_000n * BigInt(b.bytes), 0n);
      assert.equal(before - r.replica.state.canister(looper)!.cycles, ingress + 5_000_000n + 300_000_000_000n);
      // The canister takes messages again: an install without the loop succeeds.
      assert.equal((await r.replica.waitForCompletion(await installOn(looper, []), 30_000))?.status, 'replied');
      console.log(`# ${during} status+call round trips during the looping canister_init, worst ${worstMs.toFixed(1)} ms`);
    } finally {
      await r.cleanup();
    }
  });
});
