/**
 * Polynomials over a group's scalar field, their commitments and openings (reference idkg.md
 * §1.2; the IC's `utils/poly.rs`):
 * - Simple (Feldman, "unmasked") commitment C_k = a_k·G: reveals a_0·G; an opening at node i is
 *   the scalar a(x_i), checked by Σ C_k·x_i^k == a(x_i)·G.
 * - Pedersen ("masked") commitment C_k = a_k·G + b_k·H with a mask polynomial b: perfectly
 *   hiding; an opening is the pair (a(x_i), b(x_i)).
 * Node index i is evaluated at x_i = i + 1 (never at 0, which is the secret). Pure.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import type { GroupPoint, IdkgGroup } from './group.ts';
import { scalarFrom64 } from './group.ts';

/** A node's opening of a commitment at its index: a value, plus a mask for Pedersen. */
export interface Opening {
  value: bigint;
  /** Present exactly for Pedersen commitments. */
  mask?: bigint;
}

/** Commitment kinds: Simple (Feldman) or Pedersen. */
export type CommitmentKind = 'simple' | 'pedersen';

/** A polynomial commitment: t points, entry k for coefficient k. */
export interface Commitment {
  kind: CommitmentKind;
  points: GroupPoint[];
}

/** A commitment in its stored form: compressed points as hex. */
export interface CommitmentJson {
  kind: CommitmentKind;
  points: string[];
}

/** Random bytes source: returns n fresh (or seeded) bytes. */
export type RandomSource = (n: number) => Uint8Array;

/** A polynomial of t coefficients with the given constant term; the others uniform. */
export function randomPolynomial(group: IdkgGroup, constant: bigint, t: number, random: RandomSource): bigint[] {
  const coeffs = [mod(constant, group.order)];
  for (let k = 1; k < t; k++) coeffs.push(scalarFrom64(group, random(64)));
  return coeffs;
}

/** p(x) by Horner's rule, mod order. */
export function evaluatePolynomial(coeffs: readonly bigint[], x: bigint, order: bigint): bigint {
  let acc = 0n;
  for (let k = coeffs.length - 1; k >= 0; k--) acc = mod(acc * x + coeffs[k]!, order);
  return acc;
}

/** Commits to `values` (Simple) or to `values` masked by `masks` (Pedersen). */
export function commitPolynomial(group: IdkgGroup, values: readonly bigint[], masks?: readonly bigint[]): Commitment {
  // Points are normalized (affine) once here: dealings are hashed and encoded many times.
  if (!masks) return { kind: 'simple', points: group.normalize(values.map((v) => group.mulG(v))) };
  if (masks.length !== values.length) throw new Error('commitPolynomial: value and mask polynomials differ in length');
  return { kind: 'pedersen', points: group.normalize(values.map((v, k) => group.pedersen(v, masks[k]!))) };
}

/** The commitment evaluated at node `index` (x = index + 1): Σ C_k·x^k by Horner with small x. */
export function evaluateCommitment(group: IdkgGroup, c: Commitment, index: number): GroupPoint {
  const x = BigInt(index + 1);
  let acc = group.zero;
  for (let k = c.points.length - 1; k >= 0; k--) acc = group.mul(acc, x).add(c.points[k]!);
  return acc;
}

/** A commitment's images C(x) at x = 1, 2, … so far, and its forward differences at the last x. */
interface Images {
  values: GroupPoint[];
  /** Δ^i C at the last x computed (Δ^0 = C itself); undefined until t values exist. */
  differences?: GroupPoint[];
}

const images = new WeakMap<Commitment, Images>();

/**
 * {@link evaluateCommitment}, memoized per commitment object, for commitments that never change
 * once made (combined commitments of created transcripts, the batch check's W). Evaluating public
 * data is deterministic, so a dealer proving against its input's image and every verifier
 * checking that proof may share one evaluation. The images at x = 1, 2, … are computed in order
 * by finite differences: t Horner evaluations, then t − 1 point additions per further node
 * (instead of t − 1 small multiplications).
 */
export function evaluateCommitmentCached(group: IdkgGroup, c: Commitment, index: number): GroupPoint {
  let im = images.get(c);
  if (!im) {
    im = { values: [] };
    images.set(c, im);
  }
  const m = c.points.length;
  while (im.values.length <= index) {
    const i = im.values.length;
    if (i < m || m < 2) {
      im.values.push(evaluateCommitment(group, c, i));
      continue;
    }
    if (!im.differences) {
      // The difference table of the first m values; each row's last entry is the backward
      // difference ∇^j C at the last x (∇^(m−1) is constant: C has degree m − 1).
      let row = [...im.values];
      const diffs = [row[row.length - 1]!];
      for (let level = 1; level < m; level++) {
        const prev = row;
        row = prev.slice(1).map((p, j) => p.subtract(prev[j]!));
        diffs.push(row[row.length - 1]!);
      }
      im.differences = diffs;
    }
    // Step x → x + 1: ∇^j += ∇^(j+1), highest first (each reads the next one's new value).
    const d = im.differences;
    for (let j = m - 2; j >= 0; j--) d[j] = d[j]!.add(d[j + 1]!);
    im.values.push(d[0]!);
  }
  return im.values[index]!;
}

/** The point an opening claims: value·G (+ mask·H). */
export function openingPoint(group: IdkgGroup, o: Opening): GroupPoint {
  return o.mask === undefined ? group.mulG(o.value) : group.pedersen(o.value, o.mask);
}

/** Whether `o` opens commitment `c` at node `index` (and has the right shape for its kind). */
export function openingMatches(group: IdkgGroup, c: Commitment, index: number, o: Opening): boolean {
  if ((c.kind === 'pedersen') !== (o.mask !== undefined)) return false;
  return openingPoint(group, o).equals(evaluateCommitment(group, c, index));
}

/** Stored form of a commitment. */
export function commitmentToJson(group: IdkgGroup, c: Commitment): CommitmentJson {
  return { kind: c.kind, points: c.points.map((p) => Buffer.from(group.encode(p)).toString('hex')) };
}

/** A commitment from its stored form. @throws Error for an invalid point */
export function commitmentFromJson(group: IdkgGroup, j: CommitmentJson): Commitment {
  return { kind: j.kind, points: j.points.map((h) => group.decode(new Uint8Array(Buffer.from(h, 'hex')))) };
}

/** Canonical bytes of a commitment (for hashing dealings into proofs and supports). */
export function commitmentBytes(group: IdkgGroup, c: Commitment): Uint8Array[] {
  return [new TextEncoder().encode(c.kind), ...c.points.map((p) => group.encode(p))];
}
