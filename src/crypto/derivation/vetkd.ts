/**
 * vetKD key derivation (management methods `vetkd_public_key` / `vetkd_derive_key`, curve
 * `bls12_381_g2`).
 *
 * Not BIP-32-like: no chain code and no per-element loop. Two steps, each adding a
 * hash-to-scalar offset times the G2 generator:
 *   off1 = H(ser(mpk),   canister id, "ic-vetkd-bls12-381-g2-canister-id"); K_can = mpk + off1·G2
 *   off2 = H(ser(K_can), context,     "ic-vetkd-bls12-381-g2-context");    K = K_can + off2·G2
 * where H(a, b, DST) = RFC 9380 hash_to_field(u64_be(|a|) ‖ a ‖ u64_be(|b|) ‖ b, count 1,
 * p = r (BLS12-381 scalar field), m = 1, k = 128, expand_message_xmd SHA-256) and the second step
 * is skipped for an empty context. Derived secret = msk + off1 (+ off2) mod r.
 * Sources: dfinity/ic `rs/crypto/internal/crypto_lib/bls12_381/vetkd/src/lib.rs`
 * (`DerivationContext::derive_key`); dfinity/vetkeys `backend/rs/ic_vetkeys/src/utils/mod.rs`
 * (`derive_canister_key`, `derive_sub_key`, `hash_to_scalar_two_inputs`); derivation.md §1.4.
 *
 * Scalars on the wire are 32 bytes big-endian; points are compressed G2, 96 bytes.
 * Pure: no I/O, no clock.
 */

import { bls12_381 } from '@noble/curves/bls12-381.js';
import { hash_to_field } from '@noble/curves/abstract/hash-to-curve.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { expectLength, mulBase } from './group.ts';

const G2 = bls12_381.G2.Point;
type G2Point = InstanceType<typeof bls12_381.G2.Point>;

/** The BLS12-381 scalar-field order r. */
export const BLS12_381_ORDER: bigint = G2.Fn.ORDER;

/** Domain separators of the two derivation steps (vetkd `lib.rs`, ic_vetkeys `utils/mod.rs`). */
export const VETKD_CANISTER_ID_DST = 'ic-vetkd-bls12-381-g2-canister-id';
export const VETKD_CONTEXT_DST = 'ic-vetkd-bls12-381-g2-context';

/** Result of public derivation. */
export type VetKdDerivedPublicKey = {
  /** Derived public key K, compressed G2, 96 bytes (what `vetkd_public_key` returns). */
  readonly publicKey: Uint8Array;
  /** delta = off1 (+ off2) mod r; derived secret = (msk + delta) mod r. */
  readonly tweak: bigint;
};

/** Result of secret derivation. */
export type VetKdDerivedSecretKey = {
  /** Derived secret scalar msk + delta mod r, 32 bytes big-endian. */
  readonly secretKey: Uint8Array;
  /** Its public key (secretKey·G2), compressed G2, 96 bytes (equals `deriveVetKdPublicKey`'s). */
  readonly publicKey: Uint8Array;
};

/** u64_be(|x|) ‖ x. */
function lengthPrefixed(x: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(8);
  new DataView(prefix.buffer).setBigUint64(0, BigInt(x.length), false);
  return concatBytes(prefix, x);
}

/**
 * H(a, b, DST): ic_vetkeys `hash_to_scalar_two_inputs` — RFC 9380 §5.2 hash_to_field into the
 * scalar field (count 1, m 1, k 128 → L = 48 bytes, expand_message_xmd with SHA-256).
 */
function hashToScalarTwoInputs(a: Uint8Array, b: Uint8Array, dst: string): bigint {
  const msg = concatBytes(lengthPrefixed(a), lengthPrefixed(b));
  const [u] = hash_to_field(msg, 1, {
    DST: dst,
    p: BLS12_381_ORDER,
    m: 1,
    k: 128,
    expand: 'xmd',
    hash: sha256,
  });
  const scalar = u?.[0];
  if (scalar === undefined) throw new Error('hash_to_field returned no element');
  return scalar;
}

