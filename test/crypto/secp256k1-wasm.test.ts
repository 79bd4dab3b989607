/**
 * The libsecp256k1 (WASM) fast path against @noble/curves, the reference: group operations,
 * ECDSA and BIP340 on seeded random inputs and on the edge cases (zero scalar, the identity,
 * n − 1, P + (−P), high-s), plus the generator's SEC 2 encoding and BIP340's first test vector.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { schnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import * as k1 from '../../src/crypto/secp256k1-wasm.ts';
import { mulberry32 } from '../support/prng.ts';

const P = secp256k1.Point;
const N = k1.SECP256K1_ORDER;
const hex = (b: Uint8Array | null): string => (b === null ? 'identity' : Buffer.from(b).toString('hex'));
const nobleHex = (p: InstanceType<typeof P>, compressed = true): string => (p.is0() ? 'identity' : hex(p.toBytes(compressed)));

function bytesFrom(rand: () => number, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}
function scalarFrom(rand: () => number): bigint {
  return bytesToNumberBE(bytesFrom(rand, 32)) % N;
}

test('secp256k1-wasm: the generator (SEC 2) and the order', () => {
  assert.equal(hex(k1.mulG(1n)), '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');
  assert.equal(N, 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n);
});

test('secp256k1-wasm: group operations agree with noble (seeded random and edge scalars)', () => {
  const rand = mulberry32(1601);
  const scalars = [0n, 1n, 2n, N - 1n, N, N + 5n, -3n, ...Array.from({ length: 12 }, () => scalarFrom(rand))];
  const Q = P.BASE.multiply(scalarFrom(rand));
  const q = k1.fromNoble(Q)!;
  for (const s of scalars) {
    const r = ((s % N) + N) % N;
    const want = r === 0n ? P.ZERO : P.BASE.multiply(r);
    assert.equal(hex(k1.mulG(s)), nobleHex(want), `mulG(${s})`);
    assert.equal(hex(k1.mulG(s, false)), nobleHex(want, false), `mulG(${s}) uncompressed`);
    const wantQ = r === 0n ? P.ZERO : Q.multiplyUnsafe(r);
    assert.equal(hex(k1.mul(q, s)), nobleHex(wantQ), `mul(Q, ${s})`);
    assert.equal(hex(k1.mul(k1.encode(q, true), s, false)), nobleHex(wantQ, false), `mul(Q compressed, ${s})`);
    assert.ok(k1.mulNoble(Q, s).equals(wantQ));
    assert.ok(k1.mulGNoble(s).equals(want));
    assert.equal(hex(k1.add(k1.mulG(s), q)), nobleHex(want.add(Q)), `add(${s}G, Q)`);
  }
  assert.equal(k1.mul(null, 5n), null);
  assert.equal(hex(k1.add(null, q)), nobleHex(Q));
  assert.equal(hex(k1.add(q, null, false)), nobleHex(Q, false));
  assert.equal(k1.add(q, k1.negate(q)), null, 'P + (−P) is the identity');
  assert.equal(hex(k1.negate(k1.encode(q, true))), nobleHex(Q.negate()));
  assert.equal(hex(k1.negate(q)), nobleHex(Q.negate(), false));
  assert.equal(k1.xCoordinate(q), Q.toAffine().x);
  // Σ sᵢ·Pᵢ + g·G, with a null point and a zero scalar among the terms.
  const pts = Array.from({ length: 4 }, () => P.BASE.multiply(scalarFrom(rand)));
  const ks = [scalarFrom(rand), 0n, scalarFrom(rand), N - 1n];
  const g = scalarFrom(rand);
  let want = P.BASE.multiply(g);
  pts.forEach((p, i) => (want = ks[i] === 0n ? want : want.add(p.multiplyUnsafe(ks[i]!))));
  const terms = pts.map((p, i) => [k1.fromNoble(p), ks[i]!] as const);
  assert.equal(hex(k1.linearCombination([...terms, [null, 7n]], g)), nobleHex(want));
  assert.equal(k1.linearCombination([[q, 1n], [q, N - 1n]]), null);
});

test('secp256k1-wasm: malformed points are refused', () => {
  const bad = new Uint8Array(33).fill(0);
  assert.equal(k1.isPoint(bad), false);
  assert.throws(() => k1.mul(bad, 0n));
  assert.throws(() => k1.mul(bad, 3n));
  assert.throws(() => k1.add(bad, k1.mulG(1n)));
  assert.throws(() => k1.negate(bad));
  assert.equal(k1.isPoint(k1.mulG(9n)!), true);
});

test('secp256k1-wasm: ECDSA sign is byte-identical to noble (RFC 6979, low-s); verify agrees', () => {
  const rand = mulberry32(16);
  for (let i = 0; i < 16; i++) {
    const sk = numberToBytesBE(scalarFrom(rand) || 1n, 32);
    const pk = secp256k1.getPublicKey(sk);
    const h = bytesFrom(rand, 32);
    const sig = k1.ecdsaSign(h, sk);
    assert.equal(hex(sig), hex(secp256k1.sign(h, sk, { prehash: false })));
    assert.equal(k1.ecdsaVerify(sig, h, pk), true);
    assert.equal(k1.ecdsaVerify(sig, h, secp256k1.getPublicKey(sk, false)), true);
    const other = Uint8Array.from(h);
    other[0]! ^= 1;
    assert.equal(k1.ecdsaVerify(sig, other, pk), false);
    assert.equal(secp256k1.verify(sig, other, pk, { prehash: false }), false);
    // The high-s twin: refused with lowS (as noble), accepted without.
    const s = bytesToNumberBE(sig.subarray(32));
    const high = Uint8Array.from(sig);
    high.set(numberToBytesBE(N - s, 32), 32);
    assert.equal(k1.ecdsaVerify(high, h, pk), false);
    assert.equal(secp256k1.verify(high, h, pk, { prehash: false, lowS: true }), false);
    assert.equal(k1.ecdsaVerify(high, h, pk, false), true);
    assert.equal(secp256k1.verify(high, h, pk, { prehash: false, lowS: false }), true);
  }
  assert.equal(k1.ecdsaVerify(new Uint8Array(64), new Uint8Array(32), k1.mulG(1n)!), false);
  assert.equal(k1.ecdsaVerify(new Uint8Array(63), new Uint8Array(32), k1.mulG(1n)!), false);
  assert.equal(k1.ecdsaVerify(new Uint8Array(64).fill(1), new Uint8Array(32), new Uint8Array(33)), false);
});

test('secp256k1-wasm: BIP340 agrees with noble (and BIP340 test vector 0)', () => {
  const sk0 = numberToBytesBE(3n, 32);
  const sig0 = k1.schnorrSign(new Uint8Array(32), sk0, new Uint8Array(32));
  assert.equal(
    hex(sig0).toUpperCase(),
    'E907831F80848D1069A5371B402410364BDF1C5F8307B0084C55F1CE2DCA821525F66A4A85EA8B71E482A74F382D2CE5EBEEE8FDB2172F477DF4900D310536C0',
  );
  const rand = mulberry32(340);
  for (let i = 0; i < 8; i++) {
    const sk = numberToBytesBE(scalarFrom(rand) || 1n, 32);
    const pk = schnorr.getPublicKey(sk);
    const m = bytesFrom(rand, 32);
    const aux = bytesFrom(rand, 32);
    const sig = k1.schnorrSign(m, sk, aux);
    assert.equal(hex(sig), hex(schnorr.sign(m, sk, aux)));
    assert.equal(k1.schnorrVerify(sig, m, pk), true);
    const bad = Uint8Array.from(sig);
    bad[63]! ^= 1;
    assert.equal(k1.schnorrVerify(bad, m, pk), false);
    // Other lengths go to noble.
    const long = bytesFrom(rand, 45);
    const sigLong = schnorr.sign(long, sk, aux);
    assert.equal(k1.schnorrVerify(sigLong, long, pk), true);
    assert.equal(k1.schnorrVerify(sigLong, long.subarray(1), pk), false);
  }
  assert.equal(k1.schnorrVerify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(31)), false);
});
