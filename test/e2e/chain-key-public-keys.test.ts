/**
 * Issue 4 (public keys): a Motoko canister asks `aaaaa-aa` for its ECDSA, BIP340, Ed25519 and
 * vetKD public keys. Each ECDSA/Schnorr key equals what `@dfinity/ic-pub-key` derives from the
 * `chainkey-replica keys` master key + the canister id + the path; vetKD keys equal our
 * derivation from the master key (ic-pub-key has no vetKD). An unknown key id rejects with the
 * replica's routing text and reject code 3.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import { deriveVetKdPublicKey } from '../../src/crypto/derivation/index.ts';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];

describe('threshold public keys from a Motoko canister', () => {
  let r: Running;
  let actor: any;
  let id: Principal;
  const path = [new Uint8Array([1, 2, 3]), new Uint8Array(), new Uint8Array(40).fill(7)];

  before(async () => {
    const wasm = await compileMotokoFixture('ChainKey');
    r = await startTestReplica({ debugPrint: () => {} });
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    id = (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
    await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: wasm.wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    actor = Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent, canisterId: id });
  });
  after(async () => {
    await r?.cleanup();
  });

  const master = (keyId: string) => {
    const k = r.replica.masterKeys.get(keyId)!;
    return { public_key: hex(k.publicKey), chain_code: hex(k.chainCode) };
  };

  for (const name of ['test_key_1', 'key_1', 'dfx_test_key']) {
    test(`ecdsa_public_key (${name}) equals @dfinity/ic-pub-key's derivation`, async () => {
      const res = await actor.ecdsaPublicKey(name, path);
      assert.ok('ok' in res, JSON.stringify(res.err));
      const [pk, cc] = res.ok as [Uint8Array, Uint8Array];
      const dp = oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path);
      const want = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex(master(`ecdsa:Secp256k1:${name}`)).deriveSubkeyWithChainCode(dp);
      assert.equal(hex(pk), want.public_key.toHex());
      assert.equal(hex(cc), want.chain_code.toHex());
    });
  }

  test('schnorr_public_key: BIP340 (33-byte SEC1) and Ed25519 (32 bytes) equal the oracle', async () => {
    const bip = await actor.schnorrPublicKey(false, 'test_key_1', path);
    const dpB = oracleSchnorr.bip340secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path);
    const wantB = oracleSchnorr.bip340secp256k1.PublicKeyWithChainCode.fromHex(master('schnorr:Bip340Secp256k1:test_key_1')).deriveSubkeyWithChainCode(dpB);
    assert.equal(hex(bip.ok[0]), wantB.public_key.toHex());
    assert.equal(bip.ok[0].length, 33);
    const ed = await actor.schnorrPublicKey(true, 'key_1', path);
    const dpE = oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, path);
    const m = master('schnorr:Ed25519:key_1');
    const wantE = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(m.public_key, m.chain_code).deriveSubkeyWithChainCode(dpE);
    assert.equal(hex(ed.ok[0]), wantE.public_key.toHex());
    assert.equal(hex(ed.ok[1]), wantE.chain_code.toHex());
    assert.equal(ed.ok[0].length, 32);
  });

  test('vetkd_public_key is the canister + context key (96-byte G2)', async () => {
    const context = new TextEncoder().encode('my context');
    const res = await actor.vetkdPublicKey('test_key_1', context);
    const k = r.replica.masterKeys.get('vetkd:Bls12_381_G2:test_key_1')!;
    assert.equal(hex(res.ok), hex(deriveVetKdPublicKey(k.publicKey, id.toUint8Array(), context).publicKey));
    assert.equal(res.ok.length, 96);
  });

  test('an unknown key id rejects with the replica routing text (reject code 3)', async () => {
    const keys = [...r.replica.masterKeys.keys()].sort().join(', ');
    assert.deepEqual(await actor.ecdsaPublicKey('wrong_key', []), {
      err: `#destination_invalid: Unable to route management canister request ecdsa_public_key: ChainKeyError("Requested unknown threshold key: ecdsa:Secp256k1:wrong_key, existing keys: [${keys}]")`,
    });
  });
});
