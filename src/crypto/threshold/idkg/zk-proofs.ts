/**
 * The two zero-knowledge proofs dealings carry (reference idkg.md §2.3; the IC's `idkg/zk.rs`),
 * as Fiat–Shamir sigma proofs (challenge, responses) over {@link hashToScalar} bound to the
 * transcript's associated data `ad`:
 * - ProofOfEqualOpenings (ReshareOfMasked): for A = a·G + r·H (Pedersen) and B = b·G (Simple),
 *   that a = b, i.e. A − B = r·H: R = k·H, c = RO(ad, A, B, R), z = k + c·r; the verifier
 *   recomputes R = z·H − c·(A − B).
 * - ProofOfProduct (UnmaskedTimesMasked): for A = a·G, B = b·G + β·H, C = ab·G + γ·H, that C
 *   commits to a·b: R1 = r1·G, R2 = r1·B + r2·H, c = RO(ad, A, B, C, R1, R2),
 *   z1 = r1 + c·a, z2 = r2 + c·(γ − a·β); the verifier recomputes R1 = z1·G − c·A and
 *   R2 = z1·B + z2·H − c·C.
 * Pure.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import type { GroupPoint, IdkgGroup } from './group.ts';
import { hashToScalar, scalarFrom64 } from './group.ts';
import type { RandomSource } from './polynomial.ts';

/** ProofOfEqualOpenings: (challenge, response). */
export interface EqualOpeningsProof {
  type: 'EqualOpenings';
  challenge: bigint;
  response: bigint;
}

/** ProofOfProduct: (challenge, z1, z2). */
export interface ProductProof {
  type: 'Product';
  challenge: bigint;
  z1: bigint;
  z2: bigint;
}

export type DealingProof = EqualOpeningsProof | ProductProof;

/** The points' encodings for the challenge hash (normalized together: one field inversion). */
const enc = (g: IdkgGroup, ...ps: GroupPoint[]): Uint8Array[] => g.normalize(ps).map((p) => g.encode(p));

/**
 * Proves A − B = r·H.
 * @param a the Pedersen point a·G + r·H; @param b the Simple point a·G; @param r the mask
 */
export function proveEqualOpenings(g: IdkgGroup, ad: Uint8Array, a: GroupPoint, b: GroupPoint, r: bigint, random: RandomSource): EqualOpeningsProof {
  const k = scalarFrom64(g, random(64));
  const R = g.mulH(k);
  const challenge = hashToScalar(g, 'equal-openings', ad, ...enc(g, a, b, R));
  return { type: 'EqualOpenings', challenge, response: mod(k + challenge * r, g.order) };
}

/** Checks a ProofOfEqualOpenings for (A, B). */
export function verifyEqualOpenings(g: IdkgGroup, ad: Uint8Array, a: GroupPoint, b: GroupPoint, p: EqualOpeningsProof): boolean {
  const R = g.mulH(p.response).subtract(g.mul(a.subtract(b), p.challenge));
  return hashToScalar(g, 'equal-openings', ad, ...enc(g, a, b, R)) === p.challenge;
}

/**
 * Proves that C = a·b·G + γ·H for A = a·G and B = b·G + β·H.
 * @param lhs a; @param rhsMask β; @param productMask γ
 */
export function proveProduct(
  g: IdkgGroup,
  ad: Uint8Array,
  points: { a: GroupPoint; b: GroupPoint; c: GroupPoint },
  witness: { lhs: bigint; rhsMask: bigint; productMask: bigint },
  random: RandomSource,
): ProductProof {
  const r1 = scalarFrom64(g, random(64));
  const r2 = scalarFrom64(g, random(64));
  const R1 = g.mulG(r1);
  const R2 = g.mul(points.b, r1).add(g.mulH(r2));
  const challenge = hashToScalar(g, 'product', ad, ...enc(g, points.a, points.b, points.c, R1, R2));
  return {
    type: 'Product',
    challenge,
    z1: mod(r1 + challenge * witness.lhs, g.order),
    z2: mod(r2 + challenge * (witness.productMask - witness.lhs * witness.rhsMask), g.order),
  };
}

/** Checks a ProofOfProduct for (A, B, C). */
export function verifyProduct(g: IdkgGroup, ad: Uint8Array, points: { a: GroupPoint; b: GroupPoint; c: GroupPoint }, p: ProductProof): boolean {
  const R1 = g.mulG(p.z1).subtract(g.mul(points.a, p.challenge));
  const R2 = g.mul(points.b, p.z1).add(g.mulH(p.z2)).subtract(g.mul(points.c, p.challenge));
  return hashToScalar(g, 'product', ad, ...enc(g, points.a, points.b, points.c, R1, R2)) === p.challenge;
}

/** ProofOfDLogEquivalence: (challenge, response) for log_G A = log_B C. */
export interface DLogEquivalenceProof {
  challenge: bigint;
  response: bigint;
}

/**
 * Proves that A = x·G and C = x·B share one x (reference idkg.md §2.3; MEGa's proof of
 * possession and complaints, §2.2, §2.7): k ← $, R1 = k·G, R2 = k·B, c = RO(ad, A, B, C, R1, R2),
 * z = k + c·x; the verifier recomputes R1 = z·G − c·A and R2 = z·B − c·C.
 * @param x the shared discrete log
 */
export function proveDLogEquivalence(
  g: IdkgGroup,
  ad: Uint8Array,
  points: { a: GroupPoint; b: GroupPoint; c: GroupPoint },
  x: bigint,
  random: RandomSource,
): DLogEquivalenceProof {
  const k = scalarFrom64(g, random(64));
  const challenge = hashToScalar(g, 'dlog-equivalence', ad, ...enc(g, points.a, points.b, points.c, g.mulG(k), g.mul(points.b, k)));
  return { challenge, response: mod(k + challenge * x, g.order) };
}

/** Checks a ProofOfDLogEquivalence for (A = x·G, B, C = x·B). */
export function verifyDLogEquivalence(g: IdkgGroup, ad: Uint8Array, points: { a: GroupPoint; b: GroupPoint; c: GroupPoint }, p: DLogEquivalenceProof): boolean {
  const R1 = g.mulG(p.response).subtract(g.mul(points.a, p.challenge));
  const R2 = g.mul(points.b, p.response).subtract(g.mul(points.c, p.challenge));
  return hashToScalar(g, 'dlog-equivalence', ad, ...enc(g, points.a, points.b, points.c, R1, R2)) === p.challenge;
}
