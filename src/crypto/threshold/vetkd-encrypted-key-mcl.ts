/**
 * vetKD encrypted keys on mcl-wasm: the same computation as vetkd-encrypted-key.ts (the noble
 * reference; read it for the scheme) with BLS12-381 arithmetic in WebAssembly, ~10× faster. With
 * the same inputs and the same per-node randomness both produce the same 192 bytes (tested).
 *
 * The combination check differs only in how it is computed: the two pairing equations
 *   e(E1, G2) = e(G1, E2)   and   e(E3, G2) = e(H, K) · e(tpk, E2)
 * are checked together as one product of three Miller loops and one final exponentiation,
 *   e(E1 + ρ·E3, G2) · e(−(G1 + ρ·tpk), E2) · e(−ρ·H, K) = 1,
 * with ρ a fresh random 128-bit scalar: if either equation fails, the product is 1 with
 * probability at most 2⁻¹²⁸ (the two factors are powers of a generator of the order-r target
 * group, and ρ is unknown when the shares are made). Pure but for that randomness.
 */
import { randomBytes } from 'node:crypto';
import type { Fr, G1, G2, PrecomputedG2 } from 'mcl-wasm';
import { numberToBytesBE } from '@noble/curves/utils.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { hashToG1, type McL } from '../mcl.ts';
import type { SecretShare } from './key-transcript.ts';
import { scalarFromBytes } from './key-transcript.ts';
import { lagrangeWeightsAtZero } from './lagrange.ts';
import { VETKD_SIGNATURE_DST, type VetKdDerivationInputs } from './vetkd-encrypted-key.ts';

const R_ORDER = bls12_381.G2.Point.Fn.ORDER;

/** One node's encrypted key share (E1_i, E2_i, E3_i) as mcl points. */
export interface McLEncryptedKeyShare {
  receiver: number;
  e1: G1;
  e2: G2;
  e3: G1;
}

/** The generators, their negation and G2's Miller-loop precomputation (per mcl instance). */
let bases: { mcl: McL; g1: G1; g2: G2; g2Pre: PrecomputedG2 } | null = null;
function basesOf(mcl: McL): { g1: G1; g2: G2; g2Pre: PrecomputedG2 } {
  if (bases?.mcl !== mcl) {
    const g1 = new mcl.G1();
    g1.deserialize(bls12_381.G1.Point.BASE.toBytes(true));
    const g2 = new mcl.G2();
    g2.deserialize(bls12_381.G2.Point.BASE.toBytes(true));
    bases = { mcl, g1, g2, g2Pre: new mcl.PrecomputedG2(g2) };
  }
  return bases;
}

function fr(mcl: McL, x: bigint): Fr {
  const f = new mcl.Fr();
  f.setBigEndianMod(numberToBytesBE(((x % R_ORDER) + R_ORDER) % R_ORDER, 32));
  return f;
}

/**
 * The transport public key as an mcl point.
 * @throws Error unless it is a compressed G1 point in the prime-order subgroup (the identity included)
 */
function transportKey(mcl: McL, bytes: Uint8Array): G1 {
  const p = new mcl.G1();
  try {
    if (bytes.length !== 48) throw new Error('length');
    p.deserialize(bytes);
    if (!p.isValidOrder()) throw new Error('order');
  } catch {
    throw new Error('vetKD: invalid transport public key');
  }
  return p;
}

function messagePoint(mcl: McL, inputs: VetKdDerivationInputs): G1 {
  return hashToG1(mcl, concatBytes(inputs.derivedPublicKey, inputs.input), VETKD_SIGNATURE_DST);
}

/**
 * A node's encrypted key share (= vetkd-encrypted-key.ts `createEncryptedKeyShare`).
 * @param keyShare the node's share of the vetKD key transcript
 * @param random 64 uniformly random bytes (the node's encryption randomness r_i)
 * @throws Error if the transport key is invalid
 */
export function createEncryptedKeyShareMcl(mcl: McL, inputs: VetKdDerivationInputs, keyShare: SecretShare, random: Uint8Array): McLEncryptedKeyShare {
  const { g1, g2 } = basesOf(mcl);
  const tpk = transportKey(mcl, inputs.transportPublicKey);
  const r = fr(mcl, scalarFromBytes('bls12_381_g2', random));
  const secret = fr(mcl, keyShare.value + inputs.derivationTweak);
  return {
    receiver: keyShare.receiver,
    e1: mcl.mul(g1, r),
    e2: mcl.mul(g2, r),
    e3: mcl.add(mcl.mul(tpk, r), mcl.mul(messagePoint(mcl, inputs), secret)),
  };
}

/**
 * Combines t encrypted key shares into E1 ‖ E2 ‖ E3 (192 bytes, compressed) and checks it
 * (= vetkd-encrypted-key.ts `combineEncryptedKeyShares`; the check batched as described above).
 * @throws Error if the combination is not a valid encryption of the vetKey (a bad share)
 */
export function combineEncryptedKeySharesMcl(mcl: McL, inputs: VetKdDerivationInputs, shares: readonly McLEncryptedKeyShare[]): Uint8Array {
  const { g1, g2Pre } = basesOf(mcl);
  let e1: G1, e2: G2, e3: G1;
  if (shares.length === 1) {
    // A single share's Lagrange weight at 0 is 1.
    ({ e1, e2, e3 } = shares[0]!);
  } else {
    const w = lagrangeWeightsAtZero(shares.map((s) => s.receiver), R_ORDER).map((x) => fr(mcl, x));
    e1 = mcl.mulVec(shares.map((s) => s.e1), w);
    e2 = mcl.mulVec(shares.map((s) => s.e2), w);
    e3 = mcl.mulVec(shares.map((s) => s.e3), w);
  }
  const K = new mcl.G2();
  K.deserialize(inputs.derivedPublicKey);
  const tpk = transportKey(mcl, inputs.transportPublicKey);
  const H = messagePoint(mcl, inputs);
  const rho = new mcl.Fr();
  rho.setBigEndianMod(new Uint8Array(randomBytes(16)));
  // e(E1 + ρ·E3, G2) · e(−(G1 + ρ·tpk), E2) · e(−ρ·H, K) = 1
  const a = mcl.add(e1, mcl.mul(e3, rho));
  const b = mcl.neg(mcl.add(g1, mcl.mul(tpk, rho)));
  const c = mcl.neg(mcl.mul(H, rho));
  const product = mcl.mul(mcl.mul(mcl.precomputedMillerLoop(a, g2Pre), mcl.millerLoop(b, e2)), mcl.millerLoop(c, K));
  if (!mcl.finalExp(product).isOne()) throw new Error('vetKD: combined encrypted key does not verify');
  return concatBytes(e1.serialize(), e2.serialize(), e3.serialize());
}
