/**
 * Management-canister work the replica charges as instructions (dfinity/ic
 * `consume_cycles_for_management_canister_instructions`: 1 cycle per instruction at 13 nodes, no
 * base fee), on top of each ingress message's fee — exact balances on a 13-node subnet:
 * - take_canister_snapshot, and upload_canister_snapshot_metadata (a snapshot of the given
 *   sizes): 2 B + one per byte of the snapshot (`DEFAULT_CANISTERS_SNAPSHOT_BASELINE_INSTRUCTIONS`);
 * - load_canister_snapshot: the same + compiling its module (6000 per instrumented instruction,
 *   a hundredth for a module the subnet compiled before);
 * - read_canister_snapshot_data: 5 M + one per byte read
 *   (`DEFAULT_CANISTERS_SNAPSHOT_DATA_BASELINE_INSTRUCTIONS`); upload_canister_snapshot_data: one
 *   per byte written;
 * - a canister that cannot pay: IC0207 `Canister snapshotting failed with: ...`.
 * - install_chunked_code: the install's execution cost with 1 MiB per listed chunk of assembly
 *   (`WasmSource::instructions_to_assemble`) added to compilation's 6000 per instruction.
 * Expected values come from these formulas and the agent's envelope sizes (the ingress fee).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { instrument } from '../../src/execution/wasm/instrumentation.ts';
import { parseModule, readSectionHeaders } from '../../src/execution/wasm/wasm-binary.ts';
import { startTestReplica } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';

const icDid = readFileSync(new URL('../../candid/ic.did', import.meta.url), 'utf8');
const ingressFee = (envelopeBytes: number): bigint => 1_200_000n + 2_000n * BigInt(envelopeBytes);
const SNAPSHOT_BASELINE = 2_000_000_000n;
const SNAPSHOT_DATA_BASELINE = 5_000_000n;
const MIB = 1_048_576n;

/** No start function or canister_init: installing runs no canister code. */
const WAT = `(module (memory 1) (global $g (mut i64) (i64.const 7)) (data (i32.const 0) "snapshot me")
  (func (export "canister_update ping") (global.set $g (i64.const 8))))`;

