/**
 * Running short of cycles, exact balances on a 13-node subnet (formulas: dfinity/ic
 * cycles_account_manager.rs, ../shared/reference/cycles.md §1-§3; instruction counts worked out
 * from the WAT as in cycles-fees.test.ts):
 * - `ic0.call_perform` returns 2 when the balance above the freezing threshold cannot cover the
 *   call's transmission and both reservations; nothing is sent and only the message's own
 *   execution is charged;
 * - storage (here the per-canister base fee, `--base-fee`) and compute allocation (10 M per
 *   percent and second) are charged on the replica's clock;
 * - a canister that cannot pay for its storage is uninstalled as the replica's scheduler does it:
 *   code and memories gone, allocations reset, balance burned to 0, snapshots and chunk store
 *   deleted; `canister_status` then shows an empty, running canister with 0 cycles;
 * - time the replica was down is charged at the first round after a restart.
 * Time is a manual clock here: the charges are exact to the nanosecond.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { readFileSync, rmSync } from 'node:fs';
import { IDL } from '@icp-sdk/core/candid';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { managementTypes } from '../../src/management/ic-did.ts';
import { managementIdlFactory, startTestReplica, tempStateDir } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';

const icDid = readFileSync(new URL('../../candid/ic.did', import.meta.url), 'utf8');
const ingressFee = (envelopeBytes: number): bigint => 1_200_000n + 2_000n * BigInt(envelopeBytes);
const execution = (instructions: bigint): bigint => 5_000_000n + instructions;
/** What call_perform needs above the threshold for raw_rand with no payload: 260 K + 8 bytes + both reservations. */
const CALL_COST = 260_000n + 8_000n + 2_097_152_000n + execution(40_000_000_000n);
const SECOND = 1_000_000_000n;
/** `--base-fee` here, cycles per second and canister with memory. */
const BASE_FEE = 10_000_000n;

