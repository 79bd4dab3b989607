/**
 * Converts between a key transcript as the protocol holds it (crypto/threshold/idkg Transcript)
 * and as the state layer stores and serves it (crypto/threshold KeyTranscript: compressed
 * commitment points, receiver count and node ids).
 */
import { idkgGroup, type IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { KeyTranscript } from '../../crypto/threshold/key-transcript.ts';

/** The stored form of a key transcript. */
export function keyTranscriptOf(t: Transcript, resharedAtNanos: bigint | undefined): KeyTranscript {
  const g = idkgGroup(t.curve);
  return {
    transcriptId: t.transcriptId,
    curve: t.curve,
    threshold: t.threshold,
    receivers: t.receivers.length,
    commitment: t.combined.points.map((p) => g.encode(p)),
    nodes: [...t.receivers],
    ...(resharedAtNanos !== undefined ? { resharedAtNanos } : {}),
  };
}

/**
 * The protocol form of a stored key transcript.
 * @param defaultNodes receiver ids for transcripts stored without them (single-node state dirs)
 * @throws Error for a vetKD (BLS12-381) transcript
 */
export function transcriptOfKey(k: KeyTranscript, defaultNodes: string[]): Transcript {
  if (k.curve === 'bls12_381_g2') throw new Error(`${k.transcriptId}: vetKD keys are not IDKG transcripts`);
  const g = idkgGroup(k.curve as IdkgCurve);
  return {
    transcriptId: k.transcriptId,
    curve: k.curve as IdkgCurve,
    op: 'ReshareOfUnmasked',
    receivers: k.nodes ? [...k.nodes] : defaultNodes.slice(0, k.receivers),
    threshold: k.threshold,
    combined: { kind: 'simple', points: k.commitment.map((b) => g.decode(b)) },
    dealings: [],
  };
}
