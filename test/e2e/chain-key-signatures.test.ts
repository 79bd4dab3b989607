/**
 * Issue 4 (signatures): a Motoko canister pays `(with cycles = ...)` for sign_with_ecdsa,
 * sign_with_schnorr (BIP340 with and without BIP341 aux, Ed25519) and vetkd_derive_key. Oracles:
 * @noble/curves verifies each signature under the key @dfinity/ic-pub-key derives from
 * `chainkey-replica keys --json` + canister id + path; @dfinity/vetkeys decrypts and verifies the
 * vetKey. Balances drop by exactly the fee of the key's subnet; rejects carry the replica's texts
 * and codes and cost nothing; 30 concurrent requests on a queue of 20 refuse the excess; master
 * keys survive kill -9.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import { vetkeys } from '../clients/agent-js-3/index.ts';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { freeApplicationSubnetTopology, managementIdlFactory, startTestReplica, tempStateDir } from '../support/replica-fixture.ts';
import { spawnReplica } from '../support/replica-process.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));
type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];
type KeyLine = { key_id: string; subnet_id: string; public_key: string; chain_code: string; pre_signatures?: number };
const ROOT = new URL('../..', import.meta.url).pathname;

/** `chainkey-replica keys --json --state-dir DIR` (works while the replica runs). */
function keysJson(stateDir: string): Map<string, KeyLine> {
  const out = JSON.parse(execFileSync(process.execPath, ['src/cli.ts', 'keys', '--json', '--state-dir', stateDir], { cwd: ROOT }).toString()) as KeyLine[];
  return new Map(out.map((k) => [k.key_id, k]));
}

/** Creates (optionally at `specifiedId`) and installs the ChainKey fixture; returns its id and actor. */
async function installChainKey(
  url: string,
  wasm: { wasm: Uint8Array; candid: string },
  specifiedId?: Principal,
): Promise<{ id: Principal; actor: any; agent: HttpAgent }> {
  const agent = await HttpAgent.create({ host: url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const effectiveCanisterId = specifiedId ?? Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
  const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId }) as any;
  const id = (
    await mgmt.provisional_create_canister_with_cycles({ amount: [1_000_000_000_000_000n], settings: [], specified_id: specifiedId ? [specifiedId] : [], sender_canister_version: [] })
  ).canister_id as Principal;
  await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm.wasm, arg: IDL.encode([], []), sender_canister_version: [] });
  return { id, actor: Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent, canisterId: id }), agent };
}

