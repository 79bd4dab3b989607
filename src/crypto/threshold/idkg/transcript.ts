/**
 * Transcripts: combining supported dealings into one public commitment, and each receiver
 * combining its openings into its share (reference idkg.md §1.3, §2.6, §2.7; the IC's
 * `idkg/transcript.rs`).
 * - Random / RandomUnmasked: the commitments (and a receiver's openings) are summed.
 * - The reshares and the product: Lagrange interpolation at 0 over the dealer indices,
 *   C_k = Σ_d λ_d(0)·C_{d,k}; a receiver's share is Σ_d λ_d(0)·opening_d. For
 *   ReshareOfUnmasked the combined constant term must equal the input's (the key is unchanged).
 * - Complaint path: a receiver whose opening of an included dealing is bad gets ≥ t openings of
 *   that dealing from other receivers and interpolates them at its own x_j (never at 0).
 * Product transcripts (UnmaskedTimesMasked: κ·λ and x·λ) combine lazily: their combined
 * commitment (t multi-scalar multiplications over 2f + 1 dealings) is needed only to check a
 * signature share when the optimistic combine fails, so it is computed on first use from the
 * included dealings — the same deterministic function of public data, just later — and stored as
 * those dealings' commitments until then.
 * Pure.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import { lagrangeWeightsAt, lagrangeWeightsAtZero } from '../lagrange.ts';
import type { Dealing, InputCommitments } from './dealing.ts';
import { idkgGroup, type IdkgCurve, type IdkgGroup } from './group.ts';
import { isMaskedOp, type TranscriptOp, type TranscriptParams } from './params.ts';
import { commitmentFromJson, commitmentToJson, evaluateCommitmentCached, openingMatches, type Commitment, type CommitmentJson, type Opening } from './polynomial.ts';

/** A transcript's public part. */
export interface Transcript {
  transcriptId: string;
  curve: IdkgCurve;
  op: TranscriptOp['type'];
  /** Receiver node ids (position i ↔ x = i + 1). */
  receivers: string[];
  /** Reconstruction threshold t. */
  threshold: number;
  combined: Commitment;
  /** The included dealings (dealer index → commitment), needed by receivers to load and complain. */
  dealings: Dealing[];
}

/**
 * Stored form of a transcript (the included dealings are not kept once loaded), with its combined
 * commitment — or, for a product transcript not combined yet, the included dealings' commitments.
 */
export interface TranscriptJson {
  transcriptId: string;
  curve: IdkgCurve;
  op: TranscriptOp['type'];
  receivers: string[];
  threshold: number;
  combined?: CommitmentJson;
  /** Dealer index and commitment of each included dealing (instead of `combined`). */
  uncombined?: { dealerIndex: number; commitment: CommitmentJson }[];
}

/** Product transcripts whose combined commitment is not computed yet → their included dealings. */
const uncombined = new WeakMap<Transcript, readonly Dealing[]>();

/** C_k = Σ_d λ_d(0)·C_{d,k} (Lagrange at 0 over the dealer indices), or the plain sum. */
function combineCommitments(group: IdkgGroup, kind: Commitment['kind'], dealings: readonly Dealing[], width: number, bySum: boolean): Commitment {
  const w = bySum ? dealings.map(() => 1n) : lagrangeWeightsAtZero(dealings.map((d) => d.dealerIndex), group.order);
  const points = Array.from({ length: width }, (_, k) => {
    const column = dealings.map((d) => d.commitment.points[k]!);
    return bySum ? column.reduce((acc, p) => acc.add(p), group.zero) : group.msm(column, w);
  });
  return { kind, points: group.normalize(points) };
}

/** A transcript whose `combined` is computed from `dealings` on first read. */
function lazyTranscript(base: Omit<Transcript, 'combined'>, kind: Commitment['kind'], dealings: readonly Dealing[], width: number): Transcript {
  const t = base as Transcript;
  let combined: Commitment | undefined;
  Object.defineProperty(t, 'combined', {
    enumerable: true,
    get: () => {
      if (!combined) {
        combined = combineCommitments(idkgGroup(base.curve), kind, dealings, width, false);
        uncombined.delete(t);
      }
      return combined;
    },
  });
  uncombined.set(t, dealings);
  return t;
}

/**
 * Builds the transcript from exactly `params.collectionThreshold` publicly verified dealings
 * with enough supports (the caller checked those).
 * @throws Error on too few dealings, repeated dealers, or a reshare that changed the secret
 */
export function createTranscript(params: TranscriptParams, dealings: readonly Dealing[], inputs: InputCommitments): Transcript {
  const g = idkgGroup(params.curve);
  const c = params.collectionThreshold;
  if (dealings.length !== c) throw new Error(`${params.transcriptId}: need exactly ${c} dealings, got ${dealings.length}`);
  const idx = dealings.map((d) => d.dealerIndex);
  if (new Set(idx).size !== idx.length) throw new Error(`${params.transcriptId}: a dealer appears twice`);
  const kind = isMaskedOp(params.op.type) ? 'pedersen' : 'simple';
  // Single-node masked dealings carry no points (see TranscriptParams.proofs): neither does the transcript.
  const width = dealings.every((d) => d.commitment.points.length === params.threshold) ? params.threshold : 0;
  const bySum = params.op.type === 'Random' || params.op.type === 'RandomUnmasked';
  const base = {
    transcriptId: params.transcriptId,
    curve: params.curve,
    op: params.op.type,
    receivers: [...params.receivers],
    threshold: params.threshold,
    dealings: [...dealings],
  };
  if (params.op.type === 'UnmaskedTimesMasked') return lazyTranscript(base, kind, base.dealings, width);
  const combined = combineCommitments(g, kind, dealings, width, bySum);
  if (params.op.type === 'ReshareOfUnmasked') {
    // §4.3: Σ λ_d(0)·f_old(x_d)·G = f_old(0)·G — the public key must come out unchanged.
    if (!inputs.input || !inputs.input.points[0]!.equals(combined.points[0]!)) throw new Error(`${params.transcriptId}: reshared constant term differs from the input's`);
  }
  return { ...base, combined };
}

