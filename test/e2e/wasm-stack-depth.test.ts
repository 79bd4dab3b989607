/**
 * Wasm stack depth as on the replica (issue 15 item 5): the replica gives canisters a 5 MiB Wasm
 * stack (wasmtime `max_wasm_stack`, rs/embedders `MAX_WASM_STACK_SIZE`); here V8's stacks get
 * the same through the node flags of src/execution/wasm/wasm-stack.ts (this suite's process has
 * them from `npm test`).
 *
 * Tier-independent check: a WAT function whose frame holds 512 i64 values live across its
 * recursive call — 4 KiB that any compiler (Liftoff, TurboFan, Cranelift) must spill — fits at
 * most 1,280 times in 5 MiB, so 1,281 levels overflow on the replica too; 1,216 levels (95% of
 * that, leaving ~200 bytes per frame for return address and saved registers) must fit. Checked in
 * an update, a query and canister_init (all sliced executions, on JSPI stacks; canister_init ran on
 * the thread's own stack before install_code was sliced).
 * And a Motoko canister recurses 2,000 and 10,000 levels through `await*` (Node's default stack
 * overflows at ~2,500), and a runaway recursion still ends in the replica's stack overflow trap.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { WASM_STACK_KIB, WASM_STACK_NODE_FLAGS, wasmStackFlagsInEffect } from '../../src/execution/wasm/wasm-stack.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';

const LIVE = 512; // i64 values live across the call: 4 KiB per frame
const MAX_FRAMES = Math.floor((WASM_STACK_KIB * 1024) / (LIVE * 8)); // 1,280 in 5 MiB
const locals = Array.from({ length: LIVE }, (_, i) => `(local $l${i} i64)`).join(' ');
const loads = Array.from({ length: LIVE }, (_, i) => `(local.set $l${i} (i64.load offset=${i * 8} (i32.const 0)))`).join('\n');
const sums = Array.from({ length: LIVE }, (_, i) => `local.get $l${i} i64.add`).join('\n');
const FITS = Math.ceil(MAX_FRAMES * 0.95); // 1,216
const OVER = MAX_FRAMES + 1; // 1,281
/** The big-frame canister; with `initDepth`, its `canister_init` recurses that deep too. */
const bigFramesWat = (initDepth?: number): string => `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (memory 1)
  (data (i32.const 8192) "DIDL\\00\\00")
  ;; n levels of a frame with ${LIVE} live i64 values (loaded from memory, summed after the call)
  (func $big (param $n i32) (result i64) ${locals}
    (if (i32.eqz (local.get $n)) (then (return (i64.const 0))))
    ${loads}
    (call $big (i32.sub (local.get $n) (i32.const 1)))
    ${sums})
  (func $run (param $n i32)
    (drop (call $big (local.get $n)))
    (call $append (i32.const 8192) (i32.const 6))
    (call $reply))
  ${initDepth === undefined ? '' : `(func (export "canister_init") (drop (call $big (i32.const ${initDepth}))))`}
  (func (export "canister_update fits") (call $run (i32.const ${FITS})))
  (func (export "canister_update over") (call $run (i32.const ${OVER})))
  (func (export "canister_query fits_query") (call $run (i32.const ${FITS})))
  (func (export "canister_query over_query") (call $run (i32.const ${OVER}))))`;
const BIG_FRAMES_IDL: IDL.InterfaceFactory = ({ IDL }) =>
  IDL.Service({ fits: IDL.Func([], [], []), over: IDL.Func([], [], []), fits_query: IDL.Func([], [], ['query']), over_query: IDL.Func([], [], ['query']) });

async function rejectOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return String((e as Error).message);
  }
  return 'no reject';
}

describe('Wasm stack depth: the replica\'s 5 MiB', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let agent: HttpAgent;
  const install = async (wasm: Uint8Array): Promise<Principal> => {
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    const { canister_id } = await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] });
    const m = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: canister_id }) as any;
    await m.install_code({ mode: { install: null }, canister_id, wasm_module: wasm, arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [] });
    return canister_id;
  };
  before(async () => {
    r = await startTestReplica({ debugPrint: () => {} });
    agent = await HttpAgent.create({ host: r.url, shouldFetchRootKey: true });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('this process runs with the Wasm stack flags (npm test passes them to node --test)', () => {
    assert.ok(wasmStackFlagsInEffect(), `run as node ${WASM_STACK_NODE_FLAGS.join(' ')} --test …; execArgv: ${process.execArgv.join(' ')}`);
  });

  test(`4 KiB frames: ${FITS} levels fit, ${OVER} overflow, in updates, queries and canister_init (JSPI stacks)`, async () => {
    const id = await install(await compileWat(bigFramesWat(FITS)));
    const big = Actor.createActor(BIG_FRAMES_IDL, { agent, canisterId: id }) as any;
    await big.fits();
    await big.fits_query();
    assert.match(await rejectOf(big.over()), /Canister trapped: stack overflow/);
    assert.match(await rejectOf(big.over_query()), /Canister trapped: stack overflow/);
    assert.match(await rejectOf(install(await compileWat(bigFramesWat(OVER)))), /Canister trapped: stack overflow/);
  });

  test('Motoko: 2,000 and 10,000 levels of await* recursion; a runaway recursion traps with stack overflow', async () => {
    const wasm = await compileMotokoFixture('Recursion');
    const id = await install(wasm.wasm);
    const actor = Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent, canisterId: id }) as any;
    assert.equal(await actor.depthAwait(2_000n), 2_000n);
    assert.equal(await actor.depthAwait(10_000n), 10_000n);
    assert.equal(await actor.depthQuery(50_000n), 50_000n);
    assert.match(await rejectOf(actor.depthAwait(1_000_000n)), /Canister trapped: stack overflow/);
  });
});