describe('chain-key signatures from a Motoko canister', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let actor: any;
  let id: Principal;
  let agent: HttpAgent;
  let keys: Map<string, KeyLine>;
  const path = [new Uint8Array([0, 0, 0, 1]), new Uint8Array(), new Uint8Array(33).fill(5)];
  const FEE_13 = 10_000_000_000n;
  const FEE_34 = 26_153_846_153n;

  before(async () => {
    const wasm = await compileMotokoFixture('ChainKey');
    // The canisters' subnet on the free schedule, the key subnets on the normal one: the chain-key
    // fees are exact; execution and call fees, which would blur the balances, are tested in
    // cycles-fees.test.ts (and a free key subnet in free-schedule.test.ts).
    r = await startTestReplica({ debugPrint: () => {}, topology: freeApplicationSubnetTopology() });
    ({ id, actor, agent } = await installChainKey(r.url, wasm));
    keys = keysJson(r.stateDir);
  });
  after(async () => {
    await r?.cleanup();
  });

  /** Runs `f` and returns how many cycles the canister's balance dropped by. */
  async function charged(f: () => Promise<unknown>): Promise<bigint> {
    const before = (await actor.balance()) as bigint;
    await f();
    return before - ((await actor.balance()) as bigint);
  }

  const ecdsaOracleKey = (keyId: string) =>
    oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex(keys.get(keyId)!).deriveSubkeyWithChainCode(
      oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path),
    );

  for (const [name, fee] of [['test_key_1', FEE_13], ['key_1', FEE_34]] as const) {
    test(`sign_with_ecdsa (${name}): verifies under the ic-pub-key derived key; charges exactly ${fee}; excess refunded`, async () => {
      const hash = sha256(new TextEncoder().encode(`message for ${name}`));
      let res: any;
      const paid = await charged(async () => {
        res = await actor.signEcdsa(name, path, hash, fee + 5_000_000n);
      });
      assert.ok('ok' in res, JSON.stringify(res));
      const sig = res.ok as Uint8Array;
      assert.equal(sig.length, 64);
      const want = ecdsaOracleKey(`ecdsa:Secp256k1:${name}`);
      const pk = await actor.ecdsaPublicKey(name, path);
      assert.equal(hex(pk.ok[0]), want.public_key.toHex(), 'ecdsa_public_key agrees with the oracle');
      assert.ok(secp256k1.verify(sig, hash, unhex(want.public_key.toHex()), { prehash: false }), 'signature verifies (no re-hashing)');
      assert.ok(bytesToNumberBE(sig.subarray(32)) <= secp256k1.Point.Fn.ORDER / 2n, 'low-s');
      assert.equal(paid, fee);
      const again = await actor.signEcdsa(name, path, hash, fee);
      assert.notEqual(hex(again.ok), hex(sig), 'randomized');
    });
  }

  for (const merkleRoot of [undefined, new Uint8Array(), new Uint8Array(32).fill(0x42)]) {
    test(`sign_with_schnorr BIP340 ${merkleRoot === undefined ? 'without aux' : `with bip341 aux (${merkleRoot.length}-byte root)`}`, async () => {
      const message = new TextEncoder().encode('a BIP340 message that is not 32 bytes long');
      let res: any;
      const paid = await charged(async () => {
        res = await actor.signSchnorr(false, 'test_key_1', path, message, merkleRoot ? [merkleRoot] : [], FEE_13);
      });
      assert.ok('ok' in res, JSON.stringify(res));
      const internal = oracleSchnorr.bip340secp256k1.PublicKeyWithChainCode.fromHex(keys.get('schnorr:Bip340Secp256k1:test_key_1')!).deriveSubkeyWithChainCode(
        oracleSchnorr.bip340secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path),
      );
      let xonly = unhex(internal.public_key.toHex()).subarray(1);
      if (merkleRoot) {
        const tt = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', xonly, merkleRoot));
        xonly = numberToBytesBE(schnorr.utils.lift_x(bytesToNumberBE(xonly)).add(secp256k1.Point.BASE.multiply(tt)).toAffine().x, 32);
      }
      assert.ok(schnorr.verify(res.ok, message, xonly));
      assert.equal(paid, FEE_13);
    });
  }

  test('sign_with_schnorr Ed25519 (key_1 on the 34-node subnet)', async () => {
    const message = new TextEncoder().encode('an Ed25519 message');
    let res: any;
    const paid = await charged(async () => {
      res = await actor.signSchnorr(true, 'key_1', path, message, [], FEE_34);
    });
    assert.ok('ok' in res, JSON.stringify(res));
    const m = keys.get('schnorr:Ed25519:key_1')!;
    const want = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(m.public_key, m.chain_code).deriveSubkeyWithChainCode(
      oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path),
    );
    assert.ok(ed25519.verify(res.ok, message, unhex(want.public_key.toHex())));
    assert.equal(paid, FEE_34);
  });

  test('vetkd_derive_key: decrypts with @dfinity/vetkeys and verifies under vetkd_public_key', async () => {
    const tsk = vetkeys.TransportSecretKey.random();
    const context = new TextEncoder().encode('app context');
    const input = new TextEncoder().encode('user 7');
    let res: any;
    const paid = await charged(async () => {
      res = await actor.vetkdDeriveKey('test_key_1', context, input, tsk.publicKeyBytes(), FEE_13 + 1n);
    });
    assert.ok('ok' in res, JSON.stringify(res));
    assert.equal(res.ok.length, 192);
    const dpk = vetkeys.DerivedPublicKey.deserialize((await actor.vetkdPublicKey('test_key_1', context)).ok);
    const vetKey = vetkeys.EncryptedVetKey.deserialize(res.ok).decryptAndVerify(tsk, dpk, input);
    assert.ok(vetkeys.verifyBlsSignature(dpk, input, vetKey.signatureBytes()));
    assert.equal(paid, FEE_13);
  });

  // ---- rejects: exact text and code, and the caller keeps every cycle ------------------------

  const keyList = () => `[${[...keys.keys()].sort().join(', ')}]`;
  const rejects: [string, () => Promise<any>, string][] = [
    [
      'too few cycles',
      () => actor.signEcdsa('test_key_1', [], new Uint8Array(32), FEE_13 - 1n),
      '#canister_reject: sign_with_ecdsa request sent with 9_999_999_999 cycles, but 10_000_000_000 cycles are required.',
    ],
    [
      'too few cycles for key_1 (34 nodes)',
      () => actor.signSchnorr(true, 'key_1', [], new Uint8Array(), [], FEE_13),
      '#canister_reject: sign_with_schnorr request sent with 10_000_000_000 cycles, but 26_153_846_153 cycles are required.',
    ],
    [
      'unknown key id',
      () => actor.signEcdsa('wrong_key', [], new Uint8Array(32), FEE_34),
      `#destination_invalid: Unable to route management canister request sign_with_ecdsa: ChainKeyError("Requested unknown or disabled threshold key: ecdsa:Secp256k1:wrong_key, existing enabled keys: KEYS")`,
    ],
    [
      '256 derivation path elements',
      () => actor.signEcdsa('test_key_1', Array.from({ length: 256 }, () => new Uint8Array([1])), new Uint8Array(32), FEE_13),
      '#destination_invalid: Unable to route management canister request sign_with_ecdsa: UserError(UserError { code: InvalidManagementPayload, description: "Error decoding candid: Deserialize error: The number of elements exceeds maximum allowed 255" })',
    ],
    [
      'a 31-byte message hash',
      () => actor.signEcdsa('test_key_1', [], new Uint8Array(31), FEE_13),
      '#destination_invalid: Unable to route management canister request sign_with_ecdsa: UserError(UserError { code: InvalidManagementPayload, description: "Error decoding candid: Deserialize error: invalid length 31, expected an array of length 32" })',
    ],
    [
      'bip341 aux with a 5-byte root',
      () => actor.signSchnorr(false, 'test_key_1', [], new Uint8Array(), [new Uint8Array(5)], FEE_13),
      '#canister_reject: Invalid aux field for Bip340Secp256k1',
    ],
    [
      'aux on an Ed25519 key',
      () => actor.signSchnorr(true, 'test_key_1', [], new Uint8Array(), [new Uint8Array(32)], FEE_13),
      '#canister_reject: Schnorr algorithm Ed25519 does not support aux input',
    ],
    [
      'an invalid transport public key',
      () => actor.vetkdDeriveKey('test_key_1', new Uint8Array(), new Uint8Array(), new Uint8Array(48), FEE_13),
      '#canister_reject: The provided transport public key is invalid.',
    ],
  ];
  for (const [what, call, text] of rejects) {
    test(`reject: ${what}`, async () => {
      let res: any;
      const paid = await charged(async () => {
        res = await call();
      });
      assert.deepEqual(res, { err: text.replace('KEYS', keyList()) });
      assert.equal(paid, 0n, 'the caller loses no cycles');
    });
  }

  test('255 derivation path elements are accepted (the replica bound)', async () => {
    const long = Array.from({ length: 255 }, (_, i) => new Uint8Array([i]));
    const hash = new Uint8Array(32).fill(1);
    const res = await actor.signEcdsa('test_key_1', long, hash, FEE_13);
    const want = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex(keys.get('ecdsa:Secp256k1:test_key_1')!).deriveSubkeyWithChainCode(
      oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, long),
    );
    assert.ok(secp256k1.verify(res.ok, hash, unhex(want.public_key.toHex()), { prehash: false }));
  });

  test('ingress callers are refused with the replica text', async () => {
    const mgmt = Actor.createActor(
      ({ IDL }: { IDL: any }) =>
        IDL.Service({
          sign_with_ecdsa: IDL.Func(
            [IDL.Record({ message_hash: IDL.Vec(IDL.Nat8), derivation_path: IDL.Vec(IDL.Vec(IDL.Nat8)), key_id: IDL.Record({ curve: IDL.Variant({ secp256k1: IDL.Null }), name: IDL.Text }) })],
            [IDL.Record({ signature: IDL.Vec(IDL.Nat8) })],
            [],
          ),
        }),
      { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id },
    ) as any;
    await assert.rejects(
      mgmt.sign_with_ecdsa({ message_hash: new Uint8Array(32), derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'test_key_1' } }),
      (e: any) => {
        assert.match(String(e.message), /ic00 method sign_with_ecdsa can not be called via ingress messages/);
        assert.match(String(e.message), /IC0406/);
        return true;
      },
    );
  });

  test('30 concurrent requests on a queue of 20: 20 are signed, 10 refused with the queue text, only 20 fees paid', async () => {
    let out: string[] = [];
    const paid = await charged(async () => {
      out = await actor.signEcdsaConcurrently('dfx_test_key', 30n, FEE_13);
    });
    assert.equal(out.filter((t) => t === 'ok').length, 20);
    const refused = out.filter((t) => t !== 'ok');
    assert.equal(refused.length, 10);
    for (const t of refused) assert.equal(t, '#canister_reject: sign_with_ecdsa request failed: request queue for key ecdsa:Secp256k1:dfx_test_key is full.');
    assert.equal(paid, 20n * FEE_13);
  });

  test('a canister on the NNS subnet signs for free (ic0.cost_* still quotes the fee table)', async () => {
    const wasm = await compileMotokoFixture('ChainKey');
    const nns = await installChainKey(r.url, wasm, Principal.fromText('rwlgt-iiaaa-aaaaa-aaaaa-cai'));
    const before = (await nns.actor.balance()) as bigint;
    const hash = new Uint8Array(32).fill(3);
    const res = await nns.actor.signEcdsa('key_1', [], hash, 0n);
    assert.ok('ok' in res, JSON.stringify(res));
    assert.equal((await nns.actor.balance()) as bigint, before);
    assert.deepEqual((await nns.actor.costs('key_1'))[0], [0, FEE_34]);
  });

  test('ic0.cost_sign_with_ecdsa / cost_sign_with_schnorr quote the fee table and the error codes', async () => {
    const costs = await actor.costs('test_key_1');
    assert.deepEqual(costs.slice(0, 3), [
      [0, FEE_13],
      [0, FEE_13],
      [0, FEE_13],
    ]);
    // Curve code 7 does not exist: result 1 (the cost is then undefined, dst is not written).
    assert.equal(costs[3][0], 1);
    assert.deepEqual((await actor.costs('key_1')).slice(0, 3), [
      [0, FEE_34],
      [0, FEE_34],
      [0, FEE_34],
    ]);
    assert.equal((await actor.costs('nope'))[0][0], 2, 'unknown key name: result 2');
  });
});