const WAT = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "cycles_burn128" (func $burn (param i64 i64 i32)))
  (memory 1)
  (table 1 funcref)
  (elem (i32.const 0) $cb)
  (data (i32.const 32) "raw_rand")
  (data (i32.const 40) "0123")
  (func $cb (param i32) (call $reply))
  (func (export "canister_update call_rand")
    (call $call_new (i32.const 64) (i32.const 0) (i32.const 32) (i32.const 8) (i32.const 0) (i32.const 0) (i32.const 0) (i32.const 0))
    (call $append (i32.add (i32.const 40) (call $perform)) (i32.const 1))
    (call $reply))
  (func (export "canister_update burn") (call $burn (i64.const 0) (i64.const 330000000000) (i32.const 128)) (call $reply)))`;

/** canister_status as a query (free, so a canister with 0 cycles can be asked). */
const statusQuery = ({ IDL: I }: { IDL: any }) =>
  I.Service({
    canister_status: I.Func(
      [I.Record({ canister_id: I.Principal })],
      [
        I.Record({
          status: I.Variant({ running: I.Null, stopping: I.Null, stopped: I.Null }),
          module_hash: I.Opt(I.Vec(I.Nat8)),
          memory_size: I.Nat,
          cycles: I.Nat,
          idle_cycles_burned_per_day: I.Nat,
          settings: I.Record({ compute_allocation: I.Nat, memory_allocation: I.Nat, freezing_threshold: I.Nat }),
        }),
      ],
      ['query'],
    ),
  });

describe('out of cycles (13 nodes, manual clock, storage = a 10 M/s base fee)', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let agent: HttpAgent;
  let wasm: Uint8Array;
  let offset = 0n;
  const t0 = BigInt(Date.now()) * 1_000_000n;
  const bodies: number[] = [];
  const mgmt = (ecid: Principal): any => Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid });
  const balance = (id: Principal): bigint => r.replica.state.canister(id)!.cycles;

  async function create(amount: bigint, settings: Record<string, unknown> = {}): Promise<Principal> {
    const s = { controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [], reserved_cycles_limit: [], wasm_memory_limit: [], ...settings };
    const app = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    const id = (await mgmt(app).provisional_create_canister_with_cycles({ amount: [amount], settings: [s], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    await mgmt(id).install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: new Uint8Array(), sender_canister_version: [] });
    return id;
  }

  before(async () => {
    wasm = await compileWat(WAT);
    // Storage here is the per-canister base fee alone, set high (10 M per second: 864 B a day) so
    // a day of it is more than a canister has; freezing thresholds are 0.
    r = await startTestReplica({ debugPrint: () => {}, storageFees: { gibStoragePerSecond: 0n, basePerSecond: BASE_FEE }, clock: { nowNanos: () => t0 + offset } });
    const recordingFetch: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/canister\/[^/]+\/call$/.test(url) && init?.body) bodies.push((init.body as ArrayBuffer | Uint8Array).byteLength);
      return fetch(input, init);
    };
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true, fetch: recordingFetch });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('call_perform returns 2 when the call cannot be paid: nothing sent, only the message itself charged', async () => {
    const id = await create(400_000_000_000n, { freezing_threshold: [0n] });
    await agent.call(id, { methodName: 'burn', arg: new Uint8Array(), effectiveCanisterId: id }).then((res) => r.replica.waitForCompletion(new Uint8Array(res.requestId), 30_000));
    const before = balance(id);
    // Above the update's own prepayment, less than the call needs: call_perform must fail.
    assert.ok(before - execution(40_000_000_000n) < CALL_COST && before > execution(40_000_000_000n), `balance ${before}`);
    const n = bodies.length;
    const res = await agent.call(id, { methodName: 'call_rand', arg: new Uint8Array(), effectiveCanisterId: id });
    const record = (await r.replica.waitForCompletion(new Uint8Array(res.requestId), 30_000)) as { status: string; reply?: Uint8Array };
    assert.equal(record.status, 'replied');
    assert.equal(new TextDecoder().decode(record.reply), '2', 'call_perform returned 2 (SYS_TRANSIENT)');
    // entry 1 + 8 consts + call 5 + (const, call 5, add, const, call 5) + call 5 = 32;
    // call_new 1500 + 8 bytes, call_perform 5000, msg_reply_data_append 500 + 50, msg_reply 500; no page written
    const instructions = 32n + 1_508n + 5_000n + 550n + 500n;
    assert.equal(before - balance(id), ingressFee(bodies[n]!) + execution(instructions));
    assert.equal(r.replica.execution.lifecycle.hasOpenCallContexts(r.replica.state.canister(id)!), false, 'no call in flight');
  });

  test('storage and compute allocation over time; a canister that cannot pay for its storage is uninstalled as on the replica', async () => {
    const computing = await create(400_000_000_000n, { compute_allocation: [1n], freezing_threshold: [0n] });
    const id = await create(400_000_000_000n, { freezing_threshold: [0n] });
    // Something to be deleted with it: a snapshot and a chunk.
    const ic = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any;
    await ic.take_canister_snapshot({ canister_id: id, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] });
    await ic.upload_chunk({ canister_id: id, chunk: new Uint8Array([1]) });
    assert.equal(r.replica.state.snapshots.list(id).length, 1);
    assert.equal(r.replica.state.chunks.chunks(id).size, 1);

    // Just over the 10 s charge period later: the charge since creation (a few ns after t0) is
    // settled; from there on the periods are exact.
    offset += 11n * SECOND;
    await r.replica.runRound();
    const [settled, settledComputing] = [balance(id), balance(computing)];
    offset += 3_600n * SECOND;
    await r.replica.runRound();
    assert.equal(settled - balance(id), BASE_FEE * 3_600n, 'an hour of storage (the base fee)');
    assert.equal(settledComputing - balance(computing), BASE_FEE * 3_600n + 10_000_000n * 1n * 3_600n, 'an hour of storage and of 1 % compute');

    // A day of storage (864 B) is more than it has: uninstalled at the next charge.
    assert.ok(balance(id) < BASE_FEE * 86_400n);
    offset += 86_400n * SECOND;
    await r.replica.runRound();
    const c = r.replica.state.canister(id)!;
    assert.equal(c.cycles, 0n, 'the rest of the balance is burned');
    assert.equal(c.module, null, 'code gone');
    assert.equal(r.replica.state.chunks.chunks(id).size, 0, 'chunk store cleared');
    assert.equal(r.replica.state.snapshots.list(id).length, 0, 'snapshots deleted');
    const other = r.replica.state.canister(computing)!;
    assert.deepEqual([other.cycles, other.module, other.settings.compute_allocation], [0n, null, 0n], 'the computing one too, its allocation reset');

    // canister_status (a query: free) shows an empty, running canister with nothing allocated.
    // (The clock jumped a day: as with PocketIC's advance_time, an agent syncs its time to the
    // certified /time before dating requests, since ingress_expiry is checked on the replica's clock.)
    const fresh = await HttpAgent.create({ host: r.url, identity: agent.config.identity as never, shouldFetchRootKey: true });
    await fresh.syncTime({ canisterId: id });
    const status = await (Actor.createActor(statusQuery, { agent: fresh, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any).canister_status({ canister_id: id });
    assert.deepEqual(
      {
        status: status.status,
        module_hash: status.module_hash,
        memory_size: status.memory_size,
        cycles: status.cycles,
        idle: status.idle_cycles_burned_per_day,
        compute: status.settings.compute_allocation,
        memory_allocation: status.settings.memory_allocation,
      },
      { status: { running: null }, module_hash: [], memory_size: 0n, cycles: 0n, idle: 0n, compute: 0n, memory_allocation: 0n },
    );
  });
});

test('time the replica was down is charged at the first round after the restart (the paid-up time is kept with the canister)', async () => {
  const stateDir = tempStateDir();
  let offset = 0n;
  const t0 = BigInt(Date.now()) * 1_000_000n;
  // Manual rounds: every round's time is exactly the clock's (no round in between takes its nanosecond).
  const options = { stateDir, debugPrint: () => {}, manualRounds: true, storageFees: { gibStoragePerSecond: 0n, basePerSecond: 0n }, clock: { nowNanos: () => t0 + offset } };
  let r = await startTestReplica(options);
  try {
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const none = { controllers: [], memory_allocation: [], reserved_cycles_limit: [], log_visibility: [], log_memory_limit: [], snapshot_visibility: [], status_visibility: [] };
    const settings = { ...none, compute_allocation: [1n], freezing_threshold: [0n], minimum_incoming_canister_call_cycles: [], wasm_memory_limit: [], wasm_memory_threshold: [], environment_variables: [] };
    const args = managementTypes.provisional_create_canister_with_cycles_args;
    const res = await agent.call('aaaaa-aa', {
      methodName: 'provisional_create_canister_with_cycles',
      arg: IDL.encode([args], [{ amount: [10n ** 13n], settings: [settings], specified_id: [], sender_canister_version: [] }]),
      effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai'),
    });
    await r.replica.runRound();
    const created = (await r.replica.waitForCompletion(new Uint8Array(res.requestId), 10_000)) as { reply: Uint8Array };
    const [{ canister_id: id }] = IDL.decode([managementTypes.provisional_create_canister_with_cycles_result], created.reply) as unknown as [{ canister_id: Principal }];
    offset += 11n * SECOND;
    await r.replica.runRound();
    const settled = r.replica.state.canister(id)!.cycles;
    await r.stop();
    // Down for an hour: the next start's first round charges it, 10 M per second at 1 %.
    offset += 3_600n * SECOND;
    r = { ...(await startTestReplica(options)), cleanup: r.cleanup };
    await r.replica.runRound();
    assert.equal(settled - r.replica.state.canister(id)!.cycles, 10_000_000n * 3_600n);
  } finally {
    await r.stop().catch(() => undefined);
    rmSync(stateDir, { recursive: true, force: true });
  }
});
