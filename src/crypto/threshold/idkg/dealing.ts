/**
 * Dealings for the five transcript operations (reference idkg.md §1.3, §2.1, §2.4, §2.5; the
 * IC's `idkg/dealings.rs`). A dealer deals a polynomial of t (the receivers' threshold)
 * coefficients whose constant term is:
 * - Random: fresh random, with a random mask polynomial (Pedersen commitment);
 * - RandomUnmasked: fresh random (Simple commitment);
 * - ReshareOfMasked(T): its opening of T (Simple commitment + ProofOfEqualOpenings against T at
 *   the dealer: the masked secret becomes unmasked);
 * - ReshareOfUnmasked(T): its opening of T (Simple; the verifier checks T(dealer) == C_0);
 * - UnmaskedTimesMasked(S, T): the product of its openings a·b, with a fresh mask (Pedersen +
 *   ProofOfProduct).
 * It sends receiver i the opening of its polynomial at x = i + 1 (privately; see consensus/idkg:
 * an authenticated in-process channel stands in for MEGa encryption, §5.2).
 *
 * Public verification (anyone, once per dealing): shape (commitment length = t, kind per op,
 * proof type per op), proofs, the reshare constant term. Private verification (receiver i): its
 * opening matches the dealing's commitment at i. Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from '@noble/hashes/utils.js';
import { idkgGroup, scalarFrom64, type IdkgGroup } from './group.ts';
import { isMaskedOp, type TranscriptParams } from './params.ts';
import {
  commitmentBytes,
  commitPolynomial,
  evaluateCommitmentCached,
  evaluatePolynomial,
  openingMatches,
  openingPoint,
  randomPolynomial,
  type Commitment,
  type Opening,
  type RandomSource,
} from './polynomial.ts';
import { megaVerifyPop, type MegaCiphertext } from './mega.ts';
import { proveEqualOpenings, proveProduct, verifyEqualOpenings, verifyProduct, type DealingProof } from './zk-proofs.ts';

/** A dealing as it sits in the public pool. */
export interface Dealing {
  transcriptId: string;
  /** Position of the dealer in `params.dealers` (§1.1). */
  dealerIndex: number;
  commitment: Commitment;
  proof?: DealingProof;
  /** `--mega`: the openings encrypted to the receivers (idkg.md §2.2), checked publicly by its PoP. */
  mega?: MegaCiphertext;
}

/** A dealing plus the opening for every receiver (index i → opening at x = i + 1). */
export interface DealtShares {
  dealing: Dealing;
  openings: Opening[];
}

/** The dealer's secret input, by operation. */
export type DealerSecret =
  | { kind: 'none' }
  /** ReshareOfMasked / ReshareOfUnmasked: the dealer's opening of the input transcript. */
  | { kind: 'reshare'; opening: Opening }
  /** UnmaskedTimesMasked: the dealer's openings of lhs (unmasked) and rhs (masked). */
  | { kind: 'product'; lhs: Opening; rhs: Opening };

/** Combined commitments of a transcript's inputs (by op). */
export interface InputCommitments {
  input?: Commitment;
  lhs?: Commitment;
  rhs?: Commitment;
}

/** Why public verification refused a dealing. */
export type DealingRejection = 'shape' | 'proof' | 'constant';

/**
 * Deals one dealing.
 * @param dealerIndex the dealer's position in `params.dealers`
 * @param secret the dealer's input openings (see {@link DealerSecret})
 * @param inputs the input transcripts' combined commitments (for the proofs)
 * @param random the dealer's randomness
 * @throws Error if the secret or inputs do not fit the operation
 */
