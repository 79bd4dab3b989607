/**
 * Sender public keys (spec §"Signatures"): DER `SubjectPublicKeyInfo` parsing into the kinds
 * the replica accepts (dfinity/ic `rs/crypto/standalone-sig-verifier/src/sign_utils.rs`,
 * `user_public_key_from_bytes`), and the self-authenticating principal of a key
 * (`SHA-224(DER) · 0x02`, spec §"Special forms of Principals").
 *
 * Kinds: Ed25519 (OID 1.3.101.112, 32-byte key), ECDSA P-256 and secp256k1 (id-ecPublicKey
 * with named curve; only the canonical uncompressed DER is accepted, as the replica does),
 * WebAuthn (COSE key wrapped in DER, OID 1.3.6.1.4.1.56387.1.1), canister signatures (OID
 * 1.3.6.1.4.1.56387.1.2), RSA (rsaEncryption; SHA-256 PKCS#1 v1.5, delegations only).
 * Errors are `CryptoError`s with the replica's texts.
 */

import { createPublicKey } from 'node:crypto';
import { sha224 } from '@noble/hashes/sha2.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { AlgorithmName, CryptoError } from './crypto-error.ts';
import { concatBytes } from './domain-separator.ts';
import { compareBytes } from './request-id.ts';

/** A parsed sender public key. `der` is always the exact input bytes. */
export type UserPublicKey =
  | { readonly kind: 'ed25519'; readonly der: Uint8Array; readonly raw: Uint8Array /* 32 bytes */ }
  | { readonly kind: 'ecdsa-p256'; readonly der: Uint8Array; readonly sec1: Uint8Array /* 65 bytes, 0x04‖x‖y */ }
  | { readonly kind: 'ecdsa-secp256k1'; readonly der: Uint8Array; readonly sec1: Uint8Array /* 65 bytes */ }
  | { readonly kind: 'rsa-sha256'; readonly der: Uint8Array }
  | {
      readonly kind: 'webauthn';
      readonly der: Uint8Array;
      /** The P-256 key inside the COSE key, as canonical SPKI DER and SEC1 (65 bytes). */
      readonly ecdsaDer: Uint8Array;
      readonly sec1: Uint8Array;
    }
  | {
      readonly kind: 'canister-signature';
      readonly der: Uint8Array;
      /** The signing canister's id (principal bytes, ≤ 29). */
      readonly canisterId: Uint8Array;
      readonly seed: Uint8Array;
      /** `|canister_id| · canister_id · seed`: the BIT STRING contents. */
      readonly raw: Uint8Array;
    };

const OID_ED25519 = '1.3.101.112';
const OID_EC_PUBLIC_KEY = '1.2.840.10045.2.1';
const OID_P256 = '1.2.840.10045.3.1.7';
const OID_SECP256K1 = '1.3.132.0.10';
const OID_COSE = '1.3.6.1.4.1.56387.1.1';
const OID_CANISTER_SIG = '1.3.6.1.4.1.56387.1.2';
const OID_RSA = '1.2.840.113549.1.1.1';

/** Canonical DER prefix of an uncompressed P-256 key (26 bytes; key 65 bytes follows). */
export const P256_DER_PREFIX = Uint8Array.from(Buffer.from('3059301306072a8648ce3d020106082a8648ce3d030107034200', 'hex'));
/** Canonical DER prefix of an uncompressed secp256k1 key (23 bytes; key 65 bytes follows). */
export const SECP256K1_DER_PREFIX = Uint8Array.from(Buffer.from('3056301006072a8648ce3d020106052b8104000a034200', 'hex'));
/** DER prefix of an Ed25519 key (12 bytes; key 32 bytes follows), RFC 8410. */
export const ED25519_DER_PREFIX = Uint8Array.from(Buffer.from('302a300506032b6570032100', 'hex'));

/**
 * The self-authenticating principal of a DER public key: `SHA-224(der) · 0x02`.
 * @returns 29 bytes.
 */
export function selfAuthenticatingPrincipal(der: Uint8Array): Uint8Array {
  return concatBytes(sha224(der), Uint8Array.of(0x02));
}

/**
 * Parses a DER `SubjectPublicKeyInfo` as a sender key.
 * @throws CryptoError `MalformedPublicKey` (texts of `user_public_key_from_bytes`) if the DER
 *   is malformed, the algorithm unknown, or the key invalid or not canonically encoded (RSA:
 *   outside 2048–8192 bits); `AlgorithmNotSupported` for an RSA WebAuthn (COSE) key.
 */
