/**
 * Threshold master key ids (the replica's `MasterPublicKeyId`): an algorithm (ECDSA secp256k1,
 * Schnorr BIP340 or Ed25519, vetKD BLS12-381 G2) and a name such as `key_1`, with the text form the
 * replica displays: `ecdsa:Secp256k1:<name>`, `schnorr:Bip340Secp256k1:<name>`,
 * `schnorr:Ed25519:<name>`, `vetkd:Bls12_381_G2:<name>` (dfinity/ic
 * rs/types/management_canister_types). Parsing and routing by key id are in routing/key-id.ts.
 */

/** The four threshold algorithms, by their display prefix. */
export const KeyAlgorithm = {
  ecdsaSecp256k1: 'ecdsa:Secp256k1',
  schnorrBip340Secp256k1: 'schnorr:Bip340Secp256k1',
  schnorrEd25519: 'schnorr:Ed25519',
  vetkdBls12381G2: 'vetkd:Bls12_381_G2',
} as const;
export type KeyAlgorithm = (typeof KeyAlgorithm)[keyof typeof KeyAlgorithm];

/** A master key id. */
export interface MasterKeyId {
  algorithm: KeyAlgorithm;
  name: string;
}

/** The replica's display of a key id, e.g. `ecdsa:Secp256k1:test_key_1`. */
export function keyIdText(k: MasterKeyId): string {
  return `${k.algorithm}:${k.name}`;
}
