/**
 * Transcript parameters and thresholds exactly as the IC's `IDkgTranscriptParams` (reference
 * idkg.md §1.1, [TY]): for a receiver set of n nodes, f = ⌊(n−1)/3⌋ faults are tolerated;
 * reconstruction threshold t = f + 1 (coefficients per polynomial, shares per signature);
 * verification threshold 2f + 1 (receiver supports a dealing needs); collection threshold
 * (dealings a transcript needs): f_dealers + 1 for Random/RandomUnmasked, t of the input for the
 * two reshares, and t_lhs + t_rhs − 1 for UnmaskedTimesMasked (the product polynomial has degree
 * 2f: with only t dealings the interpolation would silently give a wrong product). Dealer set
 * check: |dealers| ≥ collection + f_dealers. Pure.
 */
import type { IdkgCurve } from './group.ts';

/** The five transcript operations (§1.3). Inputs are transcript ids. */
export type TranscriptOp =
  | { type: 'Random' }
  | { type: 'RandomUnmasked' }
  | { type: 'ReshareOfMasked'; input: string }
  | { type: 'ReshareOfUnmasked'; input: string }
  | { type: 'UnmaskedTimesMasked'; lhs: string; rhs: string };

/** What a transcript's creation is fixed by: operation, dealers, receivers, thresholds. */
export interface TranscriptParams {
  transcriptId: string;
  curve: IdkgCurve;
  op: TranscriptOp;
  /** Dealer node ids; for reshares and products, the input transcript's receivers (§1.1 dealer index rule). */
  dealers: string[];
  /** Receiver node ids; node at position i evaluates at x = i + 1. */
  receivers: string[];
  /** Reconstruction threshold t of the receivers. */
  threshold: number;
  /** Receiver supports a dealing needs (2f + 1). */
  verificationThreshold: number;
  /** Supported dealings the transcript needs. */
  collectionThreshold: number;
  /** Associated data every proof and hash of this transcript binds to (transcript id, curve, op). */
  ad: Uint8Array;
  /**
   * Whether anyone but the dealer could check a dealing: whenever more than one node takes part.
   * With a single node (n = 1, the default) the only verifier would be the dealer itself, so no
   * zero-knowledge proofs are made and masked dealings carry no commitment points (nobody could
   * check them; unmasked ones keep theirs, since their constant term is a public key or R).
   */
  proofs: boolean;
}

/** The public facts about an input transcript that parameters depend on. */
export interface InputFacts {
  receivers: readonly string[];
  threshold: number;
}

/** f = ⌊(n − 1) / 3⌋. */
export function faultsTolerated(n: number): number {
  return Math.floor((n - 1) / 3);
}

/** t = f + 1. */
export function reconstructionThreshold(n: number): number {
  return faultsTolerated(n) + 1;
}

/**
 * Parameters of a new transcript.
 * @param inputs the input transcripts (by op: `input`, or `lhs` and `rhs`)
 * @throws Error when the dealer set is too small, or inputs are missing or disagree on receivers
 */
export function transcriptParams(
  transcriptId: string,
  curve: IdkgCurve,
  op: TranscriptOp,
  dealers: readonly string[],
  receivers: readonly string[],
  inputs: { input?: InputFacts; lhs?: InputFacts; rhs?: InputFacts } = {},
): TranscriptParams {
  const n = receivers.length;
  if (n === 0) throw new Error(`${transcriptId}: no receivers`);
  const f = faultsTolerated(n);
  let collection: number;
  let dealerSet: readonly string[] = dealers;
  if (op.type === 'Random' || op.type === 'RandomUnmasked') collection = faultsTolerated(dealers.length) + 1;
  else if (op.type === 'ReshareOfMasked' || op.type === 'ReshareOfUnmasked') {
    if (!inputs.input) throw new Error(`${transcriptId}: ${op.type} needs its input transcript`);
    collection = inputs.input.threshold;
    dealerSet = inputs.input.receivers;
  } else {
    if (!inputs.lhs || !inputs.rhs) throw new Error(`${transcriptId}: UnmaskedTimesMasked needs both inputs`);
    if (inputs.lhs.receivers.join() !== inputs.rhs.receivers.join()) throw new Error(`${transcriptId}: product inputs have different receivers`);
    // The pitfall of §5.7: the product polynomial has degree t_lhs + t_rhs − 2.
    collection = inputs.lhs.threshold + inputs.rhs.threshold - 1;
    dealerSet = inputs.lhs.receivers;
  }
  if (dealerSet.length < collection + faultsTolerated(dealerSet.length)) {
    throw new Error(`${transcriptId}: ${dealerSet.length} dealers cannot reach collection threshold ${collection} with ${faultsTolerated(dealerSet.length)} faults`);
  }
  const ad = new TextEncoder().encode(`${transcriptId}|${curve}|${JSON.stringify(op)}|${receivers.join(',')}`);
  return {
    transcriptId,
    curve,
    op,
    dealers: [...dealerSet],
    receivers: [...receivers],
    threshold: f + 1,
    verificationThreshold: 2 * f + 1,
    collectionThreshold: collection,
    ad,
    proofs: new Set([...dealerSet, ...receivers]).size > 1,
  };
}

/** Whether the operation yields a masked (Pedersen) transcript. */
export function isMaskedOp(op: TranscriptOp['type']): boolean {
  return op === 'Random' || op === 'UnmaskedTimesMasked';
}
