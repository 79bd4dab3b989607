/**
 * Pre-signatures: the signing material threshold signing consumes, one per signature, made
 * ahead of time in the background (ia.cr/2021/1330 §6 "presignatures"; the replica's IDKG
 * pre-signature stash).
 *
 * - ECDSA: a quadruple of sharings (κ, λ, κ·λ, x·λ) over secp256k1 for key x, with κ
 *   unmasked (its commitment R = κ·G is public) and the others masked. Signing needs no further
 *   interaction: each node turns its four shares into a signature share.
 * - Schnorr (BIP340, Ed25519): one unmasked sharing of a blinder k with public R = k·G.
 *
 * Each node holds one share of every sharing (receiver i evaluates at x = i + 1); a
 * pre-signature object is public (ids and commitments), and shares stay with their nodes. The
 * replica makes pre-signatures with the n-node protocol (consensus/idkg; n = 1 by default);
 * the trusted single-node dealers below remain as test fixtures for the signing formulas.
 * Pure: randomness comes from the caller.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { groupOrder, publicPoint, scalarFromBytes, type KeyTranscript, type SecretShare, type TranscriptCurve } from './key-transcript.ts';

/** One node's shares of an ECDSA quadruple. */
export interface EcdsaQuadrupleShare {
  receiver: number;
  /** Share of κ (the nonce); signing does not use it (R = κ·G is public). */
  kappa?: bigint;
  /** Share of λ (the mask). */
  lambda: bigint;
  /** Share of κ·λ. */
  kappaTimesLambda: bigint;
  /** Share of x·λ, x the master secret. */
  keyTimesLambda: bigint;
  /**
   * Pedersen masks of the λ, κ·λ and x·λ shares (the n-node protocol's masked transcripts);
   * absent for the test dealer's unmasked quadruples. Signature shares then carry masks too, so
   * anyone can check them against the transcripts' commitments (reference idkg.md §3.2).
   */
  masks?: { lambda: bigint; kappaTimesLambda: bigint; keyTimesLambda: bigint };
}

/** An ECDSA pre-signature (quadruple) for one key transcript. */
export interface EcdsaPreSignature {
  kind: 'ecdsa';
  preSignatureId: string;
  keyTranscriptId: string;
  /** R = κ·G, SEC1 compressed, 33 bytes. */
  kappaCommitment: Uint8Array;
}

/** One node's share of a Schnorr blinder. */
export interface SchnorrBlinderShare {
  receiver: number;
  blinder: bigint;
}

/** A Schnorr pre-signature (BIP340 or Ed25519) for one key transcript. */
export interface SchnorrPreSignature {
  kind: 'schnorr';
  curve: Extract<TranscriptCurve, 'secp256k1' | 'ed25519'>;
  preSignatureId: string;
  keyTranscriptId: string;
  /** R = k·G: SEC1 compressed (33 bytes) on secp256k1, RFC 8032 (32 bytes) on Ed25519. */
  blinderCommitment: Uint8Array;
}

export type PreSignature = EcdsaPreSignature | SchnorrPreSignature;

function requireSingleNode(t: KeyTranscript, shares: readonly SecretShare[]): SecretShare {
  if (t.receivers !== 1 || t.threshold !== 1 || shares.length !== 1 || shares[0]!.transcriptId !== t.transcriptId) {
    throw new Error(`single-node pre-signature dealing needs a 1-of-1 key transcript and its share (${t.transcriptId})`);
  }
  return shares[0]!;
}

/**
 * Deals an ECDSA quadruple for a 1-of-1 secp256k1 key transcript.
 * @param keyShares the node's share of the key transcript (exactly one)
 * @param random 128 uniformly random bytes (κ from the first 64, λ from the last 64)
 * @throws Error if the transcript is not single-node secp256k1
 */
export function dealSingleNodeEcdsaPreSignature(
  preSignatureId: string,
  key: KeyTranscript,
  keyShares: readonly SecretShare[],
  random: Uint8Array,
): EcdsaPreSignature & { shares: EcdsaQuadrupleShare[] } {
  if (key.curve !== 'secp256k1') throw new Error(`ECDSA pre-signature for a ${key.curve} key`);
  const x = requireSingleNode(key, keyShares).value;
  const n = groupOrder('secp256k1');
  const kappa = scalarFromBytes('secp256k1', random.subarray(0, 64));
  const lambda = scalarFromBytes('secp256k1', random.subarray(64, 128));
  return {
    kind: 'ecdsa',
    preSignatureId,
    keyTranscriptId: key.transcriptId,
    kappaCommitment: publicPoint('secp256k1', kappa),
    shares: [{ receiver: 0, kappa, lambda, kappaTimesLambda: mod(kappa * lambda, n), keyTimesLambda: mod(x * lambda, n) }],
  };
}

/**
 * Deals a Schnorr blinder for a 1-of-1 key transcript (BIP340 on secp256k1, or Ed25519).
 * @param random 64 uniformly random bytes
 * @throws Error if the transcript is not single-node secp256k1/ed25519
 */
export function dealSingleNodeSchnorrPreSignature(
  preSignatureId: string,
  key: KeyTranscript,
  keyShares: readonly SecretShare[],
  random: Uint8Array,
): SchnorrPreSignature & { shares: SchnorrBlinderShare[] } {
  if (key.curve !== 'secp256k1' && key.curve !== 'ed25519') throw new Error(`Schnorr pre-signature for a ${key.curve} key`);
  requireSingleNode(key, keyShares);
  const k = scalarFromBytes(key.curve, random.subarray(0, 64));
  return {
    kind: 'schnorr',
    curve: key.curve,
    preSignatureId,
    keyTranscriptId: key.transcriptId,
    blinderCommitment: publicPoint(key.curve, k),
    shares: [{ receiver: 0, blinder: k }],
  };
}

/**
 * The rerandomizing offset δ for one signature (ia.cr/2021/1330 §6.3, "rerandomized
 * presignatures"): the pre-signature's nonce becomes k + δ, so a pre-signature dealt before the
 * request reveals nothing about which request it will sign. δ = HKDF-SHA512 over the request's
 * randomness (the random beacon on the replica) bound to the pre-signature and the request.
 * @param randomness 32 bytes of fresh randomness for the request
 * @param bind further public inputs (message, derived key, ...) the offset is bound to
 * @returns a scalar in [1, order)
 */
export function rerandomizationScalar(
  curve: TranscriptCurve,
  preSignatureId: string,
  randomness: Uint8Array,
  ...bind: Uint8Array[]
): bigint {
  const info = concatBytes(new TextEncoder().encode(`chainkey-replica rerandomize ${curve} ${preSignatureId}`), ...bind.map(lengthPrefixed));
  return scalarFromBytes(curve, hkdf(sha512, randomness, undefined, info, 64));
}

function lengthPrefixed(x: Uint8Array): Uint8Array {
  const p = new Uint8Array(8);
  new DataView(p.buffer).setBigUint64(0, BigInt(x.length));
  return concatBytes(p, x);
}
