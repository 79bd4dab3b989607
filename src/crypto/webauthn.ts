/**
 * WebAuthn signatures (spec §"Signatures", "Web Authentication"): a CBOR map
 * `55799({authenticator_data, client_data_json, signature})`; the authenticator signs
 * `authenticator_data · SHA-256(client_data_json)` with ECDSA P-256 (DER signature), and the
 * JSON's `challenge` (base64url, no padding) must be the signed bytes of the request or
 * delegation. Follows dfinity/ic `rs/validator/src/webauthn.rs` and
 * `rs/types/types/src/messages/webauthn.rs`; failures throw `WebAuthnError` with the replica's
 * texts (the verification failure text embeds Rust `Debug` output and is approximated).
 * RSA WebAuthn keys are rejected when the key is parsed (`public-key.ts`).
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { p256 } from '@noble/curves/nist.js';
import { decode } from '@dfinity/cbor';
import { AlgorithmName, CryptoError, hex } from './crypto-error.ts';
import { concatBytes } from './domain-separator.ts';
import { compareBytes } from './request-id.ts';
import { verifyBasicSignature } from './signature.ts';
import type { UserPublicKey } from './public-key.ts';

/** A WebAuthn verification failure; `message` is the replica's `WebAuthnError` string. */
export class WebAuthnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebAuthnError';
  }
}

/**
 * Verifies a WebAuthn signature.
 * @param key a parsed key of kind `webauthn` (COSE P-256).
 * @param signedBytes the expected challenge: domain separator and message, e.g.
 *   `\x0Aic-request · request_id` (43 bytes).
 * @param signature the CBOR-encoded WebAuthn signature from `sender_sig` or a delegation.
 * @throws WebAuthnError on any failure.
 */
export function verifyWebAuthnSignature(
  key: Extract<UserPublicKey, { kind: 'webauthn' }>,
  signedBytes: Uint8Array,
  signature: Uint8Array,
): void {
  // Step 1: the CBOR envelope.
  let fields: Record<string, unknown>;
  try {
    fields = decode(signature) as Record<string, unknown>;
    if (fields === null || typeof fields !== 'object') throw new Error('expected a map');
  } catch (e) {
    throw new WebAuthnError(`Signature CBOR parsing failed with: ${(e as Error).message}`);
  }
  const authenticatorData = asBytes(fields['authenticator_data'], 'authenticator_data');
  const clientDataJson = asBytes(fields['client_data_json'], 'client_data_json');
  const derSignature = asBytes(fields['signature'], 'signature');

  // Step 2: the DER ECDSA signature as r ‖ s.
  let rs: Uint8Array;
  try {
    rs = p256.Signature.fromBytes(derSignature, 'der').toBytes('compact');
  } catch (e) {
    const inner = CryptoError.malformedSignature(
      AlgorithmName.EcdsaP256,
      derSignature,
      `Error parsing DER signature: ${(e as Error).message}`,
    );
    throw new WebAuthnError(`Failed to parse EcdsaP256 signature: ${inner.message}`);
  }

  // Step 3: client data JSON and its challenge.
  let challenge: Uint8Array;
  try {
    const clientData = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(clientDataJson)) as unknown;
    const c = (clientData as Record<string, unknown> | null)?.['challenge'];
    for (const field of ['type', 'challenge', 'origin']) {
      if (typeof (clientData as Record<string, unknown>)[field] !== 'string') throw new Error(`missing field \`${field}\``);
    }
    challenge = decodeBase64Url(c as string);
  } catch (e) {
    const msg = (e as Error).message;
    const prefix = msg.startsWith('base64url') ? 'Challenge base64url parsing failed with' : 'ClientDataJSON parsing failed with';
    throw new WebAuthnError(`WebAuthn envelope creation failed: ${prefix}: ${msg}`);
  }

  // Step 4: the authenticator's signature over authenticator_data · SHA-256(client_data_json).
  const envelopeBytes = concatBytes(authenticatorData, sha256(clientDataJson));
  try {
    verifyBasicSignature({ kind: 'ecdsa-p256', der: key.ecdsaDer, sec1: key.sec1 }, envelopeBytes, rs);
  } catch (e) {
    throw new WebAuthnError(
      `Verifying signature failed. signature: BasicSig(${hex(rs)}); envelope: ${hex(envelopeBytes)}; ` +
        `public_key: algorithm_id: EcdsaP256, key: 0x${hex(key.sec1)}. Error: ${(e as Error).message}`,
    );
  }

  // Step 5: the challenge must be exactly the signed bytes.
  if (compareBytes(challenge, signedBytes) !== 0) {
    throw new WebAuthnError(
      `Challenge in webauthn is [${[...challenge].join(', ')}] while it is expected to be [${[...signedBytes].join(', ')}]`,
    );
  }
}

function asBytes(v: unknown, field: string): Uint8Array {
  if (v instanceof Uint8Array) return v;
  if (typeof v === 'string') return new TextEncoder().encode(v);
  throw new WebAuthnError(`Signature CBOR parsing failed with: missing field \`${field}\``);
}

function decodeBase64Url(s: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) throw new Error(`base64url: invalid input ${JSON.stringify(s)}`);
  return Uint8Array.from(Buffer.from(s, 'base64url'));
}
