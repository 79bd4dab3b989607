/**
 * "Never whole" (reference idkg.md §5.1, §5.6): the one container type for secret shares. A
 * node's secret store is a `ShareHolder`; it refuses to hold shares of one transcript from
 * t = reconstruction-threshold distinct receivers (t ≥ 2), which is what recombining that
 * transcript's secret would need. The single-node key (n = 1, t = 1) is the one node's own share
 * and allowed. Nothing else in the code keeps more than one node's secret shares, so no
 * function can interpolate a master secret or a pre-signature's secrets. Pure.
 */
import type { Opening } from './polynomial.ts';

/** One node's share of one transcript. */
export interface NodeShare {
  transcriptId: string;
  /** The receiver index in the transcript (x = receiver + 1). */
  receiver: number;
  opening: Opening;
}

/** Thrown when a holder would become able to reconstruct a transcript's secret. */
export class WholeSecretError extends Error {
  constructor(transcriptId: string, receivers: number, threshold: number) {
    super(`never whole: refusing to hold ${receivers} receivers' shares of ${transcriptId} (threshold ${threshold})`);
    this.name = 'WholeSecretError';
  }
}

/** A guarded map of secret shares: transcript id → receiver → share. */
export class ShareHolder {
  readonly #shares = new Map<string, Map<number, NodeShare>>();
  readonly #threshold = new Map<string, number>();

  /**
   * Adds a share.
   * @param threshold the transcript's reconstruction threshold t
   * @throws WholeSecretError if the holder would then have t ≥ 2 distinct receivers' shares
   */
  add(share: NodeShare, threshold: number): void {
    let m = this.#shares.get(share.transcriptId);
    if (!m) {
      m = new Map();
      this.#shares.set(share.transcriptId, m);
      this.#threshold.set(share.transcriptId, threshold);
    }
    const receivers = new Set([...m.keys(), share.receiver]).size;
    if (threshold >= 2 && receivers >= threshold) throw new WholeSecretError(share.transcriptId, receivers, threshold);
    m.set(share.receiver, share);
  }

  /** The share of a transcript at one receiver, if held. */
  get(transcriptId: string, receiver: number): NodeShare | undefined {
    return this.#shares.get(transcriptId)?.get(receiver);
  }

  /** Forgets every share of a transcript (consumed, or replaced by a reshare). */
  delete(transcriptId: string): void {
    this.#shares.delete(transcriptId);
    this.#threshold.delete(transcriptId);
  }

  /** Transcript ids held. */
  transcriptIds(): string[] {
    return [...this.#shares.keys()];
  }

  /** Largest number of distinct receivers held for any one transcript (tests inspect this). */
  maxReceiversPerTranscript(): number {
    let max = 0;
    for (const m of this.#shares.values()) max = Math.max(max, m.size);
    return max;
  }
}
