/**
 * The replica's `CryptoError` texts (dfinity/ic `rs/types/types/src/crypto.rs`, whose
 * `Display` is its `Debug`), for the variants that sender-key parsing and signature checks can
 * produce. Only the message is reproduced; callers embed it in the validator's texts, e.g.
 * `Invalid signature: Invalid basic signature: <CryptoError>`.
 */

/** Algorithm names as the replica prints `AlgorithmId` with `{:?}`. */
export const AlgorithmName = {
  Placeholder: 'Placeholder',
  Ed25519: 'Ed25519',
  EcdsaP256: 'EcdsaP256',
  EcdsaSecp256k1: 'EcdsaSecp256k1',
  RsaSha256: 'RsaSha256',
  IcCanisterSignature: 'IcCanisterSignature',
} as const;
export type AlgorithmName = (typeof AlgorithmName)[keyof typeof AlgorithmName];

/**
 * A crypto failure with the replica's exact `CryptoError` text in `message`; `kind` names the
 * variant. Thrown by `public-key.ts` and `signature.ts`; never a host bug.
 */
export class CryptoError extends Error {
  readonly kind: 'MalformedPublicKey' | 'MalformedSignature' | 'SignatureVerification' | 'AlgorithmNotSupported';

  private constructor(kind: CryptoError['kind'], message: string) {
    super(message);
    this.name = 'CryptoError';
    this.kind = kind;
  }

  /** `Malformed {alg:?} public key: {internal_error}`. */
  static malformedPublicKey(alg: AlgorithmName, internalError: string): CryptoError {
    return new CryptoError('MalformedPublicKey', `Malformed ${alg} public key: ${internalError}`);
  }

  /** `Malformed {alg:?} signature: [{hex sig}] error: '{internal_error}'`. */
  static malformedSignature(alg: AlgorithmName, sig: Uint8Array, internalError: string): CryptoError {
    return new CryptoError('MalformedSignature', `Malformed ${alg} signature: [${hex(sig)}] error: '${internalError}'`);
  }

  /**
   * `{alg:?} signature could not be verified: public key {hex}, signature {hex}, error: {e}`.
   * @param publicKey the raw key the replica prints: Ed25519 32 bytes, ECDSA SEC1
   *   uncompressed 65 bytes, RSA DER, canister-signature key bytes.
   */
  static signatureVerification(
    alg: AlgorithmName,
    publicKey: Uint8Array,
    sig: Uint8Array,
    internalError: string,
  ): CryptoError {
    return new CryptoError(
      'SignatureVerification',
      `${alg} signature could not be verified: public key ${hex(publicKey)}, signature ${hex(sig)}, error: ${internalError}`,
    );
  }

  /** `Algorithm {alg:?} not supported: {reason}`. */
  static algorithmNotSupported(alg: AlgorithmName, reason: string): CryptoError {
    return new CryptoError('AlgorithmNotSupported', `Algorithm ${alg} not supported: ${reason}`);
  }
}

/** Lower-case hex without prefix, as Rust's `hex::encode`. */
export function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}
