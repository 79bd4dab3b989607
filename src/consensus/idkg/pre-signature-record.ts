/**
 * Pre-signatures as the pool keeps them (reference idkg.md §1.4): public records naming the
 * transcripts (ECDSA: κ (RandomUnmasked), λ (Random), κ·λ and x·λ (UnmaskedTimesMasked);
 * Schnorr: one RandomUnmasked blinder) with their combined commitments. The nodes' shares of
 * those transcripts are stored separately, one row per (transcript, node).
 */
import { idkgGroup } from '../../crypto/threshold/idkg/group.ts';
import { transcriptFromJson, transcriptToJson, type Transcript, type TranscriptJson } from '../../crypto/threshold/idkg/transcript.ts';
import type { EcdsaPreSignature, SchnorrPreSignature } from '../../crypto/threshold/pre-signature.ts';
import type { EcdsaPreSignatureTranscripts } from './signing.ts';

/** A finished pre-signature of one key transcript. */
export type PreSignatureEntry =
  | { kind: 'ecdsa'; preSignatureId: string; keyId: string; keyTranscriptId: string; transcripts: EcdsaPreSignatureTranscripts }
  | { kind: 'schnorr'; preSignatureId: string; keyId: string; keyTranscriptId: string; transcripts: { blinder: Transcript } };

/** Stored form. */
export interface PreSignatureRecord {
  kind: 'ecdsa' | 'schnorr';
  preSignatureId: string;
  keyId: string;
  keyTranscriptId: string;
  transcripts: Record<string, TranscriptJson>;
}

/** The transcripts whose shares signing needs (κ's shares are not: R = κ·G is public). */
export function signingTranscripts(e: PreSignatureEntry): Transcript[] {
  return e.kind === 'ecdsa' ? [e.transcripts.lambda, e.transcripts.kappaTimesLambda, e.transcripts.keyTimesLambda] : [e.transcripts.blinder];
}

/** Stored form of an entry. */
export function recordOf(e: PreSignatureEntry): PreSignatureRecord {
  const transcripts: Record<string, TranscriptJson> = {};
  for (const [name, t] of Object.entries(e.transcripts)) transcripts[name] = transcriptToJson(t as Transcript);
  return { kind: e.kind, preSignatureId: e.preSignatureId, keyId: e.keyId, keyTranscriptId: e.keyTranscriptId, transcripts };
}

/** An entry from its stored form. */
export function entryOf(r: PreSignatureRecord): PreSignatureEntry {
  const t = (name: string): Transcript => transcriptFromJson(r.transcripts[name]!);
  const base = { preSignatureId: r.preSignatureId, keyId: r.keyId, keyTranscriptId: r.keyTranscriptId };
  if (r.kind === 'ecdsa') {
    return { kind: 'ecdsa', ...base, transcripts: { kappa: t('kappa'), lambda: t('lambda'), kappaTimesLambda: t('kappaTimesLambda'), keyTimesLambda: t('keyTimesLambda') } };
  }
  return { kind: 'schnorr', ...base, transcripts: { blinder: t('blinder') } };
}

/** The public pre-signature the signing formulas take. */
export function publicPreSignature(e: PreSignatureEntry): EcdsaPreSignature | SchnorrPreSignature {
  if (e.kind === 'ecdsa') {
    const g = idkgGroup('secp256k1');
    return { kind: 'ecdsa', preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, kappaCommitment: g.encode(e.transcripts.kappa.combined.points[0]!) };
  }
  const b = e.transcripts.blinder;
  return { kind: 'schnorr', curve: b.curve, preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, blinderCommitment: idkgGroup(b.curve).encode(b.combined.points[0]!) };
}
