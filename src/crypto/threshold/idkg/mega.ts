/**
 * MEGa, the multi-recipient ElGamal-style encryption of dealings' shares (reference idkg.md
 * §2.2), and its complaints (§2.7), for the `--mega` test mode (the default replaces it with an
 * authenticated in-process channel, §5.2). Our own construction after the reference's
 * description: not byte-compatible with the IC's encodings or domain separators.
 *
 * - Node keys are secp256k1 (K256) for every signature algorithm: sk a scalar, pk = sk·G
 *   (33-byte SEC1). Plaintexts are openings (value, and mask for Pedersen) as scalars of the
 *   *signature* curve (secp256k1 or Ed25519).
 * - Encrypt (one dealing → all receivers): one ephemeral β, V = β·G; proof of possession
 *   pop_base = hash_to_curve(ad, dealer, V), pop_pk = β·pop_base with a ProofOfDLogEquivalence
 *   (log_G V = log_pop_base pop_pk); per receiver j: ub_j = β·pk_j,
 *   hm = RO(dealer, j, ad, pk_j, V, ub_j) → one scalar per plaintext scalar (value; mask),
 *   ct_j = hm + opening_j (mod the signature curve's order).
 * - Decrypt: ub_j = sk_j·V, recompute hm, opening = ct_j − hm.
 * - Complaint: j publishes ub_j = sk_j·V with a DLEQ proof that log_G pk_j = log_V ub_j; anyone
 *   then decrypts ct_j with it and checks the opening against the dealing's commitment, without
 *   j's secret key.
 * Pure.
 */
import { secp256k1, secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { mod } from '@noble/curves/abstract/modular.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { hashToScalar, idkgGroup, scalarFrom64, type GroupPoint, type IdkgCurve } from './group.ts';
import type { Opening, RandomSource } from './polynomial.ts';
import { proveDLogEquivalence, verifyDLogEquivalence, type DLogEquivalenceProof } from './zk-proofs.ts';

/** The key group of MEGa (K256 for every algorithm). */
const K256 = (): ReturnType<typeof idkgGroup> => idkgGroup('secp256k1');

/** A node's MEGa key pair: sk a secp256k1 scalar, pk = sk·G (33-byte SEC1). */
export interface MegaKeyPair {
  secretKey: bigint;
  publicKey: Uint8Array;
}

/** One dealing's shares, encrypted to all its receivers (public: it travels in the dealing). */
export interface MegaCiphertext {
  /** V = β·G, 33-byte SEC1. */
  ephemeral: Uint8Array;
  /** pop_pk = β·pop_base, 33-byte SEC1. */
  popPublicKey: Uint8Array;
  popProof: DLogEquivalenceProof;
  /** Per receiver index: the padded opening (mask present exactly for Pedersen dealings). */
  ciphertexts: Opening[];
}

/** A receiver's complaint evidence: its shared secret for the dealing and the DLEQ proof. */
export interface MegaComplaint {
  /** ub_j = sk_j·V, 33-byte SEC1. */
  sharedSecret: Uint8Array;
  /** log_G pk_j = log_V ub_j. */
  proof: DLogEquivalenceProof;
}

const u32 = (n: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n);
  return b;
};

/** A fresh key pair. */
export function megaKeyGen(random: RandomSource): MegaKeyPair {
  const g = K256();
  let sk = 0n;
  while (sk === 0n) sk = scalarFrom64(g, random(64));
  return { secretKey: sk, publicKey: g.encode(g.mulG(sk)) };
}

/** hash_to_curve (RFC 9380, secp256k1) of (ad, dealer, V): the PoP base. */
function popBase(ad: Uint8Array, dealerIndex: number, v: Uint8Array): GroupPoint {
  const msg = concatBytes(u32(ad.length), ad, u32(dealerIndex), v);
  const p = secp256k1_hasher.hashToCurve(msg, { DST: 'chainkey-replica-mega-pop-base' });
  return secp256k1.Point.fromAffine(p.toAffine()) as unknown as GroupPoint;
}

/** The PoP's statement is bound to the transcript: its proofs hash ad plus the dealer. */
const popAd = (ad: Uint8Array, dealerIndex: number): Uint8Array => concatBytes(u32(ad.length), ad, u32(dealerIndex));

/** The pad of receiver j: one scalar of the signature curve per plaintext scalar. */
function pad(curve: IdkgCurve, ad: Uint8Array, dealerIndex: number, j: number, pk: Uint8Array, v: Uint8Array, ub: Uint8Array): { value: bigint; mask: bigint } {
  const sig = idkgGroup(curve);
  const parts = [u32(dealerIndex), u32(j), ad, pk, v, ub];
  return { value: hashToScalar(sig, 'mega-pad-value', ...parts), mask: hashToScalar(sig, 'mega-pad-mask', ...parts) };
}