export function parsePublicKey(der: Uint8Array): UserPublicKey {
  let spki: { algorithm: string; parameter: string | null; key: Uint8Array };
  try {
    spki = parseSpki(der);
  } catch (e) {
    throw CryptoError.malformedPublicKey(AlgorithmName.Placeholder, (e as Error).message);
  }
  switch (spki.algorithm) {
    case OID_ED25519:
      if (spki.key.length !== 32) {
        throw CryptoError.malformedPublicKey(AlgorithmName.Ed25519, `Incorrect key length: expected 32, got ${spki.key.length}.`);
      }
      return { kind: 'ed25519', der, raw: spki.key };
    case OID_EC_PUBLIC_KEY:
      if (spki.parameter === OID_P256) return { kind: 'ecdsa-p256', der, sec1: canonicalEcdsa(der, spki.key, 'p256') };
      if (spki.parameter === OID_SECP256K1) {
        return { kind: 'ecdsa-secp256k1', der, sec1: canonicalEcdsa(der, spki.key, 'secp256k1') };
      }
      break;
    case OID_COSE:
      return parseCoseKey(der, spki.key);
    case OID_CANISTER_SIG:
      return parseCanisterSigKey(der, spki.key);
    case OID_RSA:
      return parseRsaKey(der);
  }
  throw CryptoError.malformedPublicKey(AlgorithmName.Placeholder, 'Unsupported or unparsable public key');
}

// RSA keys of 2048 to 8192 bits (the replica's MINIMUM/MAXIMUM_RSA_KEY_SIZE).
function parseRsaKey(der: Uint8Array): UserPublicKey {
  let bits: number | undefined;
  try {
    bits = createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' }).asymmetricKeyDetails?.modulusLength;
  } catch (e) {
    throw CryptoError.malformedPublicKey(AlgorithmName.RsaSha256, `Invalid RSA public key: ${(e as Error).message}`);
  }
  if (bits === undefined || bits < 2048 || bits > 8192) {
    throw CryptoError.malformedPublicKey(AlgorithmName.RsaSha256, `RSA key size ${bits} is outside the supported range 2048..=8192`);
  }
  return { kind: 'rsa-sha256', der };
}

// ECDSA keys must be valid points and encoded exactly as the replica re-encodes them.
function canonicalEcdsa(der: Uint8Array, key: Uint8Array, curve: 'p256' | 'secp256k1'): Uint8Array {
  const alg = curve === 'p256' ? AlgorithmName.EcdsaP256 : AlgorithmName.EcdsaSecp256k1;
  let sec1: Uint8Array;
  try {
    const point = (curve === 'p256' ? p256 : secp256k1).Point.fromBytes(key);
    sec1 = point.toBytes(false);
  } catch (e) {
    throw CryptoError.malformedPublicKey(alg, `InvalidPoint(${JSON.stringify((e as Error).message)})`);
  }
  const canonical = concatBytes(curve === 'p256' ? P256_DER_PREFIX : SECP256K1_DER_PREFIX, sec1);
  if (compareBytes(canonical, der) !== 0) throw CryptoError.malformedPublicKey(alg, 'non-canonical encoding');
  return sec1;
}

// COSE_Key (RFC 8152) of a WebAuthn credential: only EC2 / ES256 / P-256 is verifiable here.
function parseCoseKey(der: Uint8Array, cose: Uint8Array): UserPublicKey {
  let map: Map<number, number | Uint8Array>;
  try {
    map = decodeCoseMap(cose);
  } catch (e) {
    throw CryptoError.malformedPublicKey(AlgorithmName.Placeholder, `COSE key is not CBOR: ${(e as Error).message}`);
  }
  const kty = map.get(1);
  const alg = map.get(3);
  if (kty === 3 || alg === -257) {
    throw CryptoError.algorithmNotSupported(AlgorithmName.RsaSha256, 'RSA WebAuthn keys are not supported by this emulator');
  }
  const crv = map.get(-1);
  const x = map.get(-2);
  const y = map.get(-3);
  if (kty !== 2 || alg !== -7 || crv !== 1 || !(x instanceof Uint8Array) || !(y instanceof Uint8Array)) {
    throw CryptoError.malformedPublicKey(AlgorithmName.Placeholder, 'Unsupported or unparsable COSE public key');
  }
  if (x.length > 32 || y.length > 32) throw CryptoError.malformedPublicKey(AlgorithmName.EcdsaP256, 'ECDSA coordinate is too large');
  const sec1 = new Uint8Array(65);
  sec1[0] = 0x04;
  sec1.set(x, 33 - x.length);
  sec1.set(y, 65 - y.length);
  const ecdsaDer = concatBytes(P256_DER_PREFIX, sec1);
  canonicalEcdsa(ecdsaDer, sec1, 'p256');
  return { kind: 'webauthn', der, ecdsaDer, sec1 };
}

