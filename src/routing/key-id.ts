/**
 * Threshold master key ids (the replica's `MasterPublicKeyId`): an algorithm (ECDSA secp256k1,
 * Schnorr BIP340 or Ed25519, vetKD BLS12-381 G2) and a name such as `key_1`. Text form as the
 * replica displays it in messages and as `chainkey-replica keys` prints it:
 * `ecdsa:Secp256k1:<name>`, `schnorr:Bip340Secp256k1:<name>`, `schnorr:Ed25519:<name>`,
 * `vetkd:Bls12_381_G2:<name>` (dfinity/ic rs/types/management_canister_types).
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

const ALGORITHMS = Object.values(KeyAlgorithm) as string[];

/** The replica's display of a key id, e.g. `ecdsa:Secp256k1:test_key_1`. */
export function keyIdText(k: MasterKeyId): string {
  return `${k.algorithm}:${k.name}`;
}

/**
 * Parses `ecdsa:Secp256k1:key_1` and the like.
 * @throws Error naming the accepted prefixes for any other text.
 */
export function parseKeyId(text: string): MasterKeyId {
  const i = text.lastIndexOf(':');
  const algorithm = text.slice(0, i);
  const name = text.slice(i + 1);
  if (i < 0 || !ALGORITHMS.includes(algorithm) || name.length === 0) {
    throw new Error(`invalid key id '${text}': expected <${ALGORITHMS.join('|')}>:<name>`);
  }
  return { algorithm: algorithm as KeyAlgorithm, name };
}

/**
 * The key id of a decoded management-canister `key_id` argument (candid/ic.did):
 * `ecdsa_key_id` `{curve: {secp256k1}; name}`, `schnorr_key_id` `{algorithm: {bip340secp256k1} |
 * {ed25519}; name}`, `vetkd_key_id` `{curve: {bls12_381_g2}; name}`.
 * @param family which argument type it is.
 */
export function keyIdFromCandid(
  family: 'ecdsa' | 'schnorr' | 'vetkd',
  keyId: { name: string; curve?: Record<string, null>; algorithm?: Record<string, null> },
): MasterKeyId {
  if (family === 'ecdsa') return { algorithm: KeyAlgorithm.ecdsaSecp256k1, name: keyId.name };
  if (family === 'vetkd') return { algorithm: KeyAlgorithm.vetkdBls12381G2, name: keyId.name };
  const alg = keyId.algorithm && 'ed25519' in keyId.algorithm ? KeyAlgorithm.schnorrEd25519 : KeyAlgorithm.schnorrBip340Secp256k1;
  return { algorithm: alg, name: keyId.name };
}

/** Sorts key ids as the replica lists them in messages (by display text). */
export function sortedKeyIdTexts(keys: Iterable<MasterKeyId>): string[] {
  return [...keys].map(keyIdText).sort();
}

/** Every algorithm with the given key name (how a subnet's default keys are listed). */
export function allAlgorithms(name: string): MasterKeyId[] {
  return (Object.values(KeyAlgorithm) as KeyAlgorithm[]).map((algorithm) => ({ algorithm, name }));
}
