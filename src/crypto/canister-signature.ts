/**
 * Canister signatures (spec §"Signatures", "Canister signatures"): the public key names a
 * signing canister and a seed; the signature is `55799({certificate, tree})` where the
 * certificate (verified against the root key, no subnet delegation) certifies the canister's
 * `certified_data` = `reconstruct(tree)`, and `tree` contains `/sig/H(seed)/H(msg)` with an
 * empty leaf. Follows dfinity/ic `rs/crypto/internal/crypto_lib/basic_sig/iccsa/src/api.rs`;
 * texts of the certificate checks themselves (`ic_certified_vars`) are approximated.
 *
 * On this emulator canister signatures are those of canisters running here (e.g. Internet
 * Identity), certified by this emulator's own root key.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { decode } from '@dfinity/cbor';
import { AlgorithmName, CryptoError, hex } from './crypto-error.ts';
import { decodeCertificate, verifyCertificate, type Certificate } from './certificate.ts';
import { hashTreeFromCbor, lookupPath, reconstruct, type HashTree } from './hash-tree.ts';
import { compareBytes } from './request-id.ts';
import { concatBytes } from './domain-separator.ts';
import type { UserPublicKey } from './public-key.ts';

/** DER of the algorithm identifier `SEQUENCE { OID 1.3.6.1.4.1.56387.1.2 }` (14 bytes). */
const CANISTER_SIG_ALGORITHM_DER = Uint8Array.from(Buffer.from('300c060a2b0601040183b8430102', 'hex'));

/**
 * The DER public key of a canister signature: `SEQUENCE { algorithm, BIT STRING
 * (|canister_id| · canister_id · seed) }` (spec §"Canister signatures").
 * @param canisterId the signing canister's principal bytes, at most 29.
 * @param seed arbitrary bytes chosen by the canister; the whole key must stay under 128 bytes.
 * @throws RangeError if the canister id is longer than 29 bytes or the key too long.
 */
export function canisterSignaturePublicKeyDer(canisterId: Uint8Array, seed: Uint8Array): Uint8Array {
  if (canisterId.length > 29) throw new RangeError('canister id longer than 29 bytes');
  const bits = concatBytes(Uint8Array.of(canisterId.length), canisterId, seed);
  const bitString = concatBytes(Uint8Array.of(0x03, bits.length + 1, 0x00), bits);
  const body = concatBytes(CANISTER_SIG_ALGORITHM_DER, bitString);
  if (bits.length + 1 > 127 || body.length > 127) throw new RangeError('canister signature key too long');
  return concatBytes(Uint8Array.of(0x30, body.length), body);
}

/**
 * Verifies a canister signature.
 * @param key a parsed key of kind `canister-signature`.
 * @param message the signed bytes, domain separator included.
 * @param signature the CBOR signature bytes (must start with the tag `d9d9f7`).
 * @param rootPublicKey the root key to verify the certificate against: 96-byte compressed G2.
 * @throws CryptoError `MalformedSignature` if the signature or certificate cannot be parsed,
 *   `SignatureVerification` if any check fails.
 */
export function verifyCanisterSignature(
  key: Extract<UserPublicKey, { kind: 'canister-signature' }>,
  message: Uint8Array,
  signature: Uint8Array,
  rootPublicKey: Uint8Array,
): void {
  const alg = AlgorithmName.IcCanisterSignature;
  const fail = (reason: string): CryptoError => CryptoError.signatureVerification(alg, key.raw, signature, reason);
  const malformed = (reason: string): CryptoError => CryptoError.malformedSignature(alg, signature, reason);

  // Step 1: the signature envelope.
  if (signature.length < 3 || signature[0] !== 0xd9 || signature[1] !== 0xd9 || signature[2] !== 0xf7) {
    throw malformed("signature CBOR doesn't have a self-describing tag");
  }
  let certificateBytes: Uint8Array;
  let tree: HashTree;
  try {
    const value = decode(signature) as Record<string, unknown>;
    if (!(value?.['certificate'] instanceof Uint8Array)) throw new Error('missing field `certificate`');
    certificateBytes = value['certificate'];
    tree = hashTreeFromCbor(value['tree']);
  } catch (e) {
    throw malformed(`failed to parse signature CBOR: ${(e as Error).message}`);
  }

  // Step 2: the certificate, signed by the root key, certifying reconstruct(tree).
  let cert: Certificate;
  try {
    cert = decodeCertificate(certificateBytes);
  } catch (e) {
    throw malformed(`malformed certificate: ${(e as Error).message}`);
  }
  if (cert.delegation !== undefined) {
    throw fail('certificate verification failed: Subnet delegation is not allowed');
  }
  if (!verifyCertificate(cert, rootPublicKey)) {
    throw fail('certificate verification failed: Invalid signature');
  }
  const certified = lookupPath(['canister', key.canisterId, 'certified_data'], cert.tree);
  const digest = reconstruct(tree);
  if (certified.status !== 'Found' || compareBytes(certified.value, digest) !== 0) {
    const found = certified.status === 'Found' ? hex(certified.value) : certified.status;
    throw fail(
      `certificate verification failed: Certified data mismatch: certified data in certificate ${found}, expected ${hex(digest)}`,
    );
  }

  // Step 3: the signature tree holds /sig/H(seed)/H(msg) = "".
  const seedHash = sha256(key.seed);
  const msgHash = sha256(message);
  const entry = lookupPath(['sig', seedHash, msgHash], tree);
  if (entry.status !== 'Found' && entry.status !== 'Error') {
    throw fail(`the signature tree doesn't contain sig/${hex(seedHash)}/${hex(msgHash)} path`);
  }
  if (entry.status !== 'Found' || entry.value.length !== 0) {
    throw fail('The result of \'lookup_path\' in the signature tree was not a leaf containing ""');
  }
}
