/**
 * Basic signature verification of sender keys (spec §"Signatures"), with the replica's
 * acceptance rules and error texts (dfinity/ic `rs/crypto/internal/crypto_lib/basic_sig/*`):
 *
 * - Ed25519: RFC 8032 signature over the message; ZIP-215 rules as `ic_ed25519` (cofactored,
 *   non-canonical points accepted). `node:crypto` is tried first (fast, strict); a signature it
 *   rejects is re-checked with `@noble/curves` under ZIP-215, so the answer is the replica's.
 * - ECDSA P-256 / secp256k1: 64-byte `r ‖ s` over SHA-256(message); high-s accepted on both
 *   curves, as the replica does (`verify_signature_prehashed` on P-256,
 *   `verify_ecdsa_signature_prehashed_with_malleability` on secp256k1).
 * - RSA (PKCS#1 v1.5, SHA-256): only where the caller allows it (delegations).
 *
 * Failures throw `CryptoError` whose message is the replica's `CryptoError` text.
 */

import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { AlgorithmName, CryptoError } from './crypto-error.ts';
import { verifyEd25519OpenSsl } from './ed25519-verify.ts';
import { ED25519_DER_PREFIX, type UserPublicKey } from './public-key.ts';
import { concatBytes } from './domain-separator.ts';

/**
 * Verifies a basic signature (Ed25519, ECDSA P-256, ECDSA secp256k1, RSA-SHA256).
 * @param key a parsed key of one of those kinds.
 * @param message the signed bytes, domain separator included (e.g. `\x0Aic-request · id`).
 * @param signature Ed25519 64 bytes; ECDSA 64 bytes `r ‖ s` (big-endian); RSA modulus-sized.
 * @param options.allowRsa accept RSA keys (the replica does for delegations only).
 * @throws CryptoError `SignatureVerification` if the signature is wrong,
 *   `MalformedSignature` if it has the wrong length, `MalformedPublicKey` if the key is not a
 *   curve point, `AlgorithmNotSupported` for RSA without `allowRsa` and for non-basic kinds.
 */
export function verifyBasicSignature(
  key: UserPublicKey,
  message: Uint8Array,
  signature: Uint8Array,
  options: { allowRsa?: boolean } = {},
): void {
  switch (key.kind) {
    case 'ed25519':
      return verifyEd25519(key.raw, message, signature);
    case 'ecdsa-p256':
      return verifyEcdsa(AlgorithmName.EcdsaP256, key.der, key.sec1, message, signature);
    case 'ecdsa-secp256k1':
      return verifyEcdsa(AlgorithmName.EcdsaSecp256k1, key.der, key.sec1, message, signature);
    case 'rsa-sha256':
      if (!options.allowRsa) {
        throw CryptoError.algorithmNotSupported(
          AlgorithmName.RsaSha256,
          'RSA signatures are not allowed except in webauthn context',
        );
      }
      return verifyRsa(key.der, message, signature);
    default:
      throw CryptoError.algorithmNotSupported(AlgorithmName.Placeholder, 'Not supported for basic signature verification');
  }
}

function verifyEd25519(raw: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  if (signature.length !== 64) {
    throw CryptoError.malformedSignature(
      AlgorithmName.Ed25519,
      signature,
      `Incorrect signature length: expected 64, got ${signature.length}.`,
    );
  }
  // Fast path: OpenSSL's strict verification; anything it accepts ZIP-215 accepts too.
  if (verifyEd25519OpenSsl(signature, message, raw)) return;
  // Otherwise the ZIP-215 check, which also classifies a malformed key.
  try {
    ed25519.Point.fromBytes(raw, true);
  } catch (e) {
    throw CryptoError.malformedPublicKey(
      AlgorithmName.Ed25519,
      `The encoding of the public key is invalid: ${(e as Error).message}`,
    );
  }
  let ok: boolean;
  try {
    ok = ed25519.verify(signature, message, raw, { zip215: true });
  } catch {
    ok = false;
  }
  if (!ok) throw CryptoError.signatureVerification(AlgorithmName.Ed25519, raw, signature, 'A signature was invalid');
}

function verifyEcdsa(
  alg: AlgorithmName,
  der: Uint8Array,
  sec1: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): void {
  if (signature.length !== 64) {
    throw CryptoError.malformedSignature(alg, signature, `ECDSA signature must have 64 bytes, got ${signature.length}.`);
  }
  let ok = false;
  try {
    // OpenSSL checks r, s ∈ [1, n) and does not require low s: the replica's rules.
    const keyObject = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    ok = nodeVerify('sha256', message, { key: keyObject, dsaEncoding: 'ieee-p1363' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw CryptoError.signatureVerification(alg, sec1, signature, 'verification failed');
}

function verifyRsa(der: Uint8Array, message: Uint8Array, signature: Uint8Array): void {
  let ok = false;
  try {
    const keyObject = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });
    ok = nodeVerify('sha256', message, keyObject, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw CryptoError.signatureVerification(AlgorithmName.RsaSha256, der, signature, 'Verification');
}
