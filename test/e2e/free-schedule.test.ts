/**
 * The `free` cost schedule (PocketIC's `CanisterCyclesCostSchedule::Free`) and the chain-key cost
 * quotes. In the replica every fee use case — execution, ingress, transmission, storage, compute,
 * canister creation, HTTPS outcalls and the chain-key requests — has a zero real amount under
 * `Free`; only cycles that move (attached cycles, burns) still leave a balance. A chain-key
 * request is priced by the key-holding subnet, so its schedule decides:
 * - `--cost-schedule free` frees every subnet: a signature costs nothing, its attached cycles all
 *   come back, and `ic0.cost_sign_with_*` / `cost_vetkd_derive_key` / `cost_http_request` quote 0;
 * - per subnet (topology `"cost_schedule": "free"`): a key on a free subnet costs nothing, a key on
 *   a normal subnet its fee, exactly what the quote said, also for a caller on a free subnet.
 * The quotes come from a small WAT canister (the `ic0` calls Motoko does not expose), the
 * signatures from the Motoko ChainKey fixture.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { DEFAULT_TOPOLOGY, parseTopology } from '../../src/routing/topology.ts';
import { compileMotokoFixture, type MotokoOutput } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';

/** 10 B × size / 13 of the key subnet (cycles.md §1). */
const FEE_34 = (10_000_000_000n * 34n) / 13n;

/**
 * `quote`: arg [method u8: 0 ecdsa, 1 schnorr, 2 vetkd][code u32 LE][key name], or [3 http][request
 * size u64][max response u64], [4 create_canister], [5 call][method name size u64][payload size
 * u64]; replies [result i32][cost u128 LE] (cost 0 unless the result is 0).
 */
const QUOTE_WAT = `
(module
  (import "ic0" "msg_arg_data_copy" (func $copy (param i32 i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $size (result i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "cost_sign_with_ecdsa" (func $ecdsa (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "cost_sign_with_schnorr" (func $schnorr (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "cost_vetkd_derive_key" (func $vetkd (param i32 i32 i32 i32) (result i32)))
  (import "ic0" "cost_http_request" (func $http (param i64 i64 i32)))
  (import "ic0" "cost_create_canister" (func $create (param i32)))
  (import "ic0" "cost_call" (func $call (param i64 i64 i32)))
  (memory 1)
  (func (export "canister_query quote") (local $n i32) (local $m i32)
    (local.set $n (call $size))
    (call $copy (i32.const 0) (i32.const 0) (local.get $n))
    (local.set $m (i32.load8_u (i32.const 0)))
    (if (i32.ge_u (local.get $m) (i32.const 3))
      (then
        (if (i32.eq (local.get $m) (i32.const 3)) (then (call $http (i64.load (i32.const 1)) (i64.load (i32.const 9)) (i32.const 1004))))
        (if (i32.eq (local.get $m) (i32.const 4)) (then (call $create (i32.const 1004))))
        (if (i32.eq (local.get $m) (i32.const 5)) (then (call $call (i64.load (i32.const 1)) (i64.load (i32.const 9)) (i32.const 1004)))))
      (else
        (i32.store (i32.const 1000)
          (if (result i32) (i32.eqz (local.get $m))
            (then (call $ecdsa (i32.const 5) (i32.sub (local.get $n) (i32.const 5)) (i32.load (i32.const 1)) (i32.const 1004)))
            (else (if (result i32) (i32.eq (local.get $m) (i32.const 1))
              (then (call $schnorr (i32.const 5) (i32.sub (local.get $n) (i32.const 5)) (i32.load (i32.const 1)) (i32.const 1004)))
              (else (call $vetkd (i32.const 5) (i32.sub (local.get $n) (i32.const 5)) (i32.load (i32.const 1)) (i32.const 1004)))))))))
    (call $append (i32.const 1000) (i32.const 20))
    (call $reply)))`;

type Running = Awaited<ReturnType<typeof startTestReplica>>;