const seal = (curve: IdkgCurve, o: Opening, hm: { value: bigint; mask: bigint }, sign: 1n | -1n): Opening => {
  const order = idkgGroup(curve).order;
  const value = mod(o.value + sign * hm.value, order);
  return o.mask === undefined ? { value } : { value, mask: mod(o.mask + sign * hm.mask, order) };
};

/**
 * Encrypts one dealing's openings, `openings[j]` to `publicKeys[j]`.
 * @param curve the signature curve (the openings' scalar field)
 * @throws Error if the lengths differ or a public key is not a secp256k1 point
 */
export function megaEncrypt(curve: IdkgCurve, ad: Uint8Array, dealerIndex: number, publicKeys: readonly Uint8Array[], openings: readonly Opening[], random: RandomSource): MegaCiphertext {
  if (publicKeys.length !== openings.length) throw new Error('megaEncrypt: one public key per opening');
  const g = K256();
  let beta = 0n;
  while (beta === 0n) beta = scalarFrom64(g, random(64));
  const V = g.mulG(beta);
  const v = g.encode(V);
  const base = popBase(ad, dealerIndex, v);
  const popPk = g.mul(base, beta);
  const popProof = proveDLogEquivalence(g, popAd(ad, dealerIndex), { a: V, b: base, c: popPk }, beta, random);
  const ciphertexts = openings.map((o, j) => {
    const pk = publicKeys[j]!;
    const ub = g.encode(g.mul(g.decode(pk), beta));
    return seal(curve, o, pad(curve, ad, dealerIndex, j, pk, v, ub), 1n);
  });
  return { ephemeral: v, popPublicKey: g.encode(popPk), popProof, ciphertexts };
}

/** Public verification of the ciphertext (§2.4 item 2): n entries and a valid PoP. */
export function megaVerifyPop(ad: Uint8Array, dealerIndex: number, receivers: number, ct: MegaCiphertext): boolean {
  if (ct.ciphertexts.length !== receivers) return false;
  const g = K256();
  try {
    const V = g.decode(ct.ephemeral);
    const base = popBase(ad, dealerIndex, ct.ephemeral);
    return !V.is0() && verifyDLogEquivalence(g, popAd(ad, dealerIndex), { a: V, b: base, c: g.decode(ct.popPublicKey) }, ct.popProof);
  } catch {
    return false;
  }
}

/** Receiver j decrypts its opening with its secret key (the PoP is checked publicly, not here). */
export function megaDecrypt(curve: IdkgCurve, ad: Uint8Array, dealerIndex: number, j: number, key: MegaKeyPair, ct: MegaCiphertext): Opening {
  const g = K256();
  const ub = g.encode(g.mul(g.decode(ct.ephemeral), key.secretKey));
  return seal(curve, ct.ciphertexts[j]!, pad(curve, ad, dealerIndex, j, key.publicKey, ct.ephemeral, ub), -1n);
}

/** Complaint evidence of receiver j: ub_j = sk_j·V and a DLEQ proof (log_G pk_j = log_V ub_j). */
export function megaComplain(ad: Uint8Array, dealerIndex: number, j: number, key: MegaKeyPair, ct: MegaCiphertext, random: RandomSource): MegaComplaint {
  const g = K256();
  const V = g.decode(ct.ephemeral);
  const ub = g.mul(V, key.secretKey);
  const proof = proveDLogEquivalence(g, complaintAd(ad, dealerIndex, j), { a: g.decode(key.publicKey), b: V, c: ub }, key.secretKey, random);
  return { sharedSecret: g.encode(ub), proof };
}

const complaintAd = (ad: Uint8Array, dealerIndex: number, j: number): Uint8Array => concatBytes(u32(ad.length), ad, u32(dealerIndex), u32(j));

/**
 * Anyone checks a complaint's evidence and, if it holds, decrypts receiver j's opening with it
 * (the caller then checks that opening against the dealing's commitment: a complaint is valid
 * only if it fails).
 * @returns the opening the dealer sent j, or null if the evidence does not hold
 */
export function megaOpenComplaint(curve: IdkgCurve, ad: Uint8Array, dealerIndex: number, j: number, publicKey: Uint8Array, ct: MegaCiphertext, c: MegaComplaint): Opening | null {
  const g = K256();
  const entry = ct.ciphertexts[j];
  if (!entry) return null;
  try {
    const points = { a: g.decode(publicKey), b: g.decode(ct.ephemeral), c: g.decode(c.sharedSecret) };
    if (!verifyDLogEquivalence(g, complaintAd(ad, dealerIndex, j), points, c.proof)) return null;
  } catch {
    return null;
  }
  return seal(curve, entry, pad(curve, ad, dealerIndex, j, publicKey, ct.ephemeral, c.sharedSecret), -1n);
}