describe('management-canister instruction charges (13 nodes)', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let ic: any;
  let id: Principal;
  let agent: HttpAgent;
  let wasm: Uint8Array;
  const bodies: number[] = [];
  const balance = (): bigint => r.replica.state.canister(id)!.cycles;

  /** Runs one management call by ingress; returns its result and how much the balance dropped beyond its ingress fee. */
  async function charged<T>(f: () => Promise<T>): Promise<{ result: T; beyondIngress: bigint }> {
    const before = balance();
    const n = bodies.length;
    const result = await f();
    assert.equal(bodies.length, n + 1, 'one call request');
    return { result, beyondIngress: before - balance() - ingressFee(bodies[n]!) };
  }

  before(async () => {
    wasm = await compileWat(WAT);
    // No storage fees: a charge every 10 s would blur the deltas.
    r = await startTestReplica({ debugPrint: () => {}, storageFees: { gibStoragePerSecond: 0n, basePerSecond: 0n } });
    const recordingFetch: typeof fetch = async (input, init) => {
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/canister\/[^/]+\/call$/.test(url) && init?.body) bodies.push((init.body as ArrayBuffer | Uint8Array).byteLength);
      return fetch(input, init);
    };
    agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true, fetch: recordingFetch });
    const app = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    const create = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: app }) as any;
    ({ canister_id: id } = await create.provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] }));
    ic = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('install_chunked_code: 5 M + 6000 per compiled instruction + 1 MiB of assembly per chunk', async () => {
    const half = Math.ceil(wasm.length / 2);
    const hashes: unknown[] = [];
    for (const part of [wasm.subarray(0, half), wasm.subarray(half)]) {
      const { result, beyondIngress } = await charged(() => ic.upload_chunk({ canister_id: id, chunk: part }));
      assert.equal(beyondIngress, 200_000_000n, 'upload_chunk');
      hashes.push(result);
    }
    const count = BigInt(instrument(wasm, parseModule(wasm, readSectionHeaders(wasm)), 'wasm32').instrumentedOperatorCount);
    const { beyondIngress } = await charged(() =>
      ic.install_chunked_code({
        mode: { install: null },
        target_canister: id,
        store_canister: [],
        chunk_hashes_list: hashes,
        wasm_module_hash: sha256(wasm),
        arg: new Uint8Array(),
        sender_canister_version: [],
      }),
    );
    assert.equal(beyondIngress, 5_000_000n + 6_000n * count + 2n * MIB);
  });

  test('take, load and upload a snapshot: 2 B + its size (+ compilation to load); read 5 M + the bytes, write the bytes', async () => {
    const take = await charged(() => ic.take_canister_snapshot({ canister_id: id, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] }));
    const snapshot = take.result as { id: Uint8Array; total_size: bigint };
    // module + 64 KiB of Wasm memory + one global (8 bytes), nothing certified, no stable memory
    assert.equal(snapshot.total_size, BigInt(wasm.length) + 65_536n + 8n);
    assert.equal(take.beyondIngress, SNAPSHOT_BASELINE + snapshot.total_size, 'take');

    const load = await charged(() => ic.load_canister_snapshot({ canister_id: id, snapshot_id: snapshot.id, sender_canister_version: [] }));
    const count = BigInt(instrument(wasm, parseModule(wasm, readSectionHeaders(wasm)), 'wasm32').instrumentedOperatorCount);
    // The module was compiled on this subnet by the install above: a hundredth of 6000 per instruction.
    assert.equal(load.beyondIngress, SNAPSHOT_BASELINE + snapshot.total_size + (6_000n * count) / 100n, 'load');

    const read = await charged(() =>
      ic.read_canister_snapshot_data({ canister_id: id, snapshot_id: snapshot.id, kind: { wasm_memory: { offset: 0n, size: 11n } } }),
    );
    assert.equal(new TextDecoder().decode((read.result as { chunk: Uint8Array }).chunk), 'snapshot me');
    assert.equal(read.beyondIngress, SNAPSHOT_DATA_BASELINE + 11n, 'read');

    const meta = await charged(() =>
      ic.upload_canister_snapshot_metadata({
        canister_id: id,
        replace_snapshot: [snapshot.id],
        wasm_module_size: BigInt(wasm.length),
        globals: [{ i64: 7n }],
        wasm_memory_size: 65_536n,
        stable_memory_size: 0n,
        certified_data: new Uint8Array(),
        global_timer: [],
        on_low_wasm_memory_hook_status: [],
      }),
    );
    assert.equal(meta.beyondIngress, SNAPSHOT_BASELINE + snapshot.total_size, 'metadata upload: a snapshot of the same sizes');
    const uploaded = (meta.result as { snapshot_id: Uint8Array }).snapshot_id;
    const up = await charged(() => ic.upload_canister_snapshot_data({ canister_id: id, snapshot_id: uploaded, kind: { wasm_module: { offset: 0n } }, chunk: wasm }));
    assert.equal(up.beyondIngress, BigInt(wasm.length), 'upload');
  });

  test('only a successful install records its module as compiled (expected_compiled_wasms): a failed one leaves the next at full price', async () => {
    // canister_init traps when given an argument: the first install fails after compiling.
    const m = await compileWat(`(module (import "ic0" "msg_arg_data_size" (func $size (result i32)))
      (func (export "canister_init") (if (call $size) (then unreachable))) (func (export "canister_update x")))`);
    const count = BigInt(instrument(m, parseModule(m, readSectionHeaders(m)), 'wasm32').instrumentedOperatorCount);
    const { canister_id: c } = await ic.provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] });
    const on = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: c }) as any;
    const install = (mode: object, arg: Uint8Array) => on.install_code({ mode, canister_id: c, wasm_module: m, arg, sender_canister_version: [] });
    await assert.rejects(install({ install: null }, new Uint8Array([1])), /trapped/);
    const cost = async (f: () => Promise<unknown>): Promise<bigint> => {
      const before = r.replica.state.canister(c)!.cycles;
      const n = bodies.length;
      await f();
      return before - r.replica.state.canister(c)!.cycles - ingressFee(bodies[n]!);
    };
    const second = await cost(() => install({ install: null }, new Uint8Array()));
    const third = await cost(() => install({ reinstall: null }, new Uint8Array()));
    // Same hooks, same instructions: they differ by the compilation discount alone.
    assert.equal(second - third, 6_000n * count - (6_000n * count) / 100n);
  });

  test('an invalid module: IC0505, and the install costs 5 M + 6000 per byte of the module (the hypervisor charge for a module that does not compile)', async () => {
    const { canister_id: c } = await ic.provisional_create_canister_with_cycles({ amount: [10n ** 14n], settings: [], specified_id: [], sender_canister_version: [] });
    const on = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: c }) as any;
    const bad = new Uint8Array([0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff, 0xff]); // a type section running off the end
    const before = r.replica.state.canister(c)!.cycles;
    const n = bodies.length;
    await assert.rejects(on.install_code({ mode: { install: null }, canister_id: c, wasm_module: bad, arg: new Uint8Array(), sender_canister_version: [] }), /IC0505/);
    assert.equal(before - r.replica.state.canister(c)!.cycles - ingressFee(bodies[n]!), 5_000_000n + 6_000n * BigInt(bad.length));
  });

  test('a canister that cannot pay for a snapshot: IC0207 with the replica text, only the ingress fee charged', async () => {
    // 1 B cycles: enough for the ingress fee, short of 2 B + the snapshot's size (no storage fees
    // here, so the freezing threshold is 0 and the shortfall is charge - balance after ingress).
    const c = r.replica.state.canister(id)!;
    c.cycles = 1_000_000_000n;
    r.replica.state.markCanisterDirty(id);
    const size = BigInt(wasm.length) + 65_536n + 8n;
    const n = bodies.length;
    await assert.rejects(ic.take_canister_snapshot({ canister_id: id, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] }), (e: Error) => {
      const shortfall = SNAPSHOT_BASELINE + size - (1_000_000_000n - ingressFee(bodies[n]!));
      assert.match(e.message, /IC0207/);
      assert.ok(
        e.message.includes(
          `Canister snapshotting failed with: \`Canister ${id.toText()} is out of cycles: please top up the canister with at least ${shortfall} additional cycles\`\n` +
            'Try sending more cycles with the request. See documentation: https://internetcomputer.org/docs/current/references/execution-errors#canister-snapshot-not-enough-cycles',
        ),
        e.message,
      );
      return true;
    });
    assert.equal(balance(), 1_000_000_000n - ingressFee(bodies[n]!), 'only the ingress fee');
  });
});
