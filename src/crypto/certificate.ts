/**
 * Certification with a BLS12-381 root key in the min-sig scheme (spec §"Certification",
 * ciphersuite `BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_`): 96-byte compressed G2 public
 * keys, 48-byte compressed G1 signatures over `ds("ic-state-root") · root_hash`. The public
 * key is published DER-wrapped (133 bytes, OIDs 1.3.6.1.4.1.44668.5.3.1.2.1 and
 * 1.3.6.1.4.1.44668.5.3.2.1). Certificates are CBOR `55799({tree, signature, ?delegation})`
 * (certificates.cddl). This emulator signs everything with its root key: no delegations.
 *
 * Pure: key generation takes its randomness from `@noble/curves` only when no seed is given.
 */

import { bls12_381 } from '@noble/curves/bls12-381.js';
import { sha384 } from '@noble/hashes/sha2.js';
import { decode, encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { blsSign } from './bls-signing.ts';
import { IC_STATE_ROOT, concatBytes } from './domain-separator.ts';
import { hashTreeFromCbor, reconstruct, type HashTree } from './hash-tree.ts';
import { compareBytes } from './request-id.ts';

/** Hash-to-curve domain separation tag of the IC's BLS signatures (G1, min-sig). */
export const BLS_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_';

/** DER prefix of a BLS12-381 G2 public key (37 bytes); followed by the 96-byte key. */
export const BLS_PUBLIC_KEY_DER_PREFIX = Uint8Array.from(
  Buffer.from('308182301d060d2b0601040182dc7c0503010201060c2b0601040182dc7c05030201036100', 'hex'),
);

const bls = bls12_381.shortSignatures;
const encoder = new TextEncoder();

/** A root key pair. */
export interface RootKeyPair {
  /** Secret scalar, 32 bytes big-endian. */
  readonly secretKey: Uint8Array;
  /** Compressed G2 point, 96 bytes. */
  readonly publicKey: Uint8Array;
  /** `publicKey` DER-wrapped, 133 bytes: the `root_key` of `/api/v2/status`. */
  readonly publicKeyDer: Uint8Array;
}

/**
 * Generates a root key pair.
 * @param seed optional seed (at least 32 bytes) for a deterministic key: the secret is
 *   derived from `SHA-384("chainkey-replica root key" · seed)` by noble's `keygen`. Without a
 *   seed the key is random.
 * @throws RangeError if `seed` is shorter than 32 bytes.
 */
export function generateRootKey(seed?: Uint8Array): RootKeyPair {
  let ikm: Uint8Array | undefined;
  if (seed !== undefined) {
    if (seed.length < 32) throw new RangeError(`root key seed must be at least 32 bytes, got ${seed.length}`);
    ikm = sha384(concatBytes(encoder.encode('chainkey-replica root key'), seed));
  }
  const { secretKey } = bls.keygen(ikm);
  return rootKeyFromSecretKey(secretKey);
}

/**
 * The key pair of a known secret key.
 * @param secretKey 32 bytes, big-endian scalar in [1, r).
 * @throws Error if the scalar is out of range.
 */
export function rootKeyFromSecretKey(secretKey: Uint8Array): RootKeyPair {
  const publicKey = bls.getPublicKey(secretKey).toBytes(true);
  return { secretKey: Uint8Array.from(secretKey), publicKey, publicKeyDer: blsPublicKeyToDer(publicKey) };
}

/**
 * The key pair of a secret key whose public key was computed from it before and stored (saves
 * a G2 multiplication at every start).
 * @param secretKey 32 bytes.
 * @param publicKey the compressed G2 public key of `secretKey`, 96 bytes (not re-derived).
 * @throws RangeError if the lengths are wrong.
 */
export function rootKeyFromStored(secretKey: Uint8Array, publicKey: Uint8Array): RootKeyPair {
  if (secretKey.length !== 32) throw new RangeError(`BLS secret key must be 32 bytes, got ${secretKey.length}`);
  return { secretKey: Uint8Array.from(secretKey), publicKey: Uint8Array.from(publicKey), publicKeyDer: blsPublicKeyToDer(publicKey) };
}

/**
 * DER-wraps a BLS12-381 G2 public key.
 * @param publicKey compressed G2 point, 96 bytes.
 * @returns 133 bytes.
 * @throws RangeError if `publicKey` is not 96 bytes.
 */
export function blsPublicKeyToDer(publicKey: Uint8Array): Uint8Array {
  if (publicKey.length !== 96) throw new RangeError(`BLS public key must be 96 bytes, got ${publicKey.length}`);
  return concatBytes(BLS_PUBLIC_KEY_DER_PREFIX, publicKey);
}

/**
 * Unwraps a DER BLS12-381 G2 public key (exact prefix and length, as agents check).
 * @param der 133 bytes.
 * @returns the 96-byte compressed key.
 * @throws RangeError if the length or prefix is wrong.
 */
export function blsPublicKeyFromDer(der: Uint8Array): Uint8Array {
  const n = BLS_PUBLIC_KEY_DER_PREFIX.length;
  if (der.length !== n + 96) throw new RangeError(`DER BLS public key must be ${n + 96} bytes, got ${der.length}`);
  if (compareBytes(der.subarray(0, n), BLS_PUBLIC_KEY_DER_PREFIX) !== 0) {
    throw new RangeError('DER BLS public key has the wrong prefix');
  }
  return der.slice(n);
}

/**
 * Signs a state root: BLS over `ds("ic-state-root") · rootHash` (spec §"Certificate",
 * `verify_cert`); mcl-wasm once prepared (bls-signing.ts), noble before — the same bytes.
 * @param secretKey 32 bytes.
 * @param rootHash the tree's `reconstruct`, 32 bytes.
 * @returns the compressed G1 signature, 48 bytes.
 */
export function signStateRoot(secretKey: Uint8Array, rootHash: Uint8Array): Uint8Array {
  return blsSign(secretKey, concatBytes(IC_STATE_ROOT, rootHash), BLS_DST);
}

/**
 * Verifies a state root signature.
 * @param publicKey compressed G2 key, 96 bytes.
 * @param signature compressed G1 signature, 48 bytes.
 * @param rootHash 32 bytes.
 * @returns whether it verifies; false (never throws) for malformed points.
 */
export function verifyStateRootSignature(
  publicKey: Uint8Array,
  signature: Uint8Array,
  rootHash: Uint8Array,
): boolean {
  try {
    return bls.verify(signature, bls.hash(concatBytes(IC_STATE_ROOT, rootHash), BLS_DST), publicKey);
  } catch {
    return false;
  }
}

/** A certificate (spec §"Certificate"). */
export interface Certificate {
  readonly tree: HashTree;
  /** 48-byte BLS signature of the tree's root hash. */
  readonly signature: Uint8Array;
  /** Subnet delegation; never produced by this emulator. */
  readonly delegation?: { readonly subnet_id: Uint8Array; readonly certificate: Uint8Array };
}

/**
 * Encodes a certificate as CBOR with the self-describe tag 55799 (certificates.cddl).
 * @returns the bytes agents receive as `certificate`.
 */
export function encodeCertificate(cert: Certificate): Uint8Array {
  const value: Record<string, unknown> = { tree: cert.tree, signature: cert.signature };
  if (cert.delegation !== undefined) value['delegation'] = cert.delegation;
  return encodeWithSelfDescribedTag(value);
}

/**
 * Decodes a certificate.
 * @throws TypeError if the bytes are not a CBOR certificate of the right shape.
 */
export function decodeCertificate(bytes: Uint8Array): Certificate {
  const value: unknown = decode(bytes);
  if (value === null || typeof value !== 'object') throw new TypeError('certificate must be a CBOR map');
  const { tree, signature, delegation } = value as Record<string, unknown>;
  if (!(signature instanceof Uint8Array)) throw new TypeError('certificate signature must be a blob');
  const cert: { tree: HashTree; signature: Uint8Array; delegation?: Certificate['delegation'] } = {
    tree: hashTreeFromCbor(tree),
    signature,
  };
  if (delegation !== undefined) {
    const d = delegation as Record<string, unknown>;
    if (!(d['subnet_id'] instanceof Uint8Array) || !(d['certificate'] instanceof Uint8Array)) {
      throw new TypeError('certificate delegation must be {subnet_id: blob, certificate: blob}');
    }
    cert.delegation = { subnet_id: d['subnet_id'], certificate: d['certificate'] };
  }
  return cert;
}

/**
 * Certifies a (typically pruned) tree with the root key: signs its root hash and encodes the
 * certificate. The tree should contain `/time` (agents reject certificates without it).
 * @param tree the tree to reveal.
 * @param secretKey the root secret key, 32 bytes.
 * @returns CBOR certificate bytes (tag 55799).
 */
export function certifyTree(tree: HashTree, secretKey: Uint8Array): Uint8Array {
  return encodeCertificate({ tree, signature: signStateRoot(secretKey, reconstruct(tree)) });
}

/**
 * Verifies a certificate without delegation against a root public key (spec `verify_cert`
 * with `NoDelegation`).
 * @param publicKey compressed G2 root key, 96 bytes.
 * @returns false if the signature does not verify or the certificate has a delegation.
 */
export function verifyCertificate(cert: Certificate, publicKey: Uint8Array): boolean {
  if (cert.delegation !== undefined) return false;
  return verifyStateRootSignature(publicKey, cert.signature, reconstruct(cert.tree));
}
