/**
 * secp256k1 through libsecp256k1 compiled to WebAssembly (the `tiny-secp256k1` package of
 * bitcoinjs): ECDSA and BIP340 signing and verification, and the group operations the chain-key
 * path uses (s·G, s·P, P + Q, Σ sᵢ·Pᵢ). On this machine it is 4–7× faster than @noble/curves for
 * the expensive operations (ECDSA verify ~190 vs ~1,160 µs, an arbitrary-point multiplication
 * ~140 vs ~770 µs variable-time, ECDSA sign ~95 vs ~480 µs); noble stays the reference: every
 * function here is checked against it in test/crypto/secp256k1-wasm.test.ts.
 *
 * Points at this boundary are SEC1 bytes, compressed (33) or uncompressed (65); the identity
 * (point at infinity), which has no SEC1 encoding, is `null`. Parsing a compressed point costs a
 * square root (~20 µs in WASM, ~60 µs in noble); an uncompressed one does not, so keep
 * intermediate results uncompressed (`compressed = false`) and compress once at the end. Scalars
 * are bigints, reduced mod the group order n (0 allowed: 0·P is the identity). For noble
 * `Point`s, {@link mulNoble} and {@link mulGNoble} convert on the way in and out.
 *
 * libsecp256k1 multiplies in constant time; the replica does not rely on that (inside one
 * simulator process timing channels protect nothing). The module is pure (no I/O, no clock);
 * loading it instantiates the WASM module once (~2 ms).
 */
import * as wasm from 'tiny-secp256k1';
import { schnorr as nobleSchnorr, secp256k1 } from '@noble/curves/secp256k1.js';
import { mod } from '@noble/curves/abstract/modular.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';

const NoblePoint = secp256k1.Point;
type NoblePoint = InstanceType<typeof NoblePoint>;

/** The order n of the secp256k1 group. */
export const SECP256K1_ORDER: bigint = NoblePoint.Fn.ORDER;
/** The field prime p of secp256k1. */
const FIELD_P: bigint = NoblePoint.Fp.ORDER;

/** A point in SEC1 encoding (33 bytes compressed, 65 uncompressed), or null for the identity. */
export type PointBytes = Uint8Array | null;

/**
 * The 32-byte big-endian encoding of k mod n, or null for k ≡ 0 (libsecp256k1 takes no zero scalar).
 */
function scalar(k: bigint): Uint8Array | null {
  const r = mod(k, SECP256K1_ORDER);
  return r === 0n ? null : numberToBytesBE(r, 32);
}

/**
 * s·G.
 * @param k the scalar (any bigint; reduced mod n)
 * @param compressed SEC1 compressed (33 bytes, default) or uncompressed (65 bytes)
 * @returns the point, or null for k ≡ 0 mod n
 */
export function mulG(k: bigint, compressed = true): PointBytes {
  const s = scalar(k);
  return s === null ? null : wasm.pointFromScalar(s, compressed);
}

/**
 * k·P.
 * @param p SEC1 point (33 or 65 bytes) or null (the identity)
 * @returns the point, or null when it is the identity
 * @throws Error for bytes that are not a point on the curve
 */
export function mul(p: PointBytes, k: bigint, compressed = true): PointBytes {
  if (p === null) return null;
  const s = scalar(k);
  if (s === null) {
    assertPoint(p);
    return null;
  }
  return wasm.pointMultiply(p, s, compressed);
}

/**
 * P + Q.
 * @returns the sum, or null when it is the identity
 * @throws Error for bytes that are not a point on the curve
 */
export function add(p: PointBytes, q: PointBytes, compressed = true): PointBytes {
  if (p === null) return q === null ? null : encode(q, compressed);
  if (q === null) return encode(p, compressed);
  return wasm.pointAdd(p, q, compressed);
}

/**
 * −P (no curve arithmetic: the y coordinate is negated in the encoding).
 * @throws Error for bytes that are not a point on the curve
 */
export function negate(p: PointBytes): PointBytes {
  if (p === null) return null;
  assertPoint(p);
  const out = Uint8Array.from(p);
  if (p.length === 33) {
    out[0] = p[0] === 0x02 ? 0x03 : 0x02;
    return out;
  }
  const y = bytesToNumberBE(p.subarray(33));
  out.set(numberToBytesBE(FIELD_P - y, 32), 33);
  return out;
}

/**
 * The linear combination g·G + Σ sᵢ·Pᵢ (a multi-scalar multiplication done term by term;
 * intermediate sums stay uncompressed).
 * @param terms pairs of a point (or null) and its scalar
 * @param g the scalar of the base point G (0 or absent: no G term)
 * @returns the point, or null for the identity
 * @throws Error for bytes that are not a point on the curve
 */
export function linearCombination(terms: readonly (readonly [PointBytes, bigint])[], g = 0n, compressed = true): PointBytes {
  let acc: PointBytes = mulG(g, false);
  for (const [p, k] of terms) acc = add(acc, mul(p, k, false), false);
  return acc === null ? null : encode(acc, compressed);
}

