/**
 * Transcripts from parameters to shares (reference idkg.md §5.4 steps 1, 5 and 6): issues a
 * transcript's parameters through the block maker with a callback for when it is created, runs
 * the block maker's step over every transcript in creation each round, keeps the holders of
 * finished key transcripts and pre-signatures persisting their shares while they load them, and
 * says which created transcripts are old enough to purge from the public pool.
 */
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import { transcriptParams, type TranscriptOp } from '../../crypto/threshold/idkg/params.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { ArtifactPool } from './artifact-pool.ts';
import { BlockMaker } from './block-maker.ts';
import type { IdkgNode } from './node.ts';

/** Rounds a created transcript stays in the public pool (late loaders, complaints, openings). */
export const PURGE_AFTER_ROUNDS = 12;

/** Input transcripts of a new transcript, by operation. */
export interface TranscriptInputs {
  input?: Transcript;
  lhs?: Transcript;
  rhs?: Transcript;
}

/** Starts transcripts and tells their creators when they exist. */
export class TranscriptScheduler {
  readonly #pool: ArtifactPool;
  readonly #blockMaker: BlockMaker;
  readonly #node: (id: string) => IdkgNode | undefined;
  readonly #onCreated = new Map<string, (t: Transcript) => void>();
  /** Transcripts created recently (purged from the pool after a while) → round created. */
  readonly #created = new Map<string, number>();
  /** Finished transcripts whose shares nodes still persist as they load them. */
  readonly #persistent = new Map<string, { t: Transcript; until: number }>();

  constructor(pool: ArtifactPool, node: (id: string) => IdkgNode | undefined) {
    this.#pool = pool;
    this.#blockMaker = new BlockMaker(pool);
    this.#node = node;
  }

  /**
   * Issues a transcript's parameters and asks its first dealers.
   * @param onCreated called in the round the block maker builds it
   * @param initialRequests dealers asked at first (XNet: 2f_src + 1; default the collection threshold)
   * @throws Error from {@link transcriptParams} (dealer set too small, inputs missing)
   */
  start(
    tid: string,
    curve: IdkgCurve,
    op: TranscriptOp,
    dealers: readonly string[],
    receivers: readonly string[],
    inputs: TranscriptInputs,
    onCreated: (t: Transcript) => void,
    initialRequests?: number,
  ): void {
    const params = transcriptParams(tid, curve, op, dealers, receivers, inputs);
    const commitments = {
      ...(inputs.input && { input: inputs.input.combined }),
      ...(inputs.lhs && { lhs: inputs.lhs.combined }),
      ...(inputs.rhs && { rhs: inputs.rhs.combined }),
    };
    this.#onCreated.set(tid, onCreated);
    this.#blockMaker.start(params, commitments, initialRequests);
  }

  /** Has the holders of a finished transcript persist their shares as they load it. */
  persistShares(t: Transcript): void {
    this.#persistent.set(t.transcriptId, { t, until: this.#pool.round + PURGE_AFTER_ROUNDS });
  }

  /** Whether transcripts are in creation or shares still to persist. */
  get busy(): boolean {
    return this.#pool.inCreation.size > 0 || this.#persistent.size > 0;
  }

  /**
   * The block makers' step over every transcript in creation (creation may start dependent
   * transcripts through the callbacks).
   * @param stalled whether a receiver set's subnet cannot finalize (its transcripts wait)
   * @param onFailed called for a transcript that can no longer be created (every dealer was asked)
   */
  buildReady(stalled: (receivers: readonly string[]) => boolean, onFailed: (tid: string) => void): void {
    const pool = this.#pool;
    for (const tic of [...pool.inCreation.values()]) {
      if (stalled(tic.params.receivers)) continue;
      const tid = tic.params.transcriptId;
      const out = this.#blockMaker.step(tic);
      if (out.kind === 'created') {
        this.#created.set(tid, pool.round);
        const cb = this.#onCreated.get(tid);
        this.#onCreated.delete(tid);
        cb?.(out.transcript);
      } else if (out.kind === 'failed') {
        pool.inCreation.delete(tid);
        this.#onCreated.delete(tid);
        onFailed(tid);
      }
    }
  }

  /**
   * Holders write their shares of finished transcripts (end of a round), each once; a transcript
   * leaves the list when every live receiver has (or after {@link PURGE_AFTER_ROUNDS} rounds,
   * for one that never loads it), so finished work keeps no rounds running.
   */
  persistRound(): void {
    for (const [tid, { t, until }] of this.#persistent) {
      let all = true;
      for (const id of t.receivers) {
        const n = this.#node(id);
        if (n && !n.crashed && !n.persist(t)) all = false;
      }
      if (all || until <= this.#pool.round) this.#persistent.delete(tid);
    }
  }

  /** Created transcripts old enough to purge from the pool; they are forgotten here. */
  takeExpired(): Set<string> {
    const old = new Set<string>();
    for (const [tid, round] of this.#created) if (round + PURGE_AFTER_ROUNDS <= this.#pool.round) old.add(tid);
    for (const tid of old) this.#created.delete(tid);
    return old;
  }
}
