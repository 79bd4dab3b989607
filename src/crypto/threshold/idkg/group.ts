/**
 * The two groups IDKG transcripts live in (reference idkg.md §1.2): secp256k1 (ECDSA, BIP340)
 * and Ed25519, each with its base point G and a second generator H of unknown discrete log
 * relative to G (hash-to-curve of "h" with DST `ic-crypto-tecdsa-{curve}-generator-h`, as the
 * IC's `generator_h`, kept as constants: {@link GENERATOR_H_HEX}; the secp256k1 H equals the
 * IC's constant 037bdcfc…2f59, tested).
 *
 * All scalar multiplications are variable-time: inside one simulator process timing side
 * channels protect nothing (idkg.md §5.2). A zero scalar gives the identity (noble's
 * `multiply(0)` throws). Where each kind of multiplication runs (measured on this machine):
 * - secp256k1, scalars of 16 bits and more: libsecp256k1 in WASM (crypto/secp256k1-wasm.ts):
 *   s·G ~85 µs, s·P ~145 µs, against noble's ~500 µs and ~1 ms; MSMs as the sum of those
 *   (faster here than noble's Straus–Shamir even for 64-bit scalars);
 * - Ed25519: noble, with private 8-bit window tables for G and H once used often, and noble's
 *   Straus–Shamir `mulAddUnsafe` for MSMs;
 * - a small public multiplier (a node's x = index + 1 ≤ 255), both curves: double-and-add on
 *   noble points (2–3× faster than the general path).
 * Points stay noble points throughout (WASM results come back as affine points).
 * Pure.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { mulAddUnsafe, normalizeZ } from '@noble/curves/abstract/curve.js';
import { mod } from '@noble/curves/abstract/modular.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import * as k1 from '../../secp256k1-wasm.ts';

/** The curves IDKG transcripts are dealt on. */
export type IdkgCurve = 'secp256k1' | 'ed25519';

/** The point operations both noble point classes offer. */
export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
  double(): GroupPoint;
  subtract(other: GroupPoint): GroupPoint;
  negate(): GroupPoint;
  multiplyUnsafe(scalar: bigint): GroupPoint;
  equals(other: GroupPoint): boolean;
  is0(): boolean;
}

