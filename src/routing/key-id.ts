/**
 * Threshold master key ids (the replica's `MasterPublicKeyId`, defined in types/key-id.ts) as
 * routing reads them: parsing the text form (`ecdsa:Secp256k1:key_1`, as `chainkey-replica keys`
 * prints it), the key id of a management call's Candid `key_id`, and the sorted lists the
 * replica's routing texts show.
 */
import { KeyAlgorithm, keyIdText, type MasterKeyId } from '../types/key-id.ts';

export { KeyAlgorithm, keyIdText, type MasterKeyId } from '../types/key-id.ts';

const ALGORITHMS = Object.values(KeyAlgorithm) as string[];

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