function deriveFromPoint(
  master: G2Point,
  canisterId: Uint8Array,
  context: Uint8Array,
): { point: G2Point; tweak: bigint } {
  // Step 1: off1 = H(ser(mpk), canister id, canister-id DST); K_can = mpk + off1·G2.
  const off1 = hashToScalarTwoInputs(master.toBytes(true), canisterId, VETKD_CANISTER_ID_DST);
  const canisterKey = master.add(mulBase(G2, off1));
  // Step 2 (only for a non-empty context): off2 = H(ser(K_can), context, context DST).
  if (context.length === 0) return { point: canisterKey, tweak: off1 };
  const off2 = hashToScalarTwoInputs(canisterKey.toBytes(true), context, VETKD_CONTEXT_DST);
  return { point: canisterKey.add(mulBase(G2, off2)), tweak: (off1 + off2) % BLS12_381_ORDER };
}

/**
 * Derives the vetKD public key of a canister and context.
 * @param masterPublicKey master public key, compressed G2, 96 bytes
 * @param canisterId the canister's raw principal bytes (not text), ≤ 29 bytes in practice
 * @param context the `context` argument, arbitrary bytes; empty means no second step
 * @returns derived public key (96 bytes) and delta (bigint < r)
 * @throws Error if a length is wrong or the key is not a valid G2 point
 * Source: vetkd `lib.rs` `DerivationContext::derive_key`; derivation.md §1.4.
 */
export function deriveVetKdPublicKey(
  masterPublicKey: Uint8Array,
  canisterId: Uint8Array,
  context: Uint8Array,
): VetKdDerivedPublicKey {
  expectLength('master public key', masterPublicKey, 96);
  const derived = deriveFromPoint(G2.fromBytes(masterPublicKey), canisterId, context);
  return { publicKey: derived.point.toBytes(true), tweak: derived.tweak };
}

/**
 * Second step alone: derives a context sub-key from a canister key (what `vetkd_public_key`
 * returns for an empty context), as ic_vetkeys `DerivedPublicKey::derive_sub_key` does offline.
 * @param canisterPublicKey canister key K_can, compressed G2, 96 bytes
 * @param context arbitrary bytes; empty returns the canister key unchanged
 * @returns derived public key (96 bytes) and this step's offset off2 (0 for an empty context)
 * @throws Error if a length is wrong or the key is not a valid G2 point
 */
export function deriveVetKdSubKey(
  canisterPublicKey: Uint8Array,
  context: Uint8Array,
): VetKdDerivedPublicKey {
  expectLength('canister public key', canisterPublicKey, 96);
  if (context.length === 0) return { publicKey: canisterPublicKey.slice(), tweak: 0n };
  const canisterKey = G2.fromBytes(canisterPublicKey);
  const off2 = hashToScalarTwoInputs(canisterKey.toBytes(true), context, VETKD_CONTEXT_DST);
  return { publicKey: canisterKey.add(mulBase(G2, off2)).toBytes(true), tweak: off2 };
}

/**
 * Derives the vetKD secret key matching `deriveVetKdPublicKey`: msk + delta mod r (the key
 * `vetkd_derive_key` signs the input with: vetKey = (msk + delta)·hash_to_G1(ser(K) ‖ input)).
 * @param masterSecret master secret scalar msk, 32 bytes big-endian, 0 < msk < r
 * @param canisterId the canister's raw principal bytes
 * @param context arbitrary bytes; empty means no second step
 * @returns derived secret (32 bytes big-endian) and its public key (96 bytes)
 * @throws Error if a length is wrong or msk is out of range
 */
export function deriveVetKdSecretKey(
  masterSecret: Uint8Array,
  canisterId: Uint8Array,
  context: Uint8Array,
): VetKdDerivedSecretKey {
  expectLength('master secret', masterSecret, 32);
  const msk = bytesToNumberBE(masterSecret);
  if (msk === 0n || msk >= BLS12_381_ORDER) throw new Error('master secret: expected 0 < msk < r');
  const derived = deriveFromPoint(G2.BASE.multiply(msk), canisterId, context);
  const child = (msk + derived.tweak) % BLS12_381_ORDER;
  return { secretKey: numberToBytesBE(child, 32), publicKey: derived.point.toBytes(true) };
}