/**
 * One receiver's share of a transcript from its openings of the included dealings (each
 * opening belongs to a different dealing: no set of these is ever t shares of one sharing).
 * @param openings dealer index → this receiver's opening of that dealing, for every included dealing
 * @param openings each already checked against its dealing (private verification or reconstruction)
 * @throws Error if an included dealing's opening is missing
 */
export function combineOpenings(transcript: Transcript, receiverIndex: number, openings: ReadonlyMap<number, Opening>): Opening {
  const g = idkgGroup(transcript.curve);
  const idx = transcript.dealings.map((d) => d.dealerIndex);
  const bySum = transcript.op === 'Random' || transcript.op === 'RandomUnmasked';
  const w = bySum ? idx.map(() => 1n) : lagrangeWeightsAtZero(idx, g.order);
  let value = 0n;
  let mask: bigint | undefined = isMaskedOp(transcript.op) ? 0n : undefined;
  idx.forEach((d, i) => {
    const o = openings.get(d);
    if (!o) throw new Error(`${transcript.transcriptId}: no opening of dealer ${d}'s dealing`);
    value = mod(value + w[i]! * o.value, g.order);
    if (mask !== undefined) mask = mod(mask + w[i]! * (o.mask ?? 0n), g.order);
  });
  // No check of the result against the combined commitment is needed: every opening was checked
  // against its dealing, and the combination is the same linear map on both sides.
  void receiverIndex;
  return mask === undefined ? { value } : { value, mask };
}

/**
 * The complaint path (§2.7): receiver `target`'s opening of one dealing from ≥ t openings of it
 * by other receivers, interpolated at x_target (not at 0), and checked against the dealing.
 * @param openings `[receiver index, opening]`, each already checked against the dealing
 * @throws Error on fewer than t openings or a result that does not match
 */
export function reconstructOpening(group: IdkgGroup, dealing: Dealing, threshold: number, target: number, openings: readonly (readonly [number, Opening])[]): Opening {
  if (openings.length < threshold) throw new Error(`reconstructOpening: need ${threshold} openings, got ${openings.length}`);
  const use = openings.slice(0, threshold);
  const w = lagrangeWeightsAt(use.map(([i]) => i), BigInt(target + 1), group.order);
  let value = 0n;
  let mask = 0n;
  use.forEach(([, o], i) => {
    value = mod(value + w[i]! * o.value, group.order);
    mask = mod(mask + w[i]! * (o.mask ?? 0n), group.order);
  });
  const out: Opening = dealing.commitment.kind === 'pedersen' ? { value, mask } : { value };
  if (!openingMatches(group, dealing.commitment, target, out)) throw new Error(`reconstructOpening: rebuilt opening of receiver ${target} does not match`);
  return out;
}

/** The commitment of a transcript evaluated at a receiver (its share's public image). */
export function transcriptShareImage(t: Pick<Transcript, 'curve' | 'combined'>, receiverIndex: number) {
  return evaluateCommitmentCached(idkgGroup(t.curve), t.combined, receiverIndex);
}

/** Stored form (a product transcript not combined yet keeps its included dealings' commitments). */
export function transcriptToJson(t: Transcript): TranscriptJson {
  const g = idkgGroup(t.curve);
  const base = { transcriptId: t.transcriptId, curve: t.curve, op: t.op, receivers: t.receivers, threshold: t.threshold };
  const pending = uncombined.get(t);
  if (pending) return { ...base, uncombined: pending.map((d) => ({ dealerIndex: d.dealerIndex, commitment: commitmentToJson(g, d.commitment) })) };
  return { ...base, combined: commitmentToJson(g, t.combined) };
}

/**
 * From the stored form (without the included dealings).
 * @throws Error for a stored form with neither a combined commitment nor dealings, or bad points
 */
export function transcriptFromJson(j: TranscriptJson): Transcript {
  const g = idkgGroup(j.curve);
  const base = { transcriptId: j.transcriptId, curve: j.curve, op: j.op, receivers: [...j.receivers], threshold: j.threshold, dealings: [] };
  if (j.combined) return { ...base, combined: commitmentFromJson(g, j.combined) };
  if (!j.uncombined) throw new Error(`${j.transcriptId}: stored transcript has no commitment`);
  const dealings: Dealing[] = j.uncombined.map((d) => ({ transcriptId: j.transcriptId, dealerIndex: d.dealerIndex, commitment: commitmentFromJson(g, d.commitment) }));
  const width = dealings[0]?.commitment.points.length ?? 0;
  return lazyTranscript(base, isMaskedOp(j.op) ? 'pedersen' : 'simple', dealings, width);
}