/** A replica with the quote canister and the ChainKey canister, both on the application subnet. */
async function setUp(r: Running, chainKey: MotokoOutput, quoteWasm: Uint8Array) {
  const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
  const create = async (wasm: Uint8Array): Promise<Principal> => {
    const id = (await mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    return id;
  };
  const [signerId, quoteId] = [await create(chainKey.wasm), await create(quoteWasm)];
  const signer = Actor.createActor(idlFactoryFromCandid(chainKey.candid), { agent, canisterId: signerId }) as any;
  /** ic0.cost_* from the quote canister: [result, cycles]. */
  const quote = async (method: 0 | 1 | 2, code: number, name: string): Promise<[number, bigint]> => {
    const arg = new Uint8Array(5 + Buffer.byteLength(name));
    arg[0] = method;
    new DataView(arg.buffer).setUint32(1, code, true);
    arg.set(new TextEncoder().encode(name), 5);
    return decodeQuote(await agent.query(quoteId, { methodName: 'quote', arg }));
  };
  const sizesQuote = async (method: 3 | 4 | 5, requestBytes = 0n, maxResponseBytes = 0n): Promise<bigint> => {
    const arg = new Uint8Array(17);
    arg[0] = method;
    new DataView(arg.buffer).setBigUint64(1, requestBytes, true);
    new DataView(arg.buffer).setBigUint64(9, maxResponseBytes, true);
    return decodeQuote(await agent.query(quoteId, { methodName: 'quote', arg }))[1];
  };
  return { signer, quote, httpQuote: (a: bigint, b: bigint) => sizesQuote(3, a, b), sizesQuote, balance: () => r.replica.state.canister(signerId)!.cycles };
}

function decodeQuote(q: unknown): [number, bigint] {
  const a = (q as { reply: { arg: Uint8Array } }).reply.arg;
  const v = new DataView(a.buffer, a.byteOffset, 20);
  return [v.getInt32(0, true), v.getBigUint64(4, true) + (v.getBigUint64(12, true) << 64n)];
}

const hash = new Uint8Array(32).fill(7);
const transportKey = bls12_381.G1.Point.BASE.toBytes(true);

describe('the free cost schedule', () => {
  let chainKey: MotokoOutput;
  let quoteWasm: Uint8Array;
  before(async () => {
    [chainKey, quoteWasm] = await Promise.all([compileMotokoFixture('ChainKey'), compileWat(QUOTE_WAT)]);
  });

  describe('--cost-schedule free: every subnet free, chain-key requests and outcalls included', () => {
    let r: Running;
    let s: Awaited<ReturnType<typeof setUp>>;
    before(async () => {
      r = await startTestReplica({ debugPrint: () => {}, costSchedule: 'free' });
      s = await setUp(r, chainKey, quoteWasm);
    });
    after(async () => {
      await r?.cleanup();
    });

    test('a signature and a vetKey cost nothing: the attached cycles all come back, the balance does not move', async () => {
      const before = s.balance();
      const sig = await s.signer.signEcdsa('key_1', [], hash, 30_000_000_000n);
      assert.ok('ok' in sig, JSON.stringify(sig));
      const schnorrSig = await s.signer.signSchnorr(true, 'test_key_1', [], new Uint8Array([1, 2]), [], 0n);
      assert.ok('ok' in schnorrSig, JSON.stringify(schnorrSig));
      const vetkey = await s.signer.vetkdDeriveKey('test_key_1', new Uint8Array(), new Uint8Array([1]), transportKey, 0n);
      assert.ok('ok' in vetkey, JSON.stringify(vetkey));
      assert.equal(s.balance(), before);
    });

    test('every ic0.cost_* quotes 0 (sign_with_ecdsa / schnorr, vetkd_derive_key, http_request, create_canister, call); the error codes stay', async () => {
      assert.deepEqual(await s.quote(0, 0, 'key_1'), [0, 0n]);
      assert.deepEqual(await s.quote(1, 1, 'test_key_1'), [0, 0n]);
      assert.deepEqual(await s.quote(2, 0, 'key_1'), [0, 0n]);
      assert.equal(await s.httpQuote(100n, 2_000_000n), 0n);
      assert.equal(await s.sizesQuote(4), 0n, 'cost_create_canister');
      assert.equal(await s.sizesQuote(5, 8n, 100n), 0n, 'cost_call');
      assert.equal((await s.quote(0, 1, 'key_1'))[0], 1, 'unknown curve');
      assert.equal((await s.quote(1, 2, 'key_1'))[0], 1, 'unknown algorithm');
      assert.equal((await s.quote(2, 1, 'key_1'))[0], 1, 'unknown vetKD curve');
      assert.equal((await s.quote(0, 0, 'nope'))[0], 2, 'unknown key name');
    });
  });

  describe('per subnet: the key-holding subnet’s schedule prices the request', () => {
    let r: Running;
    let s: Awaited<ReturnType<typeof setUp>>;
    before(async () => {
      // application (the callers) and test-keys free; fiduciary (key_1) and NNS normal.
      const topology = parseTopology({
        subnets: DEFAULT_TOPOLOGY.subnets.map((x) => (x.kind === 'application' || x.kind === 'test_keys' ? { ...x, cost_schedule: 'free' as const } : x)),
      });
      r = await startTestReplica({ debugPrint: () => {}, topology });
      s = await setUp(r, chainKey, quoteWasm);
    });
    after(async () => {
      await r?.cleanup();
    });

    test('key_1 on the normal 34-node subnet: quoted and charged 10 B × 34 / 13, for ECDSA, Schnorr and vetKD', async () => {
      for (const [method, code, sign] of [
        [0, 0, () => s.signer.signEcdsa('key_1', [], hash, FEE_34 + 1_000n)],
        [1, 0, () => s.signer.signSchnorr(false, 'key_1', [], new Uint8Array([1]), [], FEE_34 + 1_000n)],
        [2, 0, () => s.signer.vetkdDeriveKey('key_1', new Uint8Array(), new Uint8Array([1]), transportKey, FEE_34 + 1_000n)],
      ] as const) {
        const [result, quoted] = await s.quote(method, code, 'key_1');
        assert.deepEqual([result, quoted], [0, FEE_34]);
        const before = s.balance();
        const res = await sign();
        assert.ok('ok' in res, JSON.stringify(res));
        // The caller's subnet is free (no execution or call fees): the drop is the fee alone.
        assert.equal(before - s.balance(), quoted, `method ${method}`);
      }
    });

    test('test_key_1 on the free 13-node subnet: quoted 0, charged 0', async () => {
      assert.deepEqual(await s.quote(0, 0, 'test_key_1'), [0, 0n]);
      assert.deepEqual(await s.quote(2, 0, 'test_key_1'), [0, 0n]);
      const before = s.balance();
      assert.ok('ok' in (await s.signer.signEcdsa('test_key_1', [], hash, 5n)));
      assert.ok('ok' in (await s.signer.vetkdDeriveKey('test_key_1', new Uint8Array(), new Uint8Array([2]), transportKey, 0n)));
      assert.equal(s.balance(), before);
    });
  });
});
