/**
 * Threshold Schnorr signing from a pre-signature: BIP340 over secp256k1 (with the optional
 * BIP341 taproot tweak) and Ed25519 (RFC 8032) (the replica's `sign_with_schnorr`; threshold
 * Schnorr as in the IC's canister_threshold_sig `signing/bip340.rs`, `signing/eddsa.rs`).
 *
 * Both are linear: with derived key share x'_i = x_i + t (t the derivation tweak; adding a
 * public constant to every share adds it to the secret, as the weights sum to 1), rerandomized
 * blinder share k'_i = k_i + δ and challenge e, each node's share is s_i = k'_i + e·x'_i and any
 * t of them interpolate to s = k' + e·x'.
 *
 * BIP340 (bip-0340.mediawiki): keys and nonces are x-only, so a point with odd y is replaced
 * by its negation and its secret negated; e = tagged_hash("BIP0340/challenge", R.x ‖ P.x ‖ m)
 * for a message of any length. BIP341 (bip-0341.mediawiki `taproot_tweak_seckey`): the output
 * key is Q = P + tt·G with tt = tagged_hash("TapTweak", P.x ‖ merkle_root) (merkle_root empty
 * or 32 bytes). Ed25519: e = SHA-512(R ‖ A ‖ M) mod ℓ, signature R ‖ s (s little-endian); the
 * derived secret is a plain scalar (derivation.md §4.2), so no seed hashing or clamping.
 * The combined signature is verified before it is returned (secp256k1 point work and BIP340
 * verification in libsecp256k1, Ed25519 verification in OpenSSL; both checked against noble).
 */
import { mod } from '@noble/curves/abstract/modular.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { schnorr } from '@noble/curves/secp256k1.js';
import { bytesToNumberBE, bytesToNumberLE, numberToBytesBE, numberToBytesLE } from '@noble/curves/utils.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { verifyEd25519OpenSsl } from '../ed25519-verify.ts';
import * as k1 from '../secp256k1-wasm.ts';
import type { SecretShare } from './key-transcript.ts';
import { idkgGroup, type GroupPoint } from './idkg/group.ts';
import { interpolateScalarsAtZero } from './lagrange.ts';
import { rerandomizationScalar, type SchnorrBlinderShare, type SchnorrPreSignature } from './pre-signature.ts';

const N = k1.SECP256K1_ORDER;
const Ed = ed25519.Point;
const L = Ed.Fn.ORDER;

/** What every node signs: public inputs only. */
export interface SchnorrSigningInputs {
  preSignature: SchnorrPreSignature;
  /** Derivation tweak t of the caller's path (mod the group order). */
  derivationTweak: bigint;
  /** The derived public key: SEC1 compressed 33 bytes (BIP340) or 32 bytes (Ed25519). */
  derivedPublicKey: Uint8Array;
  /** The message, any length. */
  message: Uint8Array;
  /** BIP341 merkle root (0 or 32 bytes) for a taproot-tweaked BIP340 signature; absent: plain BIP340. */
  taprootMerkleRoot?: Uint8Array;
  /** 32 bytes of per-request randomness (rerandomization). */
  randomness: Uint8Array;
}

/** One node's signature share s_i. */
export interface SchnorrSignatureShare {
  receiver: number;
  value: bigint;
}

/** Whether an uncompressed SEC1 point (65 bytes) has odd y. */
const isOddEncoded = (p: Uint8Array): boolean => (p[64]! & 1) === 1;

/** The public part of a signature both shares and combination agree on. */
interface Plan {
  order: bigint;
  /** The nonce commitment encoding that goes into the signature. */
  rBytes: Uint8Array;
  /** k'_i = nonceSign·(k_i + δ). */
  delta: bigint;
  nonceSign: bigint;
  /** x'_i = keySign·(x_i + t) + keyAdd. */
  keySign: bigint;
  keyAdd: bigint;
  challenge: bigint;
  /** Encoding of the key the signature verifies under (x-only 32 bytes, or Ed25519 32 bytes). */
  verifyKey: Uint8Array;
}

/** Each request's plan, computed once for its shares and their combination. */
const plans = new WeakMap<SchnorrSigningInputs, Plan>();

function plan(inputs: SchnorrSigningInputs): Plan {
  let p = plans.get(inputs);
  if (!p) {
    p = computePlan(inputs);
    plans.set(inputs, p);
  }
  return p;
}