export function createDealing(params: TranscriptParams, dealerIndex: number, secret: DealerSecret, inputs: InputCommitments, random: RandomSource): DealtShares {
  const g = idkgGroup(params.curve);
  const t = params.threshold;
  const op = params.op;
  let constant: bigint;
  if (op.type === 'Random' || op.type === 'RandomUnmasked') constant = scalarFrom64(g, random(64));
  else if (op.type === 'UnmaskedTimesMasked') {
    if (secret.kind !== 'product' || secret.rhs.mask === undefined) throw new Error(`${params.transcriptId}: a product dealing needs lhs and masked rhs openings`);
    constant = secret.lhs.value * secret.rhs.value;
  } else {
    if (secret.kind !== 'reshare') throw new Error(`${params.transcriptId}: a reshare dealing needs the dealer's opening`);
    constant = secret.opening.value;
  }
  // Step 1: the dealer's polynomial(s); masked operations get a mask polynomial too.
  const values = randomPolynomial(g, constant, t, random);
  const masks = isMaskedOp(op.type) ? randomPolynomial(g, scalarFrom64(g, random(64)), t, random) : undefined;
  // Step 2: commit (a single-node masked dealing has no one to show its commitment to).
  const commitment: Commitment = !params.proofs && masks ? { kind: 'pedersen', points: [] } : commitPolynomial(g, values, masks);
  // Step 3: the proof the operation requires.
  let proof: DealingProof | undefined;
  if (op.type === 'ReshareOfMasked' && params.proofs) {
    if (!inputs.input || secret.kind !== 'reshare' || secret.opening.mask === undefined) throw new Error(`${params.transcriptId}: ReshareOfMasked needs a masked input`);
    const a = evaluateCommitmentCached(g, inputs.input, dealerIndex);
    proof = proveEqualOpenings(g, params.ad, a, commitment.points[0]!, secret.opening.mask, random);
  } else if (op.type === 'UnmaskedTimesMasked' && params.proofs) {
    if (!inputs.lhs || !inputs.rhs || secret.kind !== 'product') throw new Error(`${params.transcriptId}: UnmaskedTimesMasked needs both inputs`);
    const points = { a: evaluateCommitmentCached(g, inputs.lhs, dealerIndex), b: evaluateCommitmentCached(g, inputs.rhs, dealerIndex), c: commitment.points[0]! };
    proof = proveProduct(g, params.ad, points, { lhs: secret.lhs.value, rhsMask: secret.rhs.mask!, productMask: masks![0]! }, random);
  }
  // Step 4: every receiver's opening at x = i + 1.
  const openings = params.receivers.map((_, i): Opening => {
    const x = BigInt(i + 1);
    const value = evaluatePolynomial(values, x, g.order);
    return masks ? { value, mask: evaluatePolynomial(masks, x, g.order) } : { value };
  });
  return { dealing: { transcriptId: params.transcriptId, dealerIndex, commitment, ...(proof ? { proof } : {}) }, openings };
}

/**
 * Public verification (§2.4): anyone can run it; the result is the same for everyone.
 * @returns null if the dealing is valid, else the reason
 */
export function verifyDealingPublicly(params: TranscriptParams, dealing: Dealing, inputs: InputCommitments): DealingRejection | null {
  const g = idkgGroup(params.curve);
  const op = params.op;
  const wantKind = isMaskedOp(op.type) ? 'pedersen' : 'simple';
  const wantProof = !params.proofs ? undefined : op.type === 'ReshareOfMasked' ? 'EqualOpenings' : op.type === 'UnmaskedTimesMasked' ? 'Product' : undefined;
  if (
    dealing.transcriptId !== params.transcriptId ||
    !Number.isInteger(dealing.dealerIndex) ||
    dealing.dealerIndex < 0 ||
    dealing.dealerIndex >= params.dealers.length ||
    dealing.commitment.kind !== wantKind ||
    dealing.commitment.points.length !== (!params.proofs && wantKind === 'pedersen' ? 0 : params.threshold) ||
    dealing.proof?.type !== wantProof
  ) {
    return 'shape';
  }
  if (dealing.mega && !megaVerifyPop(params.ad, dealing.dealerIndex, params.receivers.length, dealing.mega)) return 'proof';
  const c0 = dealing.commitment.points[0]!;
  if (op.type === 'ReshareOfUnmasked') {
    if (!inputs.input) throw new Error(`${params.transcriptId}: input commitment missing`);
    if (!evaluateCommitmentCached(g, inputs.input, dealing.dealerIndex).equals(c0)) return 'constant';
  } else if (dealing.proof?.type === 'EqualOpenings') {
    if (!inputs.input) throw new Error(`${params.transcriptId}: input commitment missing`);
    if (!verifyEqualOpenings(g, params.ad, evaluateCommitmentCached(g, inputs.input, dealing.dealerIndex), c0, dealing.proof)) return 'proof';
  } else if (dealing.proof?.type === 'Product') {
    if (!inputs.lhs || !inputs.rhs) throw new Error(`${params.transcriptId}: input commitments missing`);
    const points = { a: evaluateCommitmentCached(g, inputs.lhs, dealing.dealerIndex), b: evaluateCommitmentCached(g, inputs.rhs, dealing.dealerIndex), c: c0 };
    if (!verifyProduct(g, params.ad, points, dealing.proof)) return 'proof';
  }
  return null;
}

/** Private verification (§2.5): does receiver `index`'s opening match the dealing? */
export function verifyOpening(group: IdkgGroup, dealing: Dealing, index: number, opening: Opening): boolean {
  return openingMatches(group, dealing.commitment, index, opening);
}

