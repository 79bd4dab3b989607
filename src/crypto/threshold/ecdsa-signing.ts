/**
 * Threshold ECDSA signing over secp256k1 from a pre-signature (ia.cr/2021/1330 §6, "signing
 * phase"; the replica's `sign_with_ecdsa`). Each node turns its quadruple shares into a
 * signature share (a nominator and a denominator share); any t shares combine by Lagrange
 * interpolation into s = (h + r·x') / κ' without anyone learning x' or κ'.
 *
 * With derived key x' = x + t (t the derivation tweak, derivation.md §4.1), rerandomized nonce
 * κ' = κ + δ and R' = R + δ·G, r = R'.x mod n, h = the 32-byte hash as a big-endian integer mod n:
 *   nominator share   μ_i = h·λ_i + r·(xλ_i + t·λ_i)   (shares of λ·(h + r·x'))
 *   denominator share ν_i = κλ_i + δ·λ_i               (shares of λ·κ')
 *   s = μ / ν, then s → n − s if s > n/2 (low-s, as the IC returns it).
 * The combined signature is verified under the derived key before it is returned. The point
 * work (R' and the verification) runs in libsecp256k1 (crypto/secp256k1-wasm.ts, checked against
 * noble in its tests).
 */
import { invert, mod } from '@noble/curves/abstract/modular.js';
import { bytesToNumberBE, numberToBytesBE } from '@noble/curves/utils.js';
import { idkgGroup, type GroupPoint } from './idkg/group.ts';
import * as k1 from '../secp256k1-wasm.ts';
import { interpolateScalarsAtZero } from './lagrange.ts';
import { rerandomizationScalar, type EcdsaPreSignature, type EcdsaQuadrupleShare } from './pre-signature.ts';

const N = k1.SECP256K1_ORDER;

/** What every node signs: public inputs only. */
export interface EcdsaSigningInputs {
  preSignature: EcdsaPreSignature;
  /** Derivation tweak t (mod n) of the caller's path. */
  derivationTweak: bigint;
  /** The derived public key, SEC1 compressed, 33 bytes (for verification). */
  derivedPublicKey: Uint8Array;
  /** The message hash, exactly 32 bytes; signed as is (no re-hashing). */
  messageHash: Uint8Array;
  /** 32 bytes of per-request randomness (rerandomization). */
  randomness: Uint8Array;
}

/** One node's signature share. */
export interface EcdsaSignatureShare {
  receiver: number;
  nominator: bigint;
  denominator: bigint;
  /** Pedersen masks of the two shares (present when the quadruple shares have masks). */
  nominatorMask?: bigint;
  denominatorMask?: bigint;
}

/**
 * The public images of one receiver's quadruple shares: the masked transcripts' Pedersen
 * commitments evaluated at the receiver (λ, κ·λ, x·λ).
 */
export interface EcdsaShareImages {
  lambda: GroupPoint;
  kappaTimesLambda: GroupPoint;
  keyTimesLambda: GroupPoint;
}

/** Each request's rerandomization, computed once for its shares and their combination. */
const rerandomizations = new WeakMap<EcdsaSigningInputs, { delta: bigint; r: bigint }>();

function rerandomized(inputs: EcdsaSigningInputs): { delta: bigint; r: bigint } {
  let v = rerandomizations.get(inputs);
  if (!v) {
    v = computeRerandomization(inputs);
    rerandomizations.set(inputs, v);
  }
  return v;
}

function computeRerandomization(inputs: EcdsaSigningInputs): { delta: bigint; r: bigint } {
  if (inputs.messageHash.length !== 32) throw new Error('ECDSA signing: message hash must be 32 bytes');
  const pre = inputs.preSignature;
  const delta = rerandomizationScalar('secp256k1', pre.preSignatureId, inputs.randomness, inputs.messageHash, inputs.derivedPublicKey);
  const R = k1.add(pre.kappaCommitment, k1.mulG(delta, false));
  const r = R === null ? 0n : mod(k1.xCoordinate(R), N);
  if (r === 0n) throw new Error('ECDSA signing: r = 0, use another pre-signature');
  return { delta, r };
}

/**
 * A node's signature share.
 * @param share the node's quadruple shares of `inputs.preSignature`
 * @throws Error on a wrong hash length or a degenerate nonce
 */
export function createEcdsaSignatureShare(inputs: EcdsaSigningInputs, share: EcdsaQuadrupleShare): EcdsaSignatureShare {
  const { delta, r } = rerandomized(inputs);
  const h = mod(bytesToNumberBE(inputs.messageHash), N);
  const t = inputs.derivationTweak;
  const out: EcdsaSignatureShare = {
    receiver: share.receiver,
    nominator: mod(h * share.lambda + r * (share.keyTimesLambda + t * share.lambda), N),
    denominator: mod(share.kappaTimesLambda + delta * share.lambda, N),
  };
  const m = share.masks;
  if (m) {
    // The same linear combinations of the masks (reference idkg.md §3.2), so the share can be
    // checked against the commitments.
    out.nominatorMask = mod(h * m.lambda + r * (m.keyTimesLambda + t * m.lambda), N);
    out.denominatorMask = mod(m.kappaTimesLambda + delta * m.lambda, N);
  }
  return out;
}

/**
 * Checks one signature share against the public images of the node's quadruple shares:
 * ped(nominator) == h·Λ + r·(KX + t·Λ) and ped(denominator) == KK + δ·Λ (reference idkg.md §3.2).
 * @returns false for a share without masks or one that does not match
 */
export function verifyEcdsaSignatureShare(inputs: EcdsaSigningInputs, share: EcdsaSignatureShare, images: EcdsaShareImages): boolean {
  if (share.nominatorMask === undefined || share.denominatorMask === undefined) return false;
  const g = idkgGroup('secp256k1');
  const { delta, r } = rerandomized(inputs);
  const h = mod(bytesToNumberBE(inputs.messageHash), N);
  const t = inputs.derivationTweak;
  const nom = g.mulG(share.nominator).add(g.mulH(share.nominatorMask));
  const wantNom = g.mul(images.lambda, mod(h + r * t, N)).add(g.mul(images.keyTimesLambda, r));
  const den = g.mulG(share.denominator).add(g.mulH(share.denominatorMask));
  const wantDen = images.kappaTimesLambda.add(g.mul(images.lambda, delta));
  return nom.equals(wantNom) && den.equals(wantDen);
}

/**
 * Combines t signature shares into r ‖ s (64 bytes, big-endian halves, low-s) and verifies it.
 * @throws Error if the combination does not verify under the derived key (a bad share)
 */
export function combineEcdsaSignatureShares(inputs: EcdsaSigningInputs, shares: readonly EcdsaSignatureShare[]): Uint8Array {
  const { r } = rerandomized(inputs);
  const nominator = interpolateScalarsAtZero(shares.map((s) => [s.receiver, s.nominator] as const), N);
  const denominator = interpolateScalarsAtZero(shares.map((s) => [s.receiver, s.denominator] as const), N);
  let s = mod(nominator * invert(denominator, N), N);
  if (s > N >> 1n) s = N - s;
  const signature = new Uint8Array(64);
  signature.set(numberToBytesBE(r, 32), 0);
  signature.set(numberToBytesBE(s, 32), 32);
  if (s === 0n || !k1.ecdsaVerify(signature, inputs.messageHash, inputs.derivedPublicKey)) {
    throw new Error('ECDSA signing: combined signature does not verify');
  }
  return signature;
}
