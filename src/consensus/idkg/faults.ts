/**
 * Fault injection for the simulated nodes (reference idkg.md §5.5). A subnet marks up to f of
 * its nodes faulty, as `--faulty K[:crashed|slow|byzantine]` or a topology entry
 * `"faulty": "K:byzantine"`:
 * - crashed: sends and receives nothing;
 * - slow: acts only every {@link SLOW_PERIOD}-th round (its dealings, supports and openings come late);
 * - byzantine: each such node gets one dealing misbehaviour in turn (bad shares to f receivers,
 *   a bad proof or constant term, an equivocating second dealing, false complaints, bad shares
 *   to f + 1 receivers) and in addition supports every dealing (a liar supporter) and sends bad
 *   signature shares.
 * Which nodes are faulty is deterministic: the last K nodes of the subnet.
 */

/** One misbehaviour. */
export const FaultBehaviour = {
  crashed: 'crashed',
  slow: 'slow',
  badShares: 'bad-shares',
  /** Bad shares to f + 1 receivers: more than f honest ones cannot support it, so it is never included. */
  badSharesBeyondF: 'bad-shares-beyond-f',
  badProof: 'bad-proof',
  equivocating: 'equivocating',
  falseComplaint: 'false-complaint',
  liarSupporter: 'liar-supporter',
  badSignatureShare: 'bad-signature-share',
} as const;
export type FaultBehaviour = (typeof FaultBehaviour)[keyof typeof FaultBehaviour];

import type { FaultSpec } from '../../routing/topology.ts';
export { parseFaultSpec, type FaultKind, type FaultSpec } from '../../routing/topology.ts';

/** A slow node acts in one round of this many. */
export const SLOW_PERIOD = 3;

const BYZANTINE_DEALING: FaultBehaviour[] = [FaultBehaviour.badShares, FaultBehaviour.badProof, FaultBehaviour.equivocating, FaultBehaviour.falseComplaint, FaultBehaviour.badSharesBeyondF];

/**
 * The behaviours of each node of an n-node subnet.
 * @param specs fault specs; their counts add up
 * @param order node indices to mark, in order (default: from the last node down)
 * @returns node index → behaviours (honest nodes absent)
 * @throws Error if more nodes are marked than exist
 */
export function assignFaults(n: number, specs: readonly FaultSpec[], order?: readonly number[]): Map<number, Set<FaultBehaviour>> {
  const out = new Map<number, Set<FaultBehaviour>>();
  const at = order ?? Array.from({ length: n }, (_, i) => n - 1 - i);
  let k0 = 0;
  let byzantine = 0;
  for (const s of specs) {
    for (let k = 0; k < s.count; k++) {
      const next = at[k0++] ?? -1;
      if (next < 0 || next >= n) throw new Error(`cannot mark ${specs.reduce((a, x) => a + x.count, 0)} of ${n} nodes faulty`);
      if (s.kind === 'byzantine') {
        out.set(next, new Set([BYZANTINE_DEALING[byzantine++ % BYZANTINE_DEALING.length]!, FaultBehaviour.liarSupporter, FaultBehaviour.badSignatureShare]));
      } else out.set(next, new Set([s.kind]));
    }
  }
  return out;
}