/** One group with its generators and encodings. */
export interface IdkgGroup {
  curve: IdkgCurve;
  /** Prime order of the group (the scalar field). */
  order: bigint;
  G: GroupPoint;
  H: GroupPoint;
  zero: GroupPoint;
  /** s·G (s reduced mod order; 0 gives the identity). */
  mulG(s: bigint): GroupPoint;
  /** s·H. */
  mulH(s: bigint): GroupPoint;
  /** a·G + b·H (a Pedersen commitment to a with mask b), as an affine point where cheap. */
  pedersen(a: bigint, b: bigint): GroupPoint;
  /** s·P. */
  mul(p: GroupPoint, s: bigint): GroupPoint;
  /**
   * Σ sᵢ·Pᵢ (a multi-scalar multiplication; public scalars only).
   * @throws Error if the lengths differ
   */
  msm(points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint;
  /**
   * The same points in affine form (one shared field inversion): encoding, comparing and
   * hashing them later costs no further inversion.
   */
  normalize(points: readonly GroupPoint[]): GroupPoint[];
  /** Compressed encoding: SEC1 33 bytes (secp256k1), RFC 8032 32 bytes (Ed25519). */
  encode(p: GroupPoint): Uint8Array;
  /** @throws Error for bytes that are not a valid point. */
  decode(bytes: Uint8Array): GroupPoint;
}

/** A noble point constructor, as `mulAddUnsafe` and `normalizeZ` take it. */
type PointClass = Parameters<typeof mulAddUnsafe>[0];

/** Multipliers below this are applied by double-and-add. */
const SMALL = 256n;

/** Fixed-base multiplications by one generator before its private table pays for its build (~60 ms). */
const TABLE_AFTER = 64;

/**
 * A generator with a private 8-bit window table, built once the generator has been used
 * {@link TABLE_AFTER} times (short-lived processes, such as a replica with n = 1 that signs
 * little, never pay for it).
 */
function fixedBase(Point: PointClass, base: GroupPoint): (k: bigint) => GroupPoint {
  const P = Point as unknown as { fromAffine(a: unknown): GroupPoint };
  const copy = P.fromAffine((base as unknown as { toAffine(): unknown }).toAffine());
  let uses = 0;
  return (k) => {
    if (++uses === TABLE_AFTER) (copy as unknown as { precompute(w: number, lazy: boolean): unknown }).precompute(8, false);
    return copy.multiplyUnsafe(k);
  };
}

/**
 * H of each curve, compressed: hash-to-curve of "h" with DST `ic-crypto-tecdsa-{curve}-generator-h`
 * (the IC's `generator_h`), computed once and written here, since hashing to the curve costs
 * ~8 ms of every replica start; test/crypto/idkg-dealings.test.ts recomputes both with noble.
 */
export const GENERATOR_H_HEX = {
  secp256k1: '037bdcfc024cf697a41fd3cda2436c843af5669e50042be3314a532d5b70572f59',
  ed25519: '316c04e1d5898a0620751529953edb5c6eea3b1076f4571a18686a2cec809df9',
} as const;

function makeGroup(curve: IdkgCurve): IdkgGroup {
  const h = Uint8Array.from(Buffer.from(GENERATOR_H_HEX[curve], 'hex'));
  if (curve === 'secp256k1') {
    const P = secp256k1.Point;
    type Pt = InstanceType<typeof P>;
    const H = P.fromBytes(h) as unknown as GroupPoint;
    return build(curve, P as unknown as PointClass, P.BASE as unknown as GroupPoint, H, (p) =>
      (p as unknown as Pt).is0() ? new Uint8Array(33) : (p as unknown as Pt).toBytes(true),
    (b) => (b.length === 33 && b.every((x) => x === 0) ? (P.ZERO as unknown as GroupPoint) : (P.fromBytes(b) as unknown as GroupPoint)), secp256k1Fast(P, H));
  }
  const E = ed25519.Point;
  const H = E.fromBytes(h) as unknown as GroupPoint;
  return build(curve, E as unknown as PointClass, E.BASE as unknown as GroupPoint, H, (p) => (p as unknown as InstanceType<typeof E>).toBytes(), (b) =>
    E.fromBytes(b) as unknown as GroupPoint);
}

/** Full-width multiplications done outside noble (secp256k1: libsecp256k1 in WASM). */
interface FastMul {
  /** k·G, k in [1, order). */
  mulG(k: bigint): GroupPoint;
  /** k·P for a non-identity P, k in [1, order). */
  mul(p: GroupPoint, k: bigint): GroupPoint;
  /** Σ kᵢ·Pᵢ, every Pᵢ non-identity and kᵢ in [1, order). */
  msm(points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint;
  /** a·G + b·H, a and b in [0, order). */
  pedersen(a: bigint, b: bigint): GroupPoint;
}

/**
 * secp256k1's full-width multiplications through libsecp256k1 (crypto/secp256k1-wasm.ts, itself
 * checked against noble): ~150 µs for k·P against noble's ~1 ms. Points cross the boundary as
 * uncompressed SEC1 built from the affine coordinates (one shared inversion per batch, no
 * square roots); what comes back is on the curve by construction (libsecp256k1's output).
 */
function secp256k1Fast(P: typeof secp256k1.Point, H: GroupPoint): FastMul {
  type Pt = InstanceType<typeof P>;
  const toSec1 = (affine: { x: bigint; y: bigint }): Uint8Array => {
    const out = new Uint8Array(65);
    out[0] = 4;
    out.set(numberToBytesBE(affine.x, 32), 1);
    out.set(numberToBytesBE(affine.y, 32), 33);
    return out;
  };
  const fromSec1 = (b: Uint8Array | null): GroupPoint =>
    (b === null ? P.ZERO : P.fromAffine({ x: bytesToNumberBE(b.subarray(1, 33)), y: bytesToNumberBE(b.subarray(33, 65)) })) as unknown as GroupPoint;
  const hSec1 = toSec1((H as unknown as Pt).toAffine());
  return {
    pedersen: (a, b) => {
      // Both products and their sum in libsecp256k1: one affine point back, no noble addition.
      return fromSec1(k1.add(k1.mulG(a, false), k1.mul(hSec1, b, false), false));
    },
    mulG: (k) => fromSec1(k1.mulG(k, false)),
    mul: (p, k) => fromSec1(k1.mul(toSec1((p as unknown as Pt).toAffine()), k, false)),
    msm: (points, scalars) => {
      const affine = normalizeZ(P, points as unknown as Pt[]);
      let acc: Uint8Array | null = null;
      affine.forEach((p, i) => {
        acc = k1.add(acc, k1.mul(toSec1(p.toAffine()), scalars[i]!, false), false);
      });
      return fromSec1(acc);
    },
  };
}

/** Scalars below 2^FAST_BITS stay with noble (double-and-add or its short variable-time path). */
const FAST_BITS = 16;

function build(
  curve: IdkgCurve,
  Point: PointClass,
  G: GroupPoint,
  H: GroupPoint,
  encode: (p: GroupPoint) => Uint8Array,
  decode: (b: Uint8Array) => GroupPoint,
  fast?: FastMul,
): IdkgGroup {
  const wide = 1n << BigInt(FAST_BITS);
  const order = (Point as unknown as { Fn: { ORDER: bigint } }).Fn.ORDER;
  const zero = (Point as unknown as { ZERO: GroupPoint }).ZERO;
  const baseG = fixedBase(Point, G);
  const baseH = fixedBase(Point, H);
  const mul = (p: GroupPoint, s: bigint): GroupPoint => {
    const k = mod(s, order);
    if (k === 0n || p.is0()) return zero;
    if (fast && k >= wide) return p === G ? fast.mulG(k) : fast.mul(p, k);
    if (k >= SMALL) return p === G ? baseG(k) : p === H ? baseH(k) : p.multiplyUnsafe(k);
    // A small public multiplier (a node's x): double-and-add from the top bit.
    const x = Number(k);
    let acc = p;
    for (let b = 30 - Math.clz32(x); b >= 0; b--) {
      acc = acc.double();
      if ((x >> b) & 1) acc = acc.add(p);
    }
    return acc;
  };
  const msm = (points: readonly GroupPoint[], scalars: readonly bigint[]): GroupPoint => {
    if (points.length !== scalars.length) throw new Error('msm: points and scalars differ in length');
    const ps: GroupPoint[] = [];
    const ks: bigint[] = [];
    points.forEach((p, i) => {
      const k = mod(scalars[i]!, order);
      if (k !== 0n && !p.is0()) {
        ps.push(p);
        ks.push(k);
      }
    });
    if (ps.length === 0) return zero;
    if (ps.length === 1) return mul(ps[0]!, ks[0]!);
    if (fast && ks.some((k) => k >= wide)) return fast.msm(ps, ks);
    return mulAddUnsafe(Point, ps as never, ks) as unknown as GroupPoint;
  };
  const one = (Point as unknown as { Fp: { ONE: bigint } }).Fp.ONE;
  const normalize = (points: readonly GroupPoint[]): GroupPoint[] => {
    // Points already affine (Z = 1, e.g. from libsecp256k1) need no inversion at all.
    if (points.every((p) => (p as unknown as { Z: bigint }).Z === one)) return [...points];
    return normalizeZ(Point, points as never) as unknown as GroupPoint[];
  };
  const pedersen = (a: bigint, b: bigint): GroupPoint => {
    const ka = mod(a, order);
    const kb = mod(b, order);
    if (fast && ka >= wide && kb >= wide) return fast.pedersen(ka, kb);
    return mul(G, ka).add(mul(H, kb));
  };
  return { curve, order, G, H, zero, mulG: (s) => mul(G, s), mulH: (s) => mul(H, s), pedersen, mul, msm, normalize, encode, decode };
}

const groups = new Map<IdkgCurve, IdkgGroup>();

/** The group of a curve (built once). */
export function idkgGroup(curve: IdkgCurve): IdkgGroup {
  let g = groups.get(curve);
  if (!g) {
    g = makeGroup(curve);
    groups.set(curve, g);
  }
  return g;
}

/**
 * A uniform scalar from 64 bytes (reduced mod the order; bias < 2⁻¹²⁸).
 * @throws Error for fewer than 64 bytes
 */
export function scalarFrom64(group: IdkgGroup, bytes: Uint8Array): bigint {
  if (bytes.length < 64) throw new Error('scalarFrom64: need 64 random bytes');
  return mod(bytesToNumberBE(bytes.subarray(0, 64)), group.order);
}

/**
 * The random oracle of the proofs (Fiat–Shamir): SHA-512 over a domain separator and the
 * length-prefixed inputs, reduced mod the order.
 */
export function hashToScalar(group: IdkgGroup, domain: string, ...parts: Uint8Array[]): bigint {
  const chunks: Uint8Array[] = [new TextEncoder().encode(`chainkey-replica-idkg-${group.curve}-${domain}`)];
  for (const p of parts) {
    const len = new Uint8Array(4);
    new DataView(len.buffer).setUint32(0, p.length);
    chunks.push(len, p);
  }
  return mod(bytesToNumberBE(sha512(concatBytes(...chunks))), group.order);
}
