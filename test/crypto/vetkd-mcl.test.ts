/**
 * vetKD on mcl-wasm against the noble reference, byte for byte: the same inputs and per-node
 * randomness give the same 192-byte encrypted key, single-node and 2-of-3, with a random and the
 * identity transport key; @dfinity/vetkeys decrypts the result; invalid transport keys and a bad
 * share are refused; mcl's hash-to-G1 equals noble's for several DSTs and message lengths.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mod } from '@noble/curves/abstract/modular.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { Principal } from '@icp-sdk/core/principal';
import { vetkeys } from '../clients/agent-js-3/index.ts';
import { hashToG1, loadMcl, type McL } from '../../src/crypto/mcl.ts';
import { dealSingleNodeKey, groupOrder, type SecretShare } from '../../src/crypto/threshold/key-transcript.ts';
import { combineEncryptedKeyShares, createEncryptedKeyShare, isValidTransportPublicKey, type VetKdDerivationInputs } from '../../src/crypto/threshold/vetkd-encrypted-key.ts';
import { combineEncryptedKeySharesMcl, createEncryptedKeyShareMcl, prepareVetKdRequestMcl } from '../../src/crypto/threshold/vetkd-encrypted-key-mcl.ts';
import { deriveVetKdPublicKey } from '../../src/crypto/derivation/index.ts';
import { KeyAlgorithm } from '../../src/routing/key-id.ts';
import { mulberry32 } from '../support/prng.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const rand = mulberry32(1616);
const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
const canister = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai').toUint8Array();
const R = groupOrder('bls12_381_g2');

async function mcl(): Promise<McL> {
  const m = await loadMcl();
  assert.ok(m, 'mcl-wasm loads (a dependency)');
  return m;
}

function setup(context: Uint8Array, input: Uint8Array, transportPublicKey: Uint8Array) {
  const { share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.vetkdBls12381G2, name: 'k' }, bytes(64));
  const mpk = bls12_381.G2.Point.BASE.multiply(share.value).toBytes(true);
  const d = deriveVetKdPublicKey(mpk, canister, context);
  const inputs: VetKdDerivationInputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input, transportPublicKey };
  return { share, inputs, derived: d.publicKey };
}

test('vetKD mcl: hash-to-G1 equals noble (RFC 9380) for several DSTs and lengths', async () => {
  const m = await mcl();
  for (const dst of ['BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_AUG_', 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_', 'x']) {
    for (const n of [0, 1, 96, 1500]) {
      const msg = bytes(n);
      assert.equal(hex(hashToG1(m, msg, dst).serialize()), hex(bls12_381.G1.hashToCurve(msg, { DST: dst }).toBytes(true)), `${dst} ${n}`);
    }
  }
});

test('vetKD mcl: byte-identical to noble (1 node and 2 of 3), decrypts with @dfinity/vetkeys', async () => {
  const m = await mcl();
  const tsk = vetkeys.TransportSecretKey.random();
  const { share, inputs, derived } = setup(new TextEncoder().encode('ctx'), bytes(40), tsk.publicKeyBytes());
  const r = bytes(64);
  const req = prepareVetKdRequestMcl(m, inputs);
  const ek = combineEncryptedKeySharesMcl(m, req, [createEncryptedKeyShareMcl(m, req, share, r)]);
  assert.equal(hex(ek), hex(combineEncryptedKeyShares(inputs, [createEncryptedKeyShare(inputs, share, r)])));
  const vetKey = vetkeys.EncryptedVetKey.deserialize(ek).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(derived), inputs.input);
  assert.equal(vetKey.signatureBytes().length, 48);
  // 2 of 3: shares of a degree-1 polynomial through the key, at x = 1, 2, 3.
  const a1 = mod(bytesToNumberBE(bytes(48)), R);
  const xs = [1n, 2n, 3n].map((x) => mod(share.value + a1 * x, R));
  const rs = [bytes(64), bytes(64)];
  const pick = [0, 2];
  const sh = (i: number) => ({ ...share, receiver: i, value: xs[i]! }) as SecretShare;
  const fast = combineEncryptedKeySharesMcl(m, req, pick.map((i, j) => createEncryptedKeyShareMcl(m, req, sh(i), rs[j]!)));
  const ref = combineEncryptedKeyShares(inputs, pick.map((i, j) => createEncryptedKeyShare(inputs, sh(i), rs[j]!)));
  assert.equal(hex(fast), hex(ref));
});

test('vetKD mcl: the identity transport key matches noble; invalid keys and a bad share are refused', async () => {
  const m = await mcl();
  const identity = new Uint8Array(48);
  identity[0] = 0xc0;
  const { share, inputs } = setup(new Uint8Array(), new Uint8Array([1]), identity);
  const r = bytes(64);
  const req = prepareVetKdRequestMcl(m, inputs);
  assert.equal(
    hex(combineEncryptedKeySharesMcl(m, req, [createEncryptedKeyShareMcl(m, req, share, r)])),
    hex(combineEncryptedKeyShares(inputs, [createEncryptedKeyShare(inputs, share, r)])),
  );
  // Not a point, wrong length, and a curve point outside the prime-order subgroup (x = 4 is on
  // y² = x³ + 4 with y² = 68; found by trying x until a non-subgroup point, below).
  const notInSubgroup = nonSubgroupG1();
  assert.equal(isValidTransportPublicKey(identity), true);
  assert.equal(isValidTransportPublicKey(vetkeys.TransportSecretKey.random().publicKeyBytes()), true);
  for (const bad of [new Uint8Array(48), new Uint8Array(47), notInSubgroup]) {
    // Twice each: a refused key is not remembered as a point.
    for (let i = 0; i < 2; i++) {
      assert.equal(isValidTransportPublicKey(bad), false);
      assert.throws(() => prepareVetKdRequestMcl(m, { ...inputs, transportPublicKey: bad }), /invalid transport public key/);
    }
    assert.throws(() => createEncryptedKeyShare({ ...inputs, transportPublicKey: bad }, share, r), /invalid transport public key/);
  }
  // A share made with a wrong key share does not combine.
  const wrong = createEncryptedKeyShareMcl(m, req, { ...share, value: share.value + 1n }, r);
  assert.throws(() => combineEncryptedKeySharesMcl(m, req, [wrong]), /does not verify/);
});

/** A compressed G1 encoding of a curve point not in the prime-order subgroup. */
function nonSubgroupG1(): Uint8Array {
  const Fp = bls12_381.fields.Fp;
  for (let x = 1n; ; x++) {
    const y2 = Fp.add(Fp.pow(x, 3n), 4n);
    let y: bigint;
    try {
      y = Fp.sqrt(y2);
    } catch {
      continue;
    }
    const p = bls12_381.G1.Point.fromAffine({ x, y });
    if (p.is0() || p.isTorsionFree()) continue;
    const out = new Uint8Array(48);
    out.set(Buffer.from(x.toString(16).padStart(96, '0'), 'hex'));
    out[0]! |= 0x80;
    if (y > Fp.neg(y)) out[0]! |= 0x20;
    return out;
  }
}