test('master keys survive kill -9; a signature after the restart verifies under the same key', async () => {
  const dir = tempStateDir();
  const wasm = await compileMotokoFixture('ChainKey');
  try {
    let p = await spawnReplica(dir);
    const { id, actor } = await installChainKey(p.url, wasm);
    const before = keysJson(dir);
    const pk = (await actor.ecdsaPublicKey('test_key_1', [])).ok[0] as Uint8Array;
    p.child.kill('SIGKILL');
    await new Promise((res) => p.child.once('exit', res));
    p = await spawnReplica(dir);
    try {
      // The keys, not the pools: with n > 1 (CHAINKEY_TEST_NODES) pre-signatures keep being made
      // in the background, before the kill and after the restart.
      const keysOnly = (m: Map<string, KeyLine>) => new Map([...m].map(([k, { pre_signatures: _pool, ...key }]) => [k, key]));
      assert.deepEqual(keysOnly(keysJson(dir)), keysOnly(before));
      const agent = await HttpAgent.create({ host: p.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const again = Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent, canisterId: id }) as any;
      const hash = new Uint8Array(32).fill(9);
      const res = await again.signEcdsa('test_key_1', [], hash, 10_000_000_000n);
      assert.ok(secp256k1.verify(res.ok, hash, pk, { prehash: false }));
    } finally {
      p.child.kill('SIGTERM');
      await new Promise((res) => p.child.once('exit', res));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
