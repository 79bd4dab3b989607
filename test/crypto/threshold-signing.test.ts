/**
 * Threshold signing from pre-signatures (crypto/threshold): ECDSA, BIP340 (plain and BIP341
 * tweaked), Ed25519 and vetKD, checked by oracles nobody here wrote: @noble/curves verifies each
 * signature under the key @dfinity/ic-pub-key derives; @dfinity/vetkeys decrypts and verifies the
 * vetKey. Both the single-node degenerate case and a 2-of-3 sharing (shares dealt by the test from
 * random polynomials) are combined, so the share interfaces are exercised with t > 1.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mod } from '@noble/curves/abstract/modular.js';
import { secp256k1, schnorr } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Principal } from '@icp-sdk/core/principal';
import { ecdsa as oracleEcdsa, schnorr as oracleSchnorr } from '@dfinity/ic-pub-key';
import { vetkeys } from '../clients/agent-js-3/index.ts';
import { dealSingleNodeKey, groupOrder, publicPoint, type SecretShare } from '../../src/crypto/threshold/key-transcript.ts';
import { dealSingleNodeEcdsaPreSignature, dealSingleNodeSchnorrPreSignature, type EcdsaPreSignature, type EcdsaQuadrupleShare } from '../../src/crypto/threshold/pre-signature.ts';
import { combineEcdsaSignatureShares, createEcdsaSignatureShare } from '../../src/crypto/threshold/ecdsa-signing.ts';
import { combineSchnorrSignatureShares, createSchnorrSignatureShare } from '../../src/crypto/threshold/schnorr-signing.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare, isValidTransportPublicKey } from '../../src/crypto/threshold/vetkd-encrypted-key.ts';
import { deriveEd25519PublicKey, deriveSecp256k1PublicKey, deriveVetKdPublicKey, fullDerivationPath } from '../../src/crypto/derivation/index.ts';
import { KeyAlgorithm } from '../../src/routing/key-id.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rnd = (n: number) => new Uint8Array(randomBytes(n));
const canister = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
const path = [new Uint8Array(), new Uint8Array([1, 2, 3, 4, 5]), new Uint8Array(40).fill(9)];
type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];

/** Shamir shares of `secret` for receivers 0..n-1 with threshold t (test dealer). */
function shamir(secret: bigint, t: number, n: number, order: bigint): bigint[] {
  const coeffs = [secret, ...Array.from({ length: t - 1 }, () => mod(bytesToNumberBE(rnd(48)), order))];
  return Array.from({ length: n }, (_, i) => coeffs.reduceRight((acc, c) => mod(acc * BigInt(i + 1) + c, order), 0n));
}

test('ECDSA: single-node signature verifies under the ic-pub-key derived key; low-s; randomized', () => {
  const { transcript, share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.ecdsaSecp256k1, name: 'k' }, rnd(64));
  const d = deriveSecp256k1PublicKey(transcript.commitment[0]!, new Uint8Array(32), fullDerivationPath(canister.toUint8Array(), path));
  const dp = oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path);
  const oracle = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex({ public_key: hex(transcript.commitment[0]!), chain_code: '00'.repeat(32) }).deriveSubkeyWithChainCode(dp);
  assert.equal(hex(d.publicKey), oracle.public_key.toHex());
  const messageHash = sha256(new TextEncoder().encode('hello'));
  const sigs = [0, 1].map((i) => {
    const pre = dealSingleNodeEcdsaPreSignature(`p${i}`, transcript, [share], rnd(128));
    const inputs = { preSignature: pre, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash, randomness: rnd(32) };
    return combineEcdsaSignatureShares(inputs, [createEcdsaSignatureShare(inputs, pre.shares[0]!)]);
  });
  for (const sig of sigs) {
    assert.equal(sig.length, 64);
    assert.ok(bytesToNumberBE(sig.subarray(32)) <= secp256k1.Point.Fn.ORDER / 2n, 'low-s');
    assert.ok(secp256k1.verify(sig, messageHash, hexToBytes(oracle.public_key.toHex()), { prehash: false }));
  }
  assert.notEqual(hex(sigs[0]!), hex(sigs[1]!));
});

