/**
 * The two groups IDKG transcripts live in (reference idkg.md §1.2): secp256k1 (ECDSA, BIP340)
 * and Ed25519, each with its base point G and a second generator H of unknown discrete log
 * relative to G (hash-to-curve of "h" with DST `ic-crypto-tecdsa-{curve}-generator-h`, as the
 * IC's `generator_h`; the secp256k1 H equals the IC's constant 037bdcfc…2f59, tested).
 *
 * All scalar multiplications are variable-time (`multiplyUnsafe`): inside one simulator process
 * timing side channels protect nothing, and they are 1.5–2× faster (idkg.md §5.2). A zero scalar
 * gives the identity (noble's `multiply(0)` throws). Pure.
 */
import { ed25519, ed25519_hasher } from '@noble/curves/ed25519.js';
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { mod } from '@noble/curves/abstract/modular.js';
import { bytesToNumberBE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';

/** The curves IDKG transcripts are dealt on. */
export type IdkgCurve = 'secp256k1' | 'ed25519';

/** The point operations both noble point classes offer. */
export interface GroupPoint {
  add(other: GroupPoint): GroupPoint;
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
  /** s·P. */
  mul(p: GroupPoint, s: bigint): GroupPoint;
  /** Compressed encoding: SEC1 33 bytes (secp256k1), RFC 8032 32 bytes (Ed25519). */
  encode(p: GroupPoint): Uint8Array;
  /** @throws Error for bytes that are not a valid point. */
  decode(bytes: Uint8Array): GroupPoint;
}

function makeGroup(curve: IdkgCurve): IdkgGroup {
  const enc = new TextEncoder();
  if (curve === 'secp256k1') {
    const P = secp256k1.Point;
    const H = secp256k1_hasher.hashToCurve(enc.encode('h'), { DST: 'ic-crypto-tecdsa-secp256k1-generator-h' }) as unknown as GroupPoint;
    (H as unknown as { precompute(w: number): unknown }).precompute(8);
    return build(curve, P.Fn.ORDER, P.BASE as unknown as GroupPoint, H, P.ZERO as unknown as GroupPoint, (p) =>
      (p as unknown as InstanceType<typeof P>).is0() ? new Uint8Array(33) : (p as unknown as InstanceType<typeof P>).toBytes(true),
    (b) => (b.length === 33 && b.every((x) => x === 0) ? (P.ZERO as unknown as GroupPoint) : (P.fromBytes(b) as unknown as GroupPoint)));
  }
  const E = ed25519.Point;
  const H = ed25519_hasher.hashToCurve(enc.encode('h'), { DST: 'ic-crypto-tecdsa-ed25519-generator-h' }) as unknown as GroupPoint;
  (H as unknown as { precompute(w: number): unknown }).precompute(8);
  return build(curve, E.Fn.ORDER, E.BASE as unknown as GroupPoint, H, E.ZERO as unknown as GroupPoint, (p) => (p as unknown as InstanceType<typeof E>).toBytes(), (b) =>
    E.fromBytes(b) as unknown as GroupPoint);
}

function build(
  curve: IdkgCurve,
  order: bigint,
  G: GroupPoint,
  H: GroupPoint,
  zero: GroupPoint,
  encode: (p: GroupPoint) => Uint8Array,
  decode: (b: Uint8Array) => GroupPoint,
): IdkgGroup {
  const mul = (p: GroupPoint, s: bigint): GroupPoint => {
    const k = mod(s, order);
    return k === 0n || p.is0() ? zero : p.multiplyUnsafe(k);
  };
  return { curve, order, G, H, zero, mulG: (s) => mul(G, s), mulH: (s) => mul(H, s), mul, encode, decode };
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
