/**
 * The block maker's part of transcript creation (reference idkg.md §5.4 steps 1 and 5; the IC's
 * `pre_signer.rs` / `payload_builder`): it issues transcript parameters, asks dealers to deal
 * (lazily: exactly as many as the collection threshold — 2f_src + 1 for an XNet reshare — and a
 * replacement for each dealer that times out, is refused by public verification or cannot
 * gather 2f + 1 supports), and builds the transcript from the first `collection threshold`
 * publicly valid dealings with ≥ 2f + 1 supports, ordered by dealer index. On the IC all n
 * dealers deal and the block maker picks; asking only as many as needed gives the same
 * transcripts at a fraction of the cost (§5.2 "lazy dealing"). Dealers that failed before are
 * asked last.
 */
import type { InputCommitments } from '../../crypto/threshold/idkg/dealing.ts';
import type { TranscriptParams } from '../../crypto/threshold/idkg/params.ts';
import { createTranscript, type Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { ArtifactPool, TranscriptInCreation } from './artifact-pool.ts';
import { SLOW_PERIOD } from './faults.ts';

/** Rounds a requested dealer gets to deal, and a dealing gets to gather supports. */
export const DEALER_TIMEOUT_ROUNDS = SLOW_PERIOD + 1;

/** Outcome of one block-maker step for a transcript. */
export type StepOutcome = { kind: 'created'; transcript: Transcript } | { kind: 'waiting' } | { kind: 'failed'; reason: string };

/** Issues parameters, requests dealers and builds transcripts. */
export class BlockMaker {
  readonly #pool: ArtifactPool;
  /** Node id → failures as a dealer (timeouts, refused or unsupported dealings). */
  readonly #suspicion = new Map<string, number>();
  #rotation = 0;

  constructor(pool: ArtifactPool) {
    this.#pool = pool;
  }

  /** Issues a transcript's parameters and asks its first dealers. */
  start(params: TranscriptParams, inputs: InputCommitments, initialRequests = params.collectionThreshold): void {
    const tic: TranscriptInCreation = { params, inputs, startRound: this.#pool.round, requested: new Map(), initialRequests };
    this.#pool.inCreation.set(params.transcriptId, tic);
    this.#request(tic, Math.min(initialRequests, params.dealers.length));
  }

  #request(tic: TranscriptInCreation, count: number): number {
    const n = tic.params.dealers.length;
    const offset = this.#rotation++ % n;
    const order = tic.params.dealers
      .map((id, i) => ({ id, i, rot: (i - offset + n) % n }))
      .filter((d) => !tic.requested.has(d.i))
      .sort((a, b) => (this.#suspicion.get(a.id) ?? 0) - (this.#suspicion.get(b.id) ?? 0) || a.rot - b.rot);
    let asked = 0;
    for (const d of order.slice(0, count)) {
      tic.requested.set(d.i, this.#pool.round);
      asked++;
    }
    return asked;
  }

  #suspect(id: string): void {
    this.#suspicion.set(id, (this.#suspicion.get(id) ?? 0) + 1);
  }

  /**
   * One step for one transcript in creation.
   * @returns the transcript once created (it is put in the pool), or whether it still waits
   */
  step(tic: TranscriptInCreation): StepOutcome {
    const pool = this.#pool;
    const p = tic.params;
    const tid = p.transcriptId;
    const dealings = pool.dealings.get(tid) ?? new Map();
    const supported = [...dealings.values()]
      .filter((d) => pool.verdict(d) === null && pool.supportCount(tid, d.dealerIndex) >= p.verificationThreshold)
      .sort((a, b) => a.dealerIndex - b.dealerIndex);
    if (supported.length >= p.collectionThreshold) {
      const transcript = createTranscript(p, supported.slice(0, p.collectionThreshold), tic.inputs);
      pool.transcripts.set(tid, transcript);
      pool.inCreation.delete(tid);
      return { kind: 'created', transcript };
    }
    // Count dealers still expected to contribute; ask replacements for the others.
    let viable = 0;
    for (const [i, askedAt] of tic.requested) {
      const d = dealings.get(i);
      const id = p.dealers[i]!;
      let ok: boolean;
      if (!d) ok = pool.round - askedAt <= DEALER_TIMEOUT_ROUNDS;
      else if (pool.verdict(d) !== null) ok = false;
      else ok = pool.supportCount(tid, i) >= p.verificationThreshold || pool.round - (pool.dealingRound.get(d) ?? 0) <= DEALER_TIMEOUT_ROUNDS;
      if (ok) viable++;
      else if (!tic.failed?.has(i)) {
        (tic.failed ??= new Set()).add(i);
        this.#suspect(id);
        pool.log({ transcriptId: tid, kind: 'dealer-replaced', node: id });
      }
    }
    const need = p.collectionThreshold - viable;
    if (need > 0 && this.#request(tic, need) === 0 && viable === 0 && supported.length < p.collectionThreshold) {
      return { kind: 'failed', reason: `${tid}: every dealer was asked; ${supported.length} of ${p.collectionThreshold} dealings supported` };
    }
    return { kind: 'waiting' };
  }
}
