/**
 * secp256k1 threshold-key derivation (management methods `ecdsa_public_key` / `sign_with_ecdsa`
 * with curve `secp256k1`, and `schnorr_public_key` / `sign_with_schnorr` with algorithm
 * `bip340secp256k1`: both use this same algorithm, only the master keys differ).
 *
 * The IC's generalised BIP-32: non-hardened CKDpub where each path element is an arbitrary byte
 * string (a 4-byte big-endian `u32 < 2^31` element is exactly BIP-32), with the SLIP-10 retry
 * rule. Sources: ia.cr/2021/1330 Appendix D; dfinity/ic `packages/ic-secp256k1/src/lib.rs`
 * (`DerivationPath::ckd`, `ckd_pub`, `derive_offset`) and
 * `rs/crypto/internal/crypto_lib/threshold_sig/canister_threshold_sig/src/signing/key_derivation.rs`
 * (`bip32_ckdpub`, `derive_tweak_with_chain_code`), wrapped by the replica's
 * `ic_crypto_extended_bip32` (`rs/crypto/extended_bip32`: `public_key_derivation`,
 * `private_key_derivation` = master secret + tweak); derivation.md §1.2.
 *
 * Assumes: the path given here is the *full* path (principal first; see `fullDerivationPath`
 * in `./index.ts`); no length limit is enforced here. Pure: no I/O, no clock.
 * Scalars (secret keys, tweaks) are big-endian on the wire, `bigint` in results.
 */

import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { expectLength, mulBase } from './group.ts';

const Point = secp256k1.Point;
type Secp256k1Point = InstanceType<typeof secp256k1.Point>;

/** The secp256k1 group order n. */
export const SECP256K1_ORDER: bigint = Point.Fn.ORDER;

/** Result of public derivation. */
export type Secp256k1DerivedPublicKey = {
  /** Derived public key, SEC1 compressed (0x02/0x03 ‖ x), 33 bytes; never even-y normalised. */
  readonly publicKey: Uint8Array;
  /** Chain code after the last path element, 32 bytes. */
  readonly chainCode: Uint8Array;
  /** Σ per-element offsets mod n; derived secret = (master secret + tweak) mod n. */
  readonly tweak: bigint;
};

/** Result of secret derivation. */
export type Secp256k1DerivedSecretKey = {
  /** Derived secret scalar, big-endian, 32 bytes. */
  readonly secretKey: Uint8Array;
  /** Its public key, SEC1 compressed, 33 bytes (equals `deriveSecp256k1PublicKey`'s). */
  readonly publicKey: Uint8Array;
  /** Chain code after the last path element, 32 bytes. */
  readonly chainCode: Uint8Array;
};

/**
 * One CKDpub step for one path element (key_derivation.rs `bip32_ckdpub`, SLIP-10 retries).
 * @param parent parent public key point (not infinity)
 * @param chainCode parent chain code, 32 bytes (the HMAC key)
 * @param index path element, arbitrary bytes (possibly empty), appended raw
 * @returns child point, child chain code (32 bytes) and this step's offset IL (< n)
 */
function ckdPub(
  parent: Secp256k1Point,
  chainCode: Uint8Array,
  index: Uint8Array,
): { point: Secp256k1Point; chainCode: Uint8Array; offset: bigint } {
  // Step 1: the HMAC input starts as ser_P(parent), 33 bytes compressed.
  let input: Uint8Array = parent.toBytes(true);
  for (;;) {
    // Step 2: I = HMAC-SHA512(key = c_par, data = input ‖ index); IL = I[0..32], IR = I[32..64].
    const i = hmac(sha512, chainCode, concatBytes(input, index));
    const il = bytesToNumberBE(i.subarray(0, 32));
    const ir = i.slice(32, 64);
    // Step 3 (SLIP-10 retry #1): IL ≥ n → input = 0x01 ‖ IR, same key, same index.
    if (il >= SECP256K1_ORDER) {
      input = concatBytes(Uint8Array.of(0x01), ir);
      continue;
    }
    // Step 4: K_child = K_par + IL·G; (SLIP-10 retry #2) infinity → input = 0x01 ‖ IR.
    const child = parent.add(mulBase(Point, il));
    if (child.is0()) {
      input = concatBytes(Uint8Array.of(0x01), ir);
      continue;
    }
    // Step 5: c_child = IR.
    return { point: child, chainCode: ir, offset: il };
  }
}

