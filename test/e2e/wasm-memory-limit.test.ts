/**
 * `wasm_memory_limit` (issue 15 item 3; interface spec §"Canister settings"): an update that
 * grows the Wasm memory past the canister's limit fails with the replica's IC0539 text and keeps
 * nothing (memory size, memory contents, globals); a query may grow past it (the limit is ignored
 * there, and a query keeps nothing anyway); with the limit lifted, a 256 MiB growth succeeds and
 * the canister goes on working. WAT canisters, wasm32 and wasm64.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileWat } from '../support/wat.ts';
import { managementService } from '../../src/management/ic-did.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';
const LIMIT = 2n * 1024n * 1024n; // 32 Wasm pages

function growWat(wide: boolean): string {
  const I = wide ? 'i64' : 'i32';
  const c = (n: number) => `(${I}.const ${n})`;
  // grow(n): bump the global, write a byte, grow by n pages, reply.
  const grow = (n: number) => `(global.set $g (i32.add (global.get $g) (i32.const 1))) (i32.store8 ${c(200)} (i32.const 9)) (drop (memory.grow ${c(n)})) (call $append ${c(0)} ${c(6)}) (call $reply)`;
  return `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param ${I} ${I})))
  (memory ${wide ? 'i64 ' : ''}1)
  (global $g (mut i32) (i32.const 0))
  (data (${I}.const 0) "DIDL\\00\\00")
  (func (export "canister_update grow_10") ${grow(10)})
  (func (export "canister_update grow_40") ${grow(40)})
  (func (export "canister_update grow_256mib")
    ${grow(4096)}
    ;; and use the last byte of the grown memory
    (i32.store8 (${I}.sub (${I}.mul (memory.size) ${c(65536)}) ${c(1)}) (i32.const 1)))
  (func (export "canister_query grow_40_in_query") ${grow(40)})
  ;; state: memory size in pages (8 bytes LE), the global (4 bytes), byte 200 (1 byte)
  (func (export "canister_query state")
    (i64.store ${c(100)} ${wide ? '(memory.size)' : '(i64.extend_i32_u (memory.size))'})
    (i32.store ${c(108)} (global.get $g))
    (i32.store8 ${c(112)} (i32.load8_u ${c(200)}))
    (call $append ${c(100)} ${c(13)}) (call $reply))
)`;
}

for (const wide of [false, true]) {
  describe(`wasm_memory_limit (WAT, ${wide ? 'wasm64' : 'wasm32'})`, () => {
    let r: Awaited<ReturnType<typeof startTestReplica>>;
    let agent: HttpAgent;
    let id: Principal;
    let mgmt: any;

    before(async () => {
      const wasm = await compileWat(growWat(wide), { memory64: wide });
      r = await startTestReplica({ debugPrint: () => {} });
      agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const create = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
      const settings = { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [], wasm_memory_limit: [LIMIT] };
      id = (await create.provisional_create_canister_with_cycles({ amount: [], settings: [settings], specified_id: [], sender_canister_version: [] })).canister_id;
      mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
      await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    });
    after(async () => {
      await r?.cleanup();
    });

    async function call(method: string): Promise<{ ok: true } | { code: number; errorCode: string | undefined; message: string }> {
      const res = await agent.call(id, { methodName: method, arg: IDL.encode([], []), effectiveCanisterId: id });
      const body = res.response.body as { reject_code?: number; reject_message?: string; error_code?: string } | null;
      if (body && 'reject_code' in body && body.reject_code !== undefined) return { code: body.reject_code, errorCode: body.error_code, message: body.reject_message! };
      await r.replica.scheduler.idle();
      const status = r.replica.state.ingress(new Uint8Array(res.requestId))!;
      if (status.status === 'replied') return { ok: true };
      return { code: status.rejectCode!, errorCode: status.errorCode, message: status.rejectMessage! };
    }
    async function state(): Promise<{ pages: bigint; global: number; byte: number }> {
      const q = await agent.query(id, { methodName: 'state', arg: IDL.encode([], []) });
      assert.equal(q.status, 'replied');
      const b = Buffer.from((q as { reply: { arg: Uint8Array } }).reply.arg);
      return { pages: b.readBigUInt64LE(0), global: b.readInt32LE(8), byte: b[12]! };
    }

    test('growth within the limit is kept', async () => {
      assert.deepEqual(await call('grow_10'), { ok: true });
      assert.deepEqual(await state(), { pages: 11n, global: 1, byte: 9 });
    });

    test('an update growing past the limit fails with IC0539 and the replica text; nothing is kept', async () => {
      const peak = (11n + 40n) * 65536n;
      assert.deepEqual(await call('grow_40'), {
        code: 5,
        errorCode: 'IC0539',
        message:
          `Error from Canister ${id.toText()}: Canister exceeded its current Wasm memory limit of ${LIMIT} bytes. The peak Wasm memory usage was ${peak} bytes. ` +
          'If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. ' +
          'Please reach out to the canister owner to investigate the reason for the increased memory usage. ' +
          'It might be necessary to move data from the Wasm memory to the stable memory. ' +
          'If such high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit in the canister settings..\n' +
          `Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory. See documentation: ${DOCS}#wasm-memory-limit-exceeded`,
      });
      assert.deepEqual(await state(), { pages: 11n, global: 1, byte: 9 }, 'size, global and memory as before the call');
    });

    test('a query may grow past the limit (ignored for queries; its changes are discarded)', async () => {
      const q = await agent.query(id, { methodName: 'grow_40_in_query', arg: IDL.encode([], []) });
      assert.equal(q.status, 'replied');
      assert.deepEqual(await state(), { pages: 11n, global: 1, byte: 9 });
    });

    test('with the limit lifted (0), a 256 MiB growth is kept and the canister goes on', async () => {
      await mgmt.update_settings({
        canister_id: id,
        settings: { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [], wasm_memory_limit: [0n] },
        sender_canister_version: [],
      });
      assert.deepEqual(await call('grow_256mib'), { ok: true });
      assert.deepEqual(await call('grow_10'), { ok: true });
      assert.deepEqual(await state(), { pages: 11n + 4096n + 10n, global: 3, byte: 9 });
    });
  });
}

/**
 * `canister_on_low_wasm_memory` (interface spec §"On low Wasm memory"): scheduled once when
 * `wasm_memory_limit - memory < wasm_memory_threshold` becomes true, again only after the
 * condition went false in between.
 */
