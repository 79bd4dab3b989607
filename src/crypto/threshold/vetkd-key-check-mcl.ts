/**
 * The validity check of vetKD encrypted keys (dfinity/ic vetkd `check_validity`, run by
 * `EncryptedKey::combine` on the combined key) for many keys at once, on mcl-wasm.
 *
 * A key (E1, E2, E3) for transport key tpk, message point H and derived key K is valid when
 *   (1) e(E1, G2) = e(G1, E2)   and   (2) e(E3, G2) = e(H, K) · e(tpk, E2).
 * For keys j = 1..m the check takes fresh random 128-bit scalars αⱼ, βⱼ and tests
 *   e(Σⱼ αⱼ·E1ⱼ + βⱼ·E3ⱼ, G2)⁻¹ · Πⱼ e(αⱼ·G1 + βⱼ·tpkⱼ, E2ⱼ) · Π_K e(Σ_{j: Kⱼ = K} βⱼ·Hⱼ, K) = 1,
 * which is Πⱼ (ratio of (1) for j)^αⱼ · (ratio of (2) for j)^βⱼ: every ratio lives in the
 * order-r target group, so writing it as g^x, the product is g^(Σ αⱼ·uⱼ + βⱼ·vⱼ). If any uⱼ or
 * vⱼ is non-zero (some key invalid), at most one value of its scalar (given all the others)
 * makes the sum 0 mod r: the check passes with probability at most 2⁻¹²⁸. Cost: one
 * multi-Miller loop over 1 + m + (distinct K) pairs and one final exponentiation for all m keys,
 * instead of 3 Miller loops and a final exponentiation each.
 */
import { randomBytes } from 'node:crypto';
import type { Fr, G1, G2 } from 'mcl-wasm';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { millerLoopVec, type McL } from '../mcl.ts';

/** One encrypted key to check with its request's public points. */
export interface McLKeyToCheck {
  e1: G1;
  e2: G2;
  e3: G1;
  /** The transport public key (a valid G1 point, the identity included). */
  tpk: G1;
  /** H = hash_to_G1(ser(K) ‖ input), augmented BLS DST. */
  h: G1;
  /** The derived public key K. */
  k: G2;
  /** K's 96 compressed bytes as hex: keys under the same K share one Miller loop. */
  kId: string;
}

let bases: { mcl: McL; g1: G1; g2: G2 } | null = null;
/** The generators G1, G2 as mcl points (per mcl instance). */
export function generatorsMcl(mcl: McL): { g1: G1; g2: G2 } {
  if (bases?.mcl !== mcl) {
    const g1 = new mcl.G1();
    g1.deserialize(bls12_381.G1.Point.BASE.toBytes(true));
    const g2 = new mcl.G2();
    g2.deserialize(bls12_381.G2.Point.BASE.toBytes(true));
    bases = { mcl, g1, g2 };
  }
  return bases;
}

/**
 * Whether every key satisfies equations (1) and (2) above (false if any does not, except
 * with probability ≤ 2⁻¹²⁸). Pure but for the random scalars.
 * @param keys at least one
 */
export function encryptedKeysAreValidMcl(mcl: McL, keys: readonly McLKeyToCheck[]): boolean {
  const m = keys.length;
  if (m === 0) throw new Error('vetKD check: no keys');
  const { g1, g2 } = generatorsMcl(mcl);
  const random = randomBytes(32 * m);
  const scalar = (i: number): Fr => {
    const f = new mcl.Fr();
    f.setBigEndianMod(new Uint8Array(random.buffer, random.byteOffset + 16 * i, 16));
    return f;
  };
  const alpha = keys.map((_, j) => scalar(2 * j));
  const beta = keys.map((_, j) => scalar(2 * j + 1));
  const ps: G1[] = [mcl.neg(mcl.mulVec([...keys.map((k) => k.e1), ...keys.map((k) => k.e3)], [...alpha, ...beta]))];
  const qs: G2[] = [g2];
  keys.forEach((k, j) => {
    ps.push(mcl.mulVec([g1, k.tpk], [alpha[j]!, beta[j]!]));
    qs.push(k.e2);
  });
  const byK = new Map<string, number[]>();
  keys.forEach((k, j) => {
    const same = byK.get(k.kId);
    if (same) same.push(j);
    else byK.set(k.kId, [j]);
  });
  for (const js of byK.values()) {
    ps.push(mcl.mulVec(js.map((j) => keys[j]!.h), js.map((j) => beta[j]!)));
    qs.push(keys[js[0]!]!.k);
  }
  return mcl.finalExp(millerLoopVec(mcl, ps, qs)).isOne();
}
