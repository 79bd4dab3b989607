/**
 * vetKD: the encrypted derived key for `vetkd_derive_key` (interface spec §"IC method
 * vetkd_derive_key"; dfinity/ic `rs/crypto/internal/crypto_lib/bls12_381/vetkd/src/lib.rs`,
 * `EncryptedKeyShare` / `EncryptedKey::combine`).
 *
 * The vetKey for `input` is a BLS signature under the derived key K = (msk + δ)·G2:
 *   k = (msk + δ)·H,  H = hash_to_G1(ser(K) ‖ input) with DST BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_AUG_.
 * It leaves the subnet only encrypted to the caller's transport key tpk (a G1 point):
 *   E1 = r·G1, E2 = r·G2, E3 = r·tpk + k   (E1 ‖ E2 ‖ E3 = 48 + 96 + 48 = 192 bytes),
 * which the holder of tsk opens as k = E3 − tsk·E1. Each node computes this from its share
 * (msk_i + δ) with its own r_i; Lagrange interpolation of the three components gives the
 * encryption under r = Σ w_i·r_i, so no node ever holds k or msk. The combination is checked
 * with pairings before it is returned: e(E1, G2) = e(G1, E2) and
 * e(E3, G2) = e(H, K) · e(tpk, E2).
 */
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { mod } from '@noble/curves/abstract/modular.js';
import { concatBytes } from '@noble/hashes/utils.js';
import type { SecretShare } from './key-transcript.ts';
import { lagrangeWeightsAtZero } from './lagrange.ts';
import { scalarFromBytes } from './key-transcript.ts';
import { readyMcl } from '../mcl.ts';

const G1 = bls12_381.G1.Point;
const G2 = bls12_381.G2.Point;
const Fp12 = bls12_381.fields.Fp12;
const R_ORDER = G2.Fn.ORDER;

/** Augmented BLS signature DST (vetkeys `augmentedHashToG1`). */
export const VETKD_SIGNATURE_DST = 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_AUG_';

/** Public inputs of one derivation request. */
export interface VetKdDerivationInputs {
  /** The derived public key K, compressed G2, 96 bytes. */
  derivedPublicKey: Uint8Array;
  /** Derivation tweak δ (canister + context) mod r. */
  derivationTweak: bigint;
  /** The `input` argument, any length. */
  input: Uint8Array;
  /** The caller's transport public key, compressed G1, 48 bytes. */
  transportPublicKey: Uint8Array;
}

/** One node's encrypted key share (E1_i, E2_i, E3_i). */
export interface EncryptedKeyShare {
  receiver: number;
  e1: InstanceType<typeof G1>;
  e2: InstanceType<typeof G2>;
  e3: InstanceType<typeof G1>;
}

/** Transport keys found valid lately (hex; oldest dropped first): callers send the same again. */
const validTransportKeys = new Set<string>();
const VALID_TRANSPORT_KEYS_KEPT = 1024;

/**
 * Whether bytes are a valid transport public key: a compressed G1 point in the prime-order
 * subgroup, 48 bytes (`is_valid_transport_public_key_encoding`); on mcl-wasm once it is loaded.
 * A key found valid is remembered (the last 1,024).
 */
export function isValidTransportPublicKey(bytes: Uint8Array): boolean {
  if (bytes.length !== 48) return false;
  const id = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
  if (validTransportKeys.has(id)) return true;
  if (!transportKeyChecks(bytes)) return false;
  if (validTransportKeys.size >= VALID_TRANSPORT_KEYS_KEPT) validTransportKeys.delete(validTransportKeys.values().next().value!);
  validTransportKeys.add(id);
  return true;
}

function transportKeyChecks(bytes: Uint8Array): boolean {
  const mcl = readyMcl();
  if (mcl) {
    // The same checks on mcl-wasm (~10× faster; tested against this noble path).
    const p = new mcl.G1();
    try {
      p.deserialize(bytes);
      return p.isValidOrder();
    } catch {
      return false;
    }
  }
  try {
    G1.fromBytes(bytes).assertValidity();
    return true;
  } catch {
    return false;
  }
}

function messagePoint(inputs: VetKdDerivationInputs): InstanceType<typeof G1> {
  return bls12_381.G1.hashToCurve(concatBytes(inputs.derivedPublicKey, inputs.input), { DST: VETKD_SIGNATURE_DST }) as InstanceType<typeof G1>;
}

/**
 * A node's encrypted key share.
 * @param keyShare the node's share of the vetKD key transcript
 * @param random 64 uniformly random bytes (the node's encryption randomness r_i)
 * @throws Error if the transport key is invalid
 */
export function createEncryptedKeyShare(inputs: VetKdDerivationInputs, keyShare: SecretShare, random: Uint8Array): EncryptedKeyShare {
  if (!isValidTransportPublicKey(inputs.transportPublicKey)) throw new Error('vetKD: invalid transport public key');
  const tpk = G1.fromBytes(inputs.transportPublicKey);
  const r = scalarFromBytes('bls12_381_g2', random);
  const secret = mod(keyShare.value + inputs.derivationTweak, R_ORDER);
  return {
    receiver: keyShare.receiver,
    e1: G1.BASE.multiply(r),
    e2: G2.BASE.multiply(r),
    e3: tpk.multiply(r).add(messagePoint(inputs).multiply(secret)),
  };
}

/**
 * Combines t encrypted key shares into E1 ‖ E2 ‖ E3 (192 bytes, compressed) and checks it.
 * @throws Error if the combination is not a valid encryption of the vetKey (a bad share)
 */
export function combineEncryptedKeyShares(inputs: VetKdDerivationInputs, shares: readonly EncryptedKeyShare[]): Uint8Array {
  const w = lagrangeWeightsAtZero(
    shares.map((s) => s.receiver),
    R_ORDER,
  );
  let e1 = G1.ZERO;
  let e2 = G2.ZERO;
  let e3 = G1.ZERO;
  shares.forEach((s, i) => {
    e1 = e1.add(s.e1.multiply(w[i]!));
    e2 = e2.add(s.e2.multiply(w[i]!));
    e3 = e3.add(s.e3.multiply(w[i]!));
  });
  const K = G2.fromBytes(inputs.derivedPublicKey);
  const tpk = G1.fromBytes(inputs.transportPublicKey);
  // The identity is a valid encoding of a transport key (G1Affine::from_compressed accepts it);
  // its pairing factor is then 1 (and the vetKey travels unencrypted, as on the replica).
  const transportFactor = tpk.is0() ? Fp12.ONE : bls12_381.pairing(tpk, e2);
  const ok =
    Fp12.eql(bls12_381.pairing(e1, G2.BASE), bls12_381.pairing(G1.BASE, e2)) &&
    Fp12.eql(bls12_381.pairing(e3, G2.BASE), Fp12.mul(bls12_381.pairing(messagePoint(inputs), K), transportFactor));
  if (!ok) throw new Error('vetKD: combined encrypted key does not verify');
  return concatBytes(e1.toBytes(true), e2.toBytes(true), e3.toBytes(true));
}