describe('on_low_wasm_memory hook (WAT, wasm32)', () => {
  const HOOK_WAT = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (memory 1)
  (global $hooks (mut i32) (i32.const 0))
  (func (export "canister_on_low_wasm_memory") (global.set $hooks (i32.add (global.get $hooks) (i32.const 1))))
  (func (export "canister_update grow_8") (drop (memory.grow (i32.const 8))) (call $append (i32.const 0) (i32.const 0)) (call $reply))
  (func (export "canister_update touch") (call $append (i32.const 0) (i32.const 0)) (call $reply))
  (func (export "canister_query hooks") (i32.store (i32.const 0) (global.get $hooks)) (call $append (i32.const 0) (i32.const 4)) (call $reply))
)`;
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let agent: HttpAgent;
  let id: Principal;
  let mgmt: any;
  const settings = (limit: bigint, threshold: bigint) => ({
    controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [], log_visibility: [], log_memory_limit: [],
    snapshot_visibility: [], status_visibility: [], minimum_incoming_canister_call_cycles: [], wasm_memory_limit: [limit], wasm_memory_threshold: [threshold], environment_variables: [],
  });

  before(async () => {
    r = await startTestReplica({ debugPrint: () => {} });
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const create = Actor.createActor(() => managementService, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    // Limit 2 MiB (32 pages), threshold 1 MiB (16 pages): the hook is due once memory exceeds 16 pages.
    id = (await create.provisional_create_canister_with_cycles({ amount: [], settings: [settings(2n << 20n, 1n << 20n)], specified_id: [], sender_canister_version: [] })).canister_id;
    mgmt = Actor.createActor(() => managementService, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
    await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: await compileWat(HOOK_WAT), arg: IDL.encode([], []), sender_canister_version: [] });
  });
  after(async () => {
    await r?.cleanup();
  });

  async function grow(): Promise<void> {
    await agent.call(id, { methodName: 'grow_8', arg: IDL.encode([], []), effectiveCanisterId: id });
    for (let i = 0; i < 5; i++) await r.replica.scheduler.idle();
  }
  async function hooks(): Promise<number> {
    const q = await agent.query(id, { methodName: 'hooks', arg: IDL.encode([], []) });
    return Buffer.from((q as { reply: { arg: Uint8Array } }).reply.arg).readInt32LE(0);
  }

  test('runs once when memory crosses into the threshold, not again while it stays there', async () => {
    await grow(); // 9 pages: 23 pages left, above the 16-page threshold
    assert.equal(await hooks(), 0);
    await grow(); // 17 pages: 15 left, below the threshold
    assert.equal(await hooks(), 1);
    await grow(); // 25 pages: still below
    assert.equal(await hooks(), 1);
  });

  test('after the condition went false (limit raised), crossing again runs it again', async () => {
    await mgmt.update_settings({ canister_id: id, settings: settings(4n << 20n, 1n << 20n), sender_canister_version: [] });
    await grow(); // 33 of 64 pages: 31 left, above the threshold: condition false
    assert.equal(await hooks(), 1);
    await mgmt.update_settings({ canister_id: id, settings: settings(3n << 20n, 1n << 20n), sender_canister_version: [] });
    await grow(); // 41 pages, limit 48 pages: 7 left, below
    assert.equal(await hooks(), 2);
  });

  test('a hook that ran does not run again after a restart (its status is checkpointed)', async () => {
    const stateDir = r.stateDir;
    await r.stop();
    r = await startTestReplica({ debugPrint: () => {}, stateDir });
    agent = await HttpAgent.create({ host: r.url, identity: agent.config.identity, shouldFetchRootKey: true });
    assert.equal(await hooks(), 2);
    // An update that keeps its memory (41 of 48 pages, still low) checks the condition again.
    await agent.call(id, { methodName: 'touch', arg: IDL.encode([], []), effectiveCanisterId: id });
    for (let i = 0; i < 5; i++) await r.replica.scheduler.idle();
    assert.equal(await hooks(), 2);
  });
});
