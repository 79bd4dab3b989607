/**
 * The IDKG group operations (crypto/threshold/idkg/group.ts) against plain @noble/curves, the
 * reference: its fast paths — libsecp256k1 (WASM) for full-width secp256k1 multiplications,
 * private window tables for G and H, double-and-add for small node multipliers, Straus MSM —
 * must give exactly noble's `multiplyUnsafe` results, for both curves and at the edges (0, 1,
 * the small/wide boundaries, n − 1, the identity); commitment images by finite differences equal
 * Horner's at every node.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { idkgGroup, type GroupPoint, type IdkgCurve } from '../../src/crypto/threshold/idkg/group.ts';
import { evaluateCommitment, evaluateCommitmentCached, type Commitment } from '../../src/crypto/threshold/idkg/polynomial.ts';

type NoblePoint = { multiplyUnsafe(k: bigint): NoblePoint; add(o: NoblePoint): NoblePoint; equals(o: NoblePoint): boolean };
const noble: Record<IdkgCurve, { BASE: NoblePoint; ZERO: NoblePoint; order: bigint }> = {
  secp256k1: { BASE: secp256k1.Point.BASE as unknown as NoblePoint, ZERO: secp256k1.Point.ZERO as unknown as NoblePoint, order: secp256k1.Point.Fn.ORDER },
  ed25519: { BASE: ed25519.Point.BASE as unknown as NoblePoint, ZERO: ed25519.Point.ZERO as unknown as NoblePoint, order: ed25519.Point.Fn.ORDER },
};

for (const curve of ['secp256k1', 'ed25519'] as const) {
  test(`${curve}: mul, mulG, mulH, pedersen and msm equal noble's multiplyUnsafe (edges, small and wide scalars, the identity)`, () => {
    const g = idkgGroup(curve);
    const { BASE, ZERO, order } = noble[curve];
    const ref = (p: GroupPoint, k: bigint): NoblePoint => {
      const r = ((k % order) + order) % order;
      return r === 0n ? ZERO : (p as unknown as NoblePoint).multiplyUnsafe(r);
    };
    const same = (a: GroupPoint, b: NoblePoint, what: string) => assert.ok((a as unknown as NoblePoint).equals(b), what);
    const rand = (bytes: number) => bytesToNumberBE(randomBytes(bytes)) % order;
    const scalars = [0n, 1n, 2n, 13n, 34n, 255n, 256n, 257n, (1n << 64n) - 1n, (1n << 72n) - 1n, 1n << 72n, order - 1n, order, order + 5n, -3n, rand(8), rand(32), rand(32)];
    const points = [BASE.multiplyUnsafe(rand(32)), g.H as unknown as NoblePoint, BASE.multiplyUnsafe(rand(32)).add(BASE)] as unknown as GroupPoint[];
    // 70 rounds: past the point where G's and H's private window tables are built.
    for (let round = 0; round < 70; round++) {
      const k = round < scalars.length ? scalars[round]! : rand(32);
      same(g.mulG(k), ref(g.G, k), `mulG ${k}`);
      same(g.mulH(k), ref(g.H, k), `mulH ${k}`);
    }
    for (const p of points) for (const k of scalars) same(g.mul(p, k), ref(p, k), `mul ${k}`);
    for (const [a, b] of [[0n, 0n], [1n, 0n], [0n, 1n], [255n, rand(32)], [rand(32), 300n], [rand(32), rand(32)], [order - 1n, order - 1n]] as const) {
      same(g.pedersen(a, b), ref(g.G, a).add(ref(g.H, b)), `pedersen ${a}, ${b}`);
    }
    for (const k of scalars) same(g.mul(g.zero, k), ZERO, 'identity · k');
    // MSMs: short (noble Straus) and wide (libsecp256k1 for secp256k1) scalars, zeros and the identity skipped.
    for (const ks of [[rand(8), rand(8), rand(8)], [rand(32), 0n, rand(32)], [1n, order - 1n, rand(8)], [0n, 0n, 0n]]) {
      const ps = [points[0]!, points[2]!, g.H];
      const want = ps.reduce((acc: NoblePoint, p, i) => acc.add(ref(p, ks[i]!)), ZERO);
      same(g.msm(ps, ks), want, `msm ${ks.join(',')}`);
      same(g.msm([...ps, g.zero], [...ks, rand(32)]), want, 'msm with the identity');
    }
    assert.throws(() => g.msm([g.G], []), /differ in length/);
    // Normalized points are the same points, and encode the same.
    const norm = g.normalize(points);
    norm.forEach((p, i) => {
      same(p, points[i] as unknown as NoblePoint, 'normalize');
      assert.deepEqual(g.encode(p), g.encode(points[i]!));
    });
  });
}

test('commitment images by finite differences equal Horner evaluation at every node (t = 1, 2, 5, 12; out of order)', () => {
  for (const curve of ['secp256k1', 'ed25519'] as const) {
    const g = idkgGroup(curve);
    for (const t of [1, 2, 5, 12]) {
      const c: Commitment = { kind: 'simple', points: Array.from({ length: t }, (_, k) => g.mulG(BigInt(7 * k + 3) * 1_000_003n)) };
      // Ask for a late node first (extends the differences), then all of them.
      assert.ok(evaluateCommitmentCached(g, c, 33).equals(evaluateCommitment(g, c, 33)), `${curve} t=${t} x=34`);
      for (let i = 0; i < 40; i++) assert.ok(evaluateCommitmentCached(g, c, i).equals(evaluateCommitment(g, c, i)), `${curve} t=${t} x=${i + 1}`);
    }
  }
});