function derivePoint(
  master: Secp256k1Point,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): { point: Secp256k1Point; chainCode: Uint8Array; tweak: bigint } {
  let point = master;
  let c: Uint8Array = chainCode.slice();
  let tweak = 0n;
  for (const index of path) {
    const step = ckdPub(point, c, index);
    point = step.point;
    c = step.chainCode;
    tweak = (tweak + step.offset) % SECP256K1_ORDER;
  }
  return { point, chainCode: c, tweak };
}

/**
 * Derives a secp256k1 public key (ECDSA secp256k1 and BIP340 alike) along a full derivation path.
 * @param masterPublicKey master public key, SEC1 compressed, 33 bytes
 * @param chainCode master chain code, 32 bytes (all zeros for the IC's threshold keys)
 * @param path full derivation path: principal bytes first, then each derivation path element;
 *   elements are arbitrary byte strings, possibly empty; no length limit is applied here
 * @returns derived public key (33 bytes), chain code after the last element (32 bytes; the input
 *   chain code for an empty path) and the tweak (bigint < n)
 * @throws Error if a length is wrong or the key is not a valid curve point
 * Source: ia.cr/2021/1330 Appendix D; ic-secp256k1 `derive_offset`; derivation.md §1.2.
 */
export function deriveSecp256k1PublicKey(
  masterPublicKey: Uint8Array,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): Secp256k1DerivedPublicKey {
  expectLength('master public key', masterPublicKey, 33);
  expectLength('chain code', chainCode, 32);
  if (masterPublicKey[0] !== 0x02 && masterPublicKey[0] !== 0x03) {
    throw new Error('master public key: expected SEC1 compressed encoding (0x02/0x03)');
  }
  const derived = derivePoint(Point.fromBytes(masterPublicKey), chainCode, path);
  return { publicKey: derived.point.toBytes(true), chainCode: derived.chainCode, tweak: derived.tweak };
}

/**
 * Derives the secp256k1 secret key matching `deriveSecp256k1PublicKey`: d' = (d + tweak) mod n,
 * the `key_tweak` the threshold signers add (signing/ecdsa.rs `derive_rho`, signing/bip340.rs).
 * For BIP340 the caller still negates d' when the derived point has odd y (standard BIP340).
 * @param masterSecret master secret scalar d, big-endian, 32 bytes, 0 < d < n
 * @param chainCode master chain code, 32 bytes
 * @param path full derivation path (as for `deriveSecp256k1PublicKey`)
 * @returns derived secret (32 bytes big-endian), its public key (33 bytes), chain code (32 bytes)
 * @throws Error if a length is wrong or d is out of range
 */
export function deriveSecp256k1SecretKey(
  masterSecret: Uint8Array,
  chainCode: Uint8Array,
  path: readonly Uint8Array[],
): Secp256k1DerivedSecretKey {
  expectLength('master secret', masterSecret, 32);
  expectLength('chain code', chainCode, 32);
  const d = bytesToNumberBE(masterSecret);
  if (d === 0n || d >= SECP256K1_ORDER) throw new Error('master secret: expected 0 < d < n');
  // The tweak comes from the *public* derivation, exactly as the replica computes it.
  const derived = derivePoint(Point.BASE.multiply(d), chainCode, path);
  const child = (d + derived.tweak) % SECP256K1_ORDER;
  return {
    secretKey: numberToBytesBE(child, 32),
    publicKey: derived.point.toBytes(true),
    chainCode: derived.chainCode,
  };
}
