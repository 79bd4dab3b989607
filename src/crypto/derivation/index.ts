/**
 * Threshold-key derivation for the management canister's chain-key methods: secp256k1 (ECDSA
 * and BIP340 Schnorr), Ed25519 (Schnorr) and vetKD (BLS12-381 G2). Each curve module offers a
 * public-side function (derived public key, chain code where applicable, and the scalar tweak)
 * and a secret-side function consistent with it (derived secret = master secret + tweak).
 *
 * Assumes: callers validate the derivation path (element count, see
 * MAX_DERIVATION_PATH_ELEMENTS) and build the full path with `fullDerivationPath`.
 * Pure: no I/O, no clock. Source: derivation.md; ia.cr/2021/1330 Appendix D.
 */

export {
  deriveSecp256k1PublicKey,
  deriveSecp256k1SecretKey,
  SECP256K1_ORDER,
} from './secp256k1.ts';
export type { Secp256k1DerivedPublicKey, Secp256k1DerivedSecretKey } from './secp256k1.ts';
export { deriveEd25519PublicKey, deriveEd25519SecretKey, ED25519_ORDER } from './ed25519.ts';
export type { Ed25519DerivedPublicKey, Ed25519DerivedSecretKey } from './ed25519.ts';
export {
  deriveVetKdPublicKey,
  deriveVetKdSecretKey,
  deriveVetKdSubKey,
  BLS12_381_ORDER,
  VETKD_CANISTER_ID_DST,
  VETKD_CONTEXT_DST,
} from './vetkd.ts';
export type { VetKdDerivedPublicKey, VetKdDerivedSecretKey } from './vetkd.ts';

/**
 * The most derivation path elements a caller may pass (`derivation_path : vec blob`,
 * IC interface spec §"ecdsa_public_key"/"schnorr_public_key": at most 255 elements). The caller
 * enforces it with the replica's reject text; the crypto layer's own limit
 * (key_derivation.rs `MAXIMUM_DERIVATION_PATH_LENGTH` = 255) counts the prepended principal too,
 * which this module does not enforce (derivation.md §4).
 */
export const MAX_DERIVATION_PATH_ELEMENTS = 255;

/**
 * The full path the secp256k1 / Ed25519 derivations walk: the principal's raw bytes, then each
 * derivation path element (dfinity/ic `impl From<&ExtendedDerivationPath> for DerivationPath`;
 * ic-pub-key `DerivationPath.withCanisterPrefix`).
 * @param principal raw principal bytes (not text), 0..29 bytes: `canister_id` if given,
 *   otherwise the caller (for `sign_with_*`, always the caller)
 * @param derivationPath the caller's `derivation_path` elements, each arbitrary bytes
 * @returns a new array `[principal, ...derivationPath]`
 */
export function fullDerivationPath(
  principal: Uint8Array,
  derivationPath: readonly Uint8Array[],
): Uint8Array[] {
  return [principal, ...derivationPath];
}