/**
 * Re-encodes a point (compress or decompress).
 * @throws Error for bytes that are not a point on the curve
 */
export function encode(p: Uint8Array, compressed = true): Uint8Array {
  return wasm.pointCompress(p, compressed);
}

/** Whether bytes are a SEC1 encoding (33 or 65 bytes) of a point on the curve. */
export function isPoint(p: Uint8Array): boolean {
  return wasm.isPoint(p);
}

function assertPoint(p: Uint8Array): void {
  if (!wasm.isPoint(p)) throw new Error('Expected Point');
}

/** The affine x coordinate of a point, as a bigint (e.g. ECDSA's r before reduction mod n). */
export function xCoordinate(p: Uint8Array): bigint {
  return bytesToNumberBE(p.subarray(1, 33));
}

// ---- signatures ---------------------------------------------------------------------------------

/**
 * ECDSA signature of a 32-byte hash (signed as is: no re-hashing), RFC 6979 deterministic nonce,
 * low-s; byte-identical to noble's `secp256k1.sign(hash, key, { prehash: false })`.
 * @param hash 32 bytes
 * @param secretKey 32 bytes, in [1, n − 1]
 * @returns r ‖ s, 64 bytes big-endian
 * @throws Error for a wrong length or an invalid key
 */
export function ecdsaSign(hash: Uint8Array, secretKey: Uint8Array): Uint8Array {
  return wasm.sign(hash, secretKey);
}

/**
 * Verifies an ECDSA signature over a 32-byte hash (noble's `verify(sig, hash, key, { prehash:
 * false, lowS })`).
 * @param signature r ‖ s, 64 bytes
 * @param hash 32 bytes
 * @param publicKey SEC1, 33 or 65 bytes
 * @param lowS reject s > n/2 (the IC's signatures are low-s; default true)
 * @returns false for an invalid signature or malformed input (never throws)
 */
export function ecdsaVerify(signature: Uint8Array, hash: Uint8Array, publicKey: Uint8Array, lowS = true): boolean {
  if (signature.length !== 64 || hash.length !== 32) return false;
  try {
    if (!lowS) {
      // libsecp256k1 verifies low-s only: a high-s signature verifies iff its low-s twin does.
      const s = bytesToNumberBE(signature.subarray(32));
      if (s > SECP256K1_ORDER >> 1n && s < SECP256K1_ORDER) {
        const twin = Uint8Array.from(signature);
        twin.set(numberToBytesBE(SECP256K1_ORDER - s, 32), 32);
        return wasm.verify(hash, publicKey, twin, true);
      }
    }
    return wasm.verify(hash, publicKey, signature, true);
  } catch {
    return false;
  }
}

/**
 * BIP340 Schnorr signature of a 32-byte message (bip-0340.mediawiki "Default Signing").
 * @param message 32 bytes (longer messages: use noble's `schnorr.sign`)
 * @param secretKey 32 bytes
 * @param auxRand 32 bytes of auxiliary randomness
 * @returns R.x ‖ s, 64 bytes; byte-identical to noble's `schnorr.sign(message, key, auxRand)`
 */
export function schnorrSign(message: Uint8Array, secretKey: Uint8Array, auxRand: Uint8Array): Uint8Array {
  return wasm.signSchnorr(message, secretKey, auxRand);
}

/**
 * Verifies a BIP340 signature.
 * @param signature 64 bytes
 * @param message any length; only 32-byte messages go to libsecp256k1, others to noble
 * @param publicKey x-only, 32 bytes
 * @returns false for an invalid signature or malformed input (never throws)
 */
export function schnorrVerify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return message.length === 32 ? wasm.verifySchnorr(message, publicKey, signature) : nobleSchnorr.verify(signature, message, publicKey);
  } catch {
    return false;
  }
}

// ---- noble interop ------------------------------------------------------------------------------

/** A noble point to SEC1 uncompressed bytes (null for the identity). */
export function fromNoble(p: NoblePoint): PointBytes {
  return p.is0() ? null : p.toBytes(false);
}

/** SEC1 bytes (or null) to a noble point. */
export function toNoble(p: PointBytes): NoblePoint {
  return p === null ? NoblePoint.ZERO : NoblePoint.fromBytes(p);
}

/** k·P for noble points, through libsecp256k1 (= `P.multiplyUnsafe(k mod n)`, 0 → ZERO). */
export function mulNoble(p: NoblePoint, k: bigint): NoblePoint {
  return toNoble(mul(fromNoble(p), k, false));
}

/** k·G as a noble point, through libsecp256k1 (= `Point.BASE.multiply(k mod n)`, 0 → ZERO). */
export function mulGNoble(k: bigint): NoblePoint {
  return toNoble(mulG(k, false));
}
