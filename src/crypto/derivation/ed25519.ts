/**
 * Ed25519 threshold-key derivation (management methods `schnorr_public_key` /
 * `sign_with_schnorr` with algorithm `ed25519`).
 *
 * HKDF-based hierarchical derivation: per path element, HKDF-SHA512 over the current public key
 * and the element yields a scalar offset and the next chain code. No clamping and no retry rule.
 * Sources: IC interface spec §"Ed25519 hierarchical key derivation"; dfinity/ic
 * `packages/ic-ed25519/src/lib.rs` (`DerivationPath::derive_offset`) and
 * `.../canister_threshold_sig/src/signing/key_derivation.rs` (`eddsa_ckd`); derivation.md §1.3.
 *
 * The IC's Ed25519 threshold key is a *scalar* s (mod ℓ), not an RFC 8032 seed: derived keys
 * s' = s + tweak have no seed, so signers sign with the scalar directly (ic-ed25519
 * `DerivedPrivateKey`). Scalars on the wire are 32 bytes **little-endian** (RFC 8032 / dalek
 * encoding); the HKDF output, by contrast, is read big-endian (see `deriveEd25519PublicKey`).
 *
 * Assumes: the path given here is the *full* path (principal first; see `fullDerivationPath`
 * in `./index.ts`); no length limit is enforced here. Pure: no I/O, no clock.
 */

import { ed25519 } from '@noble/curves/ed25519.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesLE } from '@noble/curves/utils.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { expectLength, mulBase } from './group.ts';

const Point = ed25519.Point;
type Ed25519Point = InstanceType<typeof ed25519.Point>;

/** The Ed25519 prime-order subgroup order ℓ = 2^252 + 27742317777372353535851937790883648493. */
export const ED25519_ORDER: bigint = Point.Fn.ORDER;

/** HKDF `info` for every step: the ASCII string "Ed25519". */
const HKDF_INFO = utf8ToBytes('Ed25519');

/** Result of public derivation. */
export type Ed25519DerivedPublicKey = {
  /** Derived public key, RFC 8032 encoding, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** Chain code after the last path element, 32 bytes. */
  readonly chainCode: Uint8Array;
  /** Σ per-element offsets mod ℓ; derived secret scalar = (master scalar + tweak) mod ℓ. */
  readonly tweak: bigint;
};

/** Result of secret derivation. */
export type Ed25519DerivedSecretKey = {
  /** Derived secret scalar s' (mod ℓ), 32 bytes little-endian; not an RFC 8032 seed. */
  readonly secretKey: Uint8Array;
  /** s'·B, RFC 8032 encoding, 32 bytes (equals `deriveEd25519PublicKey`'s). */
  readonly publicKey: Uint8Array;
  /** Chain code after the last path element, 32 bytes. */
  readonly chainCode: Uint8Array;
};

function derivePoint(
  master: Ed25519Point,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): { point: Ed25519Point; chainCode: Uint8Array; tweak: bigint } {
  let point = master;
  let c: Uint8Array = chainCode.slice();
  let tweak = 0n;
  for (const index of path) {
    // Step 1: IKM = enc(P) (32 bytes, RFC 8032) ‖ index (raw bytes, possibly empty).
    const ikm = concatBytes(point.toBytes(), index);
    // Step 2: OKM = HKDF-SHA512(salt = chain code, IKM, info = "Ed25519", L = 96).
    const okm = hkdf(sha512, ikm, c, HKDF_INFO, 96);
    // Step 3: offset = int_BE(OKM[0..64]) mod ℓ (big-endian: dalek's code reverses the bytes
    // before `from_bytes_mod_order_wide`).
    const offset = bytesToNumberBE(okm.subarray(0, 64)) % ED25519_ORDER;
    // Step 4: P = P + offset·B; chain code = OKM[64..96]; tweak += offset.
    point = point.add(mulBase(Point, offset));
    c = okm.slice(64, 96);
    tweak = (tweak + offset) % ED25519_ORDER;
  }
  return { point, chainCode: c, tweak };
}

/**
 * Derives an Ed25519 public key along a full derivation path.
 * @param masterPublicKey master public key, RFC 8032 encoding, 32 bytes
 * @param chainCode master chain code, 32 bytes (all zeros for the IC's threshold keys)
 * @param path full derivation path: principal bytes first, then each derivation path element;
 *   elements are arbitrary byte strings, possibly empty
 * @returns derived public key (32 bytes), chain code after the last element (32 bytes; the input
 *   chain code for an empty path) and the tweak (bigint < ℓ)
 * @throws Error if a length is wrong or the key does not decode to a curve point
 * Source: IC interface spec §"Ed25519 hierarchical key derivation"; ic-ed25519 `derive_offset`.
 */
export function deriveEd25519PublicKey(
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): Ed25519DerivedPublicKey {
  expectLength('master public key', masterPublicKey, 32);
  expectLength('chain code', chainCode, 32);
  const derived = derivePoint(Point.fromBytes(masterPublicKey), chainCode, path);
  return { publicKey: derived.point.toBytes(), chainCode: derived.chainCode, tweak: derived.tweak };
}

/**
 * Derives the Ed25519 secret scalar matching `deriveEd25519PublicKey`: s' = (s + tweak) mod ℓ,
 * the `key_tweak` the threshold signers add (signing/eddsa.rs `RerandomizedPresignature`).
 * Sign with s' directly (R = r·B, S = r + H(R ‖ A ‖ M)·s'); any nonce derivation is valid,
 * ic-ed25519 uses prefix = SHA-512(s'_LE32 ‖ chain code)[0..32].
 * @param masterSecret master secret scalar s, 32 bytes little-endian, 0 < s < ℓ (for an RFC 8032
 *   seed, pass its clamped scalar reduced mod ℓ)
 * @param chainCode master chain code, 32 bytes
 * @param path full derivation path (as for `deriveEd25519PublicKey`)
 * @returns derived scalar (32 bytes LE), its public key (32 bytes), chain code (32 bytes)
 * @throws Error if a length is wrong or s is out of range
 */
export function deriveEd25519SecretKey(
  masterSecret: Uint8Array,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): Ed25519DerivedSecretKey {
  expectLength('master secret', masterSecret, 32);
  expectLength('chain code', chainCode, 32);
  const s = bytesToNumberLE(masterSecret);
  if (s === 0n || s >= ED25519_ORDER) throw new Error('master secret: expected 0 < s < ℓ');
  // The tweak comes from the *public* derivation, exactly as the replica computes it.
  const derived = derivePoint(Point.BASE.multiply(s), chainCode, path);
  const child = (s + derived.tweak) % ED25519_ORDER;
  return {
    secretKey: numberToBytesLE(child, 32),
    publicKey: derived.point.toBytes(),
    chainCode: derived.chainCode,
  };
}
