/**
 * A threshold master key as what it is: an IDKG/NiDKG key transcript (a public commitment to a
 * secret-shared polynomial whose constant term is the master secret) plus one secret share per
 * receiving node. The single-replica default is the degenerate case n = 1, f = 0, threshold
 * t = f + 1 = 1: a degree-0 polynomial a₀, commitment [a₀·G], and node 0's share a₀ evaluated at
 * x = 1. The n-node protocol suite (reference idkg.md §5) produces the same two shapes with
 * t > 1; signing and derivation only ever see a transcript and shares.
 *
 * Pure: randomness comes from the caller (a CSPRNG, or an HKDF stream for `--seed`).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { KeyAlgorithm, keyIdText, type MasterKeyId } from '../../types/key-id.ts';

/** The group a transcript's commitment lives in. */
export type TranscriptCurve = 'secp256k1' | 'ed25519' | 'bls12_381_g2';

/** A key transcript's public part. */
export interface KeyTranscript {
  /** Unique id, `<key id>/<generation>` (a reshare makes the next generation). */
  transcriptId: string;
  curve: TranscriptCurve;
  /** Shares needed to use the key (t = f + 1). */
  threshold: number;
  /** Number of receiving nodes (n). */
  receivers: number;
  /**
   * Simple (Feldman) commitment: coefficient i times the generator, compressed encoding
   * (secp256k1 33 bytes, Ed25519 32 bytes, BLS12-381 G2 96 bytes); entry 0 is the master public key.
   */
  commitment: Uint8Array[];
  /**
   * Receiver node ids (position i evaluates at x = i + 1), e.g. `test-keys/3`; absent in state
   * dirs written before the n-node protocol (then: node 0 of the holding subnet).
   */
  nodes?: string[];
  /** When this generation was created by a reshare, nanoseconds (absent: key generation). */
  resharedAtNanos?: bigint;
}

/** One node's secret share of a transcript: the polynomial at x = receiver + 1, a scalar. */
export interface SecretShare {
  transcriptId: string;
  /** Receiver index (0-based); its evaluation point is receiver + 1. */
  receiver: number;
  value: bigint;
}

/** The curve of an algorithm's keys. */
export function curveOf(algorithm: KeyAlgorithm): TranscriptCurve {
  if (algorithm === KeyAlgorithm.schnorrEd25519) return 'ed25519';
  if (algorithm === KeyAlgorithm.vetkdBls12381G2) return 'bls12_381_g2';
  return 'secp256k1';
}

/** The scalar field order of a curve's group. */
export function groupOrder(curve: TranscriptCurve): bigint {
  if (curve === 'secp256k1') return secp256k1.Point.Fn.ORDER;
  if (curve === 'ed25519') return ed25519.Point.Fn.ORDER;
  return bls12_381.G2.Point.Fn.ORDER;
}

/** `s·G` in the curve's group, compressed (33 / 32 / 96 bytes). */
export function publicPoint(curve: TranscriptCurve, s: bigint): Uint8Array {
  if (curve === 'secp256k1') return secp256k1.Point.BASE.multiply(s).toBytes(true);
  if (curve === 'ed25519') return ed25519.Point.BASE.multiply(s).toBytes();
  return bls12_381.G2.Point.BASE.multiply(s).toBytes();
}

/** A uniform non-zero scalar from 64 random bytes (reduced mod the order; bias < 2⁻¹²⁸). */
export function scalarFromBytes(curve: TranscriptCurve, bytes: Uint8Array): bigint {
  if (bytes.length < 48) throw new Error('scalarFromBytes: need at least 48 bytes of randomness');
  const n = groupOrder(curve);
  const v = BigInt(`0x${Buffer.from(bytes).toString('hex')}`) % (n - 1n);
  return v + 1n;
}

/**
 * Deals a fresh random key as the single-replica transcript (n = 1, t = 1).
 * @param random64 64 uniformly random bytes.
 * @returns the public transcript and node 0's share.
 */
export function dealSingleNodeKey(keyId: MasterKeyId, random64: Uint8Array): { transcript: KeyTranscript; share: SecretShare } {
  const curve = curveOf(keyId.algorithm);
  // The dealer's polynomial has degree t - 1 = 0: only a₀, the master secret.
  const a0 = scalarFromBytes(curve, random64);
  const transcriptId = `${keyIdText(keyId)}/0`;
  return {
    transcript: { transcriptId, curve, threshold: 1, receivers: 1, commitment: [publicPoint(curve, a0)] },
    // Node 0 evaluates the polynomial at x = 1: a₀.
    share: { transcriptId, receiver: 0, value: a0 },
  };
}

/** The master public key of a transcript: the commitment's constant term. */
export function masterPublicKey(t: KeyTranscript): Uint8Array {
  return t.commitment[0]!;
}

/**
 * Deterministic randomness for `--seed`: 64 bytes = HKDF-SHA512(seed, info = purpose).
 * @param seed the user's seed bytes (any length ≥ 16).
 */
export function seededBytes(seed: Uint8Array, purpose: string): Uint8Array {
  if (seed.length < 16) throw new Error('--seed must be at least 16 bytes (32 hex digits)');
  return hkdf(sha512, seed, new TextEncoder().encode('chainkey-replica seed'), new TextEncoder().encode(purpose), 64);
}