function computePlan(inputs: SchnorrSigningInputs): Plan {
  const pre = inputs.preSignature;
  const bind = [inputs.message, inputs.derivedPublicKey, inputs.taprootMerkleRoot ?? new Uint8Array([0xff])];
  if (pre.curve === 'ed25519') {
    if (inputs.taprootMerkleRoot !== undefined) throw new Error('Ed25519 signing takes no taproot tweak');
    const delta = rerandomizationScalar('ed25519', pre.preSignatureId, inputs.randomness, ...bind);
    const R = Ed.fromBytes(pre.blinderCommitment).add(Ed.BASE.multiply(delta));
    const rBytes = R.toBytes();
    const challenge = mod(bytesToNumberLE(sha512(concatBytes(rBytes, inputs.derivedPublicKey, inputs.message))), L);
    return { order: L, rBytes, delta, nonceSign: 1n, keySign: 1n, keyAdd: 0n, challenge, verifyKey: inputs.derivedPublicKey };
  }
  const delta = rerandomizationScalar('secp256k1', pre.preSignatureId, inputs.randomness, ...bind);
  // Point work in libsecp256k1 (crypto/secp256k1-wasm.ts); uncompressed points end in y's low byte.
  const R = k1.add(pre.blinderCommitment, k1.mulG(delta, false), false);
  if (R === null) throw new Error('BIP340 signing: R is the identity, use another pre-signature');
  const nonceSign = isOddEncoded(R) ? N - 1n : 1n;
  // BIP340: the derived key as an even-y point; its secret negated if y was odd.
  const P = k1.encode(inputs.derivedPublicKey, false);
  let keySign = isOddEncoded(P) ? N - 1n : 1n;
  let keyAdd = 0n;
  let Q = isOddEncoded(P) ? k1.negate(P)! : P;
  if (inputs.taprootMerkleRoot !== undefined) {
    const root = inputs.taprootMerkleRoot;
    if (root.length !== 0 && root.length !== 32) throw new Error('BIP341 merkle root must be empty or 32 bytes');
    const tt = bytesToNumberBE(schnorr.utils.taggedHash('TapTweak', Q.subarray(1, 33), root));
    if (tt >= N) throw new Error('BIP341 tweak out of range');
    const tweaked = k1.add(Q, k1.mulG(tt, false), false);
    if (tweaked === null) throw new Error('BIP341 output key is the identity');
    Q = tweaked;
    keyAdd = tt;
    // The output key is x-only too: negate the whole tweaked secret if Q has odd y.
    if (isOddEncoded(Q)) {
      keySign = mod(-keySign, N);
      keyAdd = mod(-keyAdd, N);
      Q = k1.negate(Q)!;
    }
  }
  const rx = R.slice(1, 33);
  const qx = Q.slice(1, 33);
  const challenge = mod(bytesToNumberBE(schnorr.utils.taggedHash('BIP0340/challenge', rx, qx, inputs.message)), N);
  return { order: N, rBytes: rx, delta, nonceSign, keySign, keyAdd, challenge, verifyKey: qx };
}

/**
 * A node's signature share.
 * @param keyShare the node's share of the key transcript the pre-signature belongs to
 * @param blinderShare the node's share of the pre-signature's blinder
 * @throws Error on inconsistent inputs (receivers differ, bad taproot root)
 */
export function createSchnorrSignatureShare(
  inputs: SchnorrSigningInputs,
  keyShare: SecretShare,
  blinderShare: SchnorrBlinderShare,
): SchnorrSignatureShare {
  if (keyShare.receiver !== blinderShare.receiver) throw new Error('Schnorr signing: key and blinder shares of different receivers');
  const p = plan(inputs);
  const k = mod(p.nonceSign * (blinderShare.blinder + p.delta), p.order);
  const x = mod(p.keySign * (keyShare.value + inputs.derivationTweak) + p.keyAdd, p.order);
  return { receiver: keyShare.receiver, value: mod(k + p.challenge * x, p.order) };
}

/**
 * Checks one signature share against the public images of the node's key and blinder shares
 * (the unmasked transcripts' commitments at the receiver, reference idkg.md §3.3):
 * s_i·G == ±(R_i + δ·G) + e·(±(K_i + t·G) + a·G).
 * @param keyImage the key transcript's commitment at the receiver
 * @param blinderImage the blinder transcript's commitment at the receiver
 */
export function verifySchnorrSignatureShare(inputs: SchnorrSigningInputs, share: SchnorrSignatureShare, keyImage: GroupPoint, blinderImage: GroupPoint): boolean {
  const p = plan(inputs);
  const g = idkgGroup(inputs.preSignature.curve);
  const k = g.mul(blinderImage.add(g.mulG(p.delta)), p.nonceSign);
  const x = g.mul(keyImage.add(g.mulG(inputs.derivationTweak)), p.keySign).add(g.mulG(p.keyAdd));
  return g.mulG(share.value).equals(k.add(g.mul(x, p.challenge)));
}

/**
 * Combines t shares into the 64-byte signature (BIP340: R.x ‖ s big-endian; Ed25519: R ‖ s
 * little-endian) and verifies it (BIP340 under the x-only output key, Ed25519 under the
 * derived key).
 * @throws Error if the combination does not verify (a bad share)
 */
export function combineSchnorrSignatureShares(inputs: SchnorrSigningInputs, shares: readonly SchnorrSignatureShare[]): Uint8Array {
  const p = plan(inputs);
  const s = interpolateScalarsAtZero(shares.map((x) => [x.receiver, x.value] as const), p.order);
  if (inputs.preSignature.curve === 'ed25519') {
    const sig = concatBytes(p.rBytes, numberToBytesLE(s, 32));
    if (!verifyEd25519OpenSsl(sig, inputs.message, p.verifyKey)) throw new Error('Ed25519 signing: combined signature does not verify');
    return sig;
  }
  const sig = concatBytes(p.rBytes, numberToBytesBE(s, 32));
  if (!k1.schnorrVerify(sig, inputs.message, p.verifyKey)) throw new Error('BIP340 signing: combined signature does not verify');
  return sig;
}