test('ECDSA: 2-of-3 shares combine from any two receivers; a wrong share is caught', () => {
  const N = groupOrder('secp256k1');
  const x = mod(bytesToNumberBE(rnd(48)), N);
  const kappa = mod(bytesToNumberBE(rnd(48)), N);
  const lambda = mod(bytesToNumberBE(rnd(48)), N);
  const [ks, ls, kls, xls] = [kappa, lambda, mod(kappa * lambda, N), mod(x * lambda, N)].map((v) => shamir(v, 2, 3, N));
  const pre: EcdsaPreSignature & { shares: EcdsaQuadrupleShare[] } = {
    kind: 'ecdsa',
    preSignatureId: 'p',
    keyTranscriptId: 'k/0',
    kappaCommitment: publicPoint('secp256k1', kappa),
    shares: [0, 1, 2].map((i) => ({ receiver: i, kappa: ks![i]!, lambda: ls![i]!, kappaTimesLambda: kls![i]!, keyTimesLambda: xls![i]! })),
  };
  const d = deriveSecp256k1PublicKey(publicPoint('secp256k1', x), new Uint8Array(32), [new Uint8Array([7])]);
  const messageHash = rnd(32);
  const inputs = { preSignature: pre, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, messageHash, randomness: rnd(32) };
  const shares = pre.shares.map((s) => createEcdsaSignatureShare(inputs, s));
  for (const pair of [[0, 1], [1, 2], [0, 2]]) {
    const sig = combineEcdsaSignatureShares(inputs, pair.map((i) => shares[i]!));
    assert.ok(secp256k1.verify(sig, messageHash, d.publicKey, { prehash: false }));
  }
  const bad = { ...shares[1]!, nominator: shares[1]!.nominator + 1n };
  assert.throws(() => combineEcdsaSignatureShares(inputs, [shares[0]!, bad]), /does not verify/);
});

for (const aux of [undefined, new Uint8Array(), new Uint8Array(32).fill(0xab)]) {
  test(`BIP340 ${aux === undefined ? 'plain' : `with BIP341 tweak (root ${aux.length} bytes)`}: verifies under the expected x-only key`, () => {
    const { transcript, share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.schnorrBip340Secp256k1, name: 'k' }, rnd(64));
    const full = fullDerivationPath(canister.toUint8Array(), path);
    const d = deriveSecp256k1PublicKey(transcript.commitment[0]!, new Uint8Array(32), full);
    const dp = oracleSchnorr.bip340secp256k1.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path);
    const oracle = oracleSchnorr.bip340secp256k1.PublicKeyWithChainCode.fromHex({ public_key: hex(transcript.commitment[0]!), chain_code: '00'.repeat(32) }).deriveSubkeyWithChainCode(dp);
    assert.equal(hex(d.publicKey), oracle.public_key.toHex());
    for (const message of [new Uint8Array(), rnd(5), rnd(32), rnd(1000)]) {
      const pre = dealSingleNodeSchnorrPreSignature('p', transcript, [share], rnd(64));
      const inputs = { preSignature: pre, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, message, randomness: rnd(32), ...(aux ? { taprootMerkleRoot: aux } : {}) };
      const sig = combineSchnorrSignatureShares(inputs, [createSchnorrSignatureShare(inputs, share, pre.shares[0]!)]);
      // The key a verifier uses: the internal key (x-only), BIP341-tweaked when aux is given.
      let key = d.publicKey.subarray(1);
      if (aux) {
        const P = schnorr.utils.lift_x(bytesToNumberBE(key));
        const tt = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', key, aux));
        key = numberToBytesBE(P.add(secp256k1.Point.BASE.multiply(tt)).toAffine().x, 32);
      }
      assert.ok(schnorr.verify(sig, message, key));
    }
  });
}