/** A dealing's hash (hex): what supports sign and what the pool keys dealings by. */
export function dealingHash(group: IdkgGroup, d: Dealing): string {
  const head = new TextEncoder().encode(`${d.transcriptId}|${d.dealerIndex}|${d.proof ? JSON.stringify(d.proof, (_, v) => (typeof v === 'bigint' ? v.toString(16) : v)) : ''}`);
  // `--mega`: the ciphertext is part of what supports sign.
  const mega = d.mega ? [d.mega.ephemeral, d.mega.popPublicKey, new TextEncoder().encode(d.mega.ciphertexts.map((c) => `${c.value.toString(16)}.${c.mask?.toString(16) ?? ''}`).join(','))] : [];
  return Buffer.from(sha256(concatBytes(head, ...commitmentBytes(group, d.commitment), ...mega))).toString('hex');
}

/**
 * The public-coin batched private verification (reference idkg.md §5.2): receiver `index`
 * checks all its openings of several dealings of one transcript at once,
 *   G·Σρ_d·s_d (+ H·Σρ_d·m_d) == W(x_index),  W_k = Σ_d ρ_d·C_{d,k},
 * with 64-bit ρ_d derived from a hash of a random beacon and all the dealings' commitments. The
 * beacon is drawn by the network after the openings were sent (each round, between dealing and
 * supporting), so no dealer knows ρ when it picks what to send: a single bad opening always
 * fails the check, and colluding dealers' errors cancel only with probability 2⁻⁶⁴ per try
 * (with ρ from the commitments alone, a dealer dealing last could compute ρ and send an error
 * that cancels a partner's). W depends only on public data, so it is computed once per beacon
 * and dealing set (`cache`) and shared by the receivers.
 * @param beacon public randomness fixed after the openings were sent (any length; 32 bytes here)
 * @returns true if all openings match (on false the caller checks them one by one)
 */
export function verifyOpeningsBatched(group: IdkgGroup, dealings: readonly Dealing[], index: number, openings: readonly Opening[], cache: Map<string, Commitment>, beacon: Uint8Array): boolean {
  const key = `${Buffer.from(beacon).toString('hex')}|${dealings[0]?.transcriptId}|${dealings.map((d) => d.dealerIndex).join(',')}`;
  let w = cache.get(key);
  const rho = batchCoefficients(group, dealings, key, beacon);
  if (!w) {
    const t = dealings[0]!.commitment.points.length;
    const points = Array.from({ length: t }, (_, k) => group.msm(dealings.map((d) => d.commitment.points[k]!), rho));
    w = { kind: dealings[0]!.commitment.kind, points };
    cache.set(key, w);
  }
  let value = 0n;
  let mask = 0n;
  openings.forEach((o, i) => {
    value += rho[i]! * o.value;
    mask += rho[i]! * (o.mask ?? 0n);
  });
  const combined: Opening = w.kind === 'pedersen' ? { value: value % group.order, mask: mask % group.order } : { value: value % group.order };
  // W(x_index) from the shared images of W (finite differences over the receivers).
  return openingPoint(group, combined).equals(evaluateCommitmentCached(group, w, index));
}

const rhoCache = new Map<string, { dealings: readonly Dealing[]; rho: bigint[] }>();

function batchCoefficients(group: IdkgGroup, dealings: readonly Dealing[], key: string, beacon: Uint8Array): bigint[] {
  const hit = rhoCache.get(key);
  if (hit && hit.dealings.length === dealings.length && hit.dealings.every((d, i) => d === dealings[i])) return hit.rho;
  const r = batchWeights(group, dealings, beacon);
  if (rhoCache.size > 256) rhoCache.clear();
  rhoCache.set(key, { dealings: [...dealings], rho: r });
  return r;
}

/**
 * The weights ρ_d of {@link verifyOpeningsBatched}: odd 64-bit integers from SHA-256 over the
 * beacon, then each dealing's transcript id, dealer index and commitment.
 */
export function batchWeights(group: IdkgGroup, dealings: readonly Dealing[], beacon: Uint8Array): bigint[] {
  const seed = sha256(concatBytes(beacon, ...dealings.flatMap((d) => [new TextEncoder().encode(`${d.transcriptId}|${d.dealerIndex}`), ...commitmentBytes(group, d.commitment)])));
  return dealings.map((d) => {
    const h = sha256(concatBytes(seed, new TextEncoder().encode(`rho|${d.dealerIndex}`)));
    return BigInt(`0x${Buffer.from(h.subarray(0, 8)).toString('hex')}`) | 1n;
  });
}