function parseCanisterSigKey(der: Uint8Array, raw: Uint8Array): UserPublicKey {
  const n = raw[0];
  if (n === undefined || raw.length < 1 + n || n > 29) {
    throw CryptoError.malformedPublicKey(AlgorithmName.IcCanisterSignature, 'invalid canister id length');
  }
  return { kind: 'canister-signature', der, canisterId: raw.slice(1, 1 + n), seed: raw.slice(1 + n), raw };
}

// --- minimal CBOR reader for COSE keys (integer map keys, which @dfinity/cbor refuses) ---------

function decodeCoseMap(buf: Uint8Array): Map<number, number | Uint8Array> {
  let pos = 0;
  const head = (): { major: number; arg: number } => {
    const b = buf[pos++];
    if (b === undefined) throw new Error('unexpected end of input');
    const major = b >> 5;
    const info = b & 0x1f;
    if (info < 24) return { major, arg: info };
    const n = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
    if (n === 0 || pos + n > buf.length) throw new Error('unsupported CBOR length');
    let arg = 0;
    for (let i = 0; i < n; i++) arg = arg * 256 + buf[pos++]!;
    return { major, arg };
  };
  const item = (): number | Uint8Array => {
    const { major, arg } = head();
    if (major === 0) return arg;
    if (major === 1) return -1 - arg;
    if (major === 2 || major === 3) {
      if (pos + arg > buf.length) throw new Error('unexpected end of input');
      const v = buf.slice(pos, pos + arg);
      pos += arg;
      return v;
    }
    throw new Error(`unsupported CBOR major type ${major}`);
  };
  const { major, arg } = head();
  if (major !== 5) throw new Error('expected a map');
  const map = new Map<number, number | Uint8Array>();
  for (let i = 0; i < arg; i++) {
    const k = item();
    if (typeof k !== 'number') throw new Error('map keys must be integers');
    map.set(k, item());
  }
  if (pos !== buf.length) throw new Error('trailing bytes');
  return map;
}

// --- minimal DER reader for SubjectPublicKeyInfo ---------------------------------------------

interface Tlv {
  tag: number;
  value: Uint8Array;
  end: number;
}

function readTlv(buf: Uint8Array, pos: number): Tlv {
  if (pos + 2 > buf.length) throw new Error('Error in DER encoding: Incomplete data or invalid ASN1');
  const tag = buf[pos]!;
  let len = buf[pos + 1]!;
  let p = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4 || p + n > buf.length) throw new Error('Error in DER encoding: Incomplete data or invalid ASN1');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[p + i]!;
    p += n;
  }
  if (p + len > buf.length) throw new Error('Error in DER encoding: Incomplete data or invalid ASN1');
  return { tag, value: buf.subarray(p, p + len), end: p + len };
}

function oidToString(v: Uint8Array): string {
  if (v.length === 0) throw new Error('Error in DER encoding: invalid OID');
  const parts: number[] = [];
  let acc = 0;
  for (const b of v) {
    acc = acc * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      parts.push(acc);
      acc = 0;
    }
  }
  const first = parts.shift()!;
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts].join('.');
}

function parseSpki(der: Uint8Array): { algorithm: string; parameter: string | null; key: Uint8Array } {
  const outer = readTlv(der, 0);
  if (outer.end !== der.length) throw new Error('Expected exactly one ASN.1 block.');
  if (outer.tag !== 0x30) throw new Error('Expected an ASN.1 sequence.');
  const algSeq = readTlv(outer.value, 0);
  if (algSeq.tag !== 0x30) throw new Error('Expected sequence of OID parts');
  const bits = readTlv(outer.value, algSeq.end);
  if (bits.end !== outer.value.length) throw new Error('Expected exactly two ASN.1 blocks.');
  if (bits.tag !== 0x03) throw new Error('Expected BitString');
  if (bits.value[0] !== 0) throw new Error('Inconsistent key length');
  const oid = readTlv(algSeq.value, 0);
  if (oid.tag !== 0x06) throw new Error('Expected OID.');
  let parameter: string | null = null;
  if (oid.end < algSeq.value.length) {
    const param = readTlv(algSeq.value, oid.end);
    if (param.end !== algSeq.value.length) throw new Error('OID sequence must have at most two parts');
    if (param.tag === 0x06) parameter = oidToString(param.value);
    else if (param.tag !== 0x05) throw new Error('Expected OID or NULL parameter');
  }
  return { algorithm: oidToString(oid.value), parameter, key: bits.value.slice(1) };
}