test('Ed25519: signature from the derived scalar verifies under the ic-pub-key derived key; 2-of-3 too', () => {
  const { transcript, share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.schnorrEd25519, name: 'k' }, rnd(64));
  const d = deriveEd25519PublicKey(transcript.commitment[0]!, new Uint8Array(32), fullDerivationPath(canister.toUint8Array(), path));
  const dp = oracleSchnorr.ed25519.DerivationPath.withCanisterPrefix(canister as unknown as OraclePrincipal, path);
  const oracle = oracleSchnorr.ed25519.PublicKeyWithChainCode.fromHex(hex(transcript.commitment[0]!), '00'.repeat(32)).deriveSubkeyWithChainCode(dp);
  assert.equal(hex(d.publicKey), oracle.public_key.toHex());
  const message = new TextEncoder().encode('an Ed25519 message of any length');
  const pre = dealSingleNodeSchnorrPreSignature('p', transcript, [share], rnd(64));
  const inputs = { preSignature: pre, derivationTweak: d.tweak, derivedPublicKey: d.publicKey, message, randomness: rnd(32) };
  const sig = combineSchnorrSignatureShares(inputs, [createSchnorrSignatureShare(inputs, share, pre.shares[0]!)]);
  assert.ok(ed25519.verify(sig, message, d.publicKey));

  const L = groupOrder('ed25519');
  const xs = shamir(share.value, 2, 3, L);
  const ks = shamir(pre.shares[0]!.blinder, 2, 3, L);
  const pre3 = { ...pre, shares: ks.map((blinder, receiver) => ({ receiver, blinder })) };
  const inputs3 = { ...inputs, preSignature: pre3 };
  const shares = [0, 2].map((i) => createSchnorrSignatureShare(inputs3, { transcriptId: transcript.transcriptId, receiver: i, value: xs[i]! }, pre3.shares[i]!));
  assert.ok(ed25519.verify(combineSchnorrSignatureShares(inputs3, shares), message, d.publicKey));
});

test('vetKD: the encrypted key decrypts with @dfinity/vetkeys and verifies under the derived key', () => {
  const { transcript, share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.vetkdBls12381G2, name: 'k' }, rnd(64));
  const context = new TextEncoder().encode('ctx');
  const d = deriveVetKdPublicKey(transcript.commitment[0]!, canister.toUint8Array(), context);
  const tsk = vetkeys.TransportSecretKey.random();
  const input = new TextEncoder().encode('user 42');
  const inputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input, transportPublicKey: tsk.publicKeyBytes() };
  assert.ok(isValidTransportPublicKey(inputs.transportPublicKey));
  assert.equal(isValidTransportPublicKey(new Uint8Array(48)), false);
  const ek = combineEncryptedKeyShares(inputs, [createEncryptedKeyShare(inputs, share, rnd(64))]);
  assert.equal(ek.length, 192);
  const vetKey = vetkeys.EncryptedVetKey.deserialize(ek).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(d.publicKey), input);
  assert.equal(vetKey.signatureBytes().length, 48);
  assert.ok(vetkeys.verifyBlsSignature(vetkeys.DerivedPublicKey.deserialize(d.publicKey), input, vetKey.signatureBytes()));
  // 2-of-3 with the key re-shared by the test dealer.
  const xs = shamir(share.value, 2, 3, groupOrder('bls12_381_g2'));
  const shares = [1, 2].map((i) => createEncryptedKeyShare(inputs, { transcriptId: transcript.transcriptId, receiver: i, value: xs[i]! } as SecretShare, rnd(64)));
  const ek3 = combineEncryptedKeyShares(inputs, shares);
  const k3 = vetkeys.EncryptedVetKey.deserialize(ek3).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(d.publicKey), input);
  assert.equal(hex(k3.signatureBytes()), hex(vetKey.signatureBytes()));
});

function hexToBytes(h: string): Uint8Array {
  return new Uint8Array(Buffer.from(h, 'hex'));
}

test('vetKD: the identity transport key (a valid encoding on the replica) still gives a checked answer', () => {
  const { transcript, share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.vetkdBls12381G2, name: 'k' }, rnd(64));
  const d = deriveVetKdPublicKey(transcript.commitment[0]!, canister.toUint8Array(), new Uint8Array());
  const identity = new Uint8Array(48);
  identity[0] = 0xc0;
  const inputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input: new Uint8Array([1]), transportPublicKey: identity };
  assert.ok(isValidTransportPublicKey(identity));
  assert.equal(combineEncryptedKeyShares(inputs, [createEncryptedKeyShare(inputs, share, rnd(64))]).length, 192);
});
