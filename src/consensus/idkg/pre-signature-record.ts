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

/**
 * A transcript whose combined commitment is decoded from its stored form on first use (one
 * square root per point): a pre-signature dealt elsewhere is signed with knowing only the
 * commitment's bytes (see {@link publicPreSignature}).
 */
function lazyTranscriptFromJson(j: TranscriptJson): Transcript {
  if (!j.combined) return transcriptFromJson(j);
  let decoded: Transcript | undefined;
  const t = { transcriptId: j.transcriptId, curve: j.curve, op: j.op, receivers: [...j.receivers], threshold: j.threshold, dealings: [] } as unknown as Transcript;
  Object.defineProperty(t, 'combined', { enumerable: true, get: () => (decoded ??= transcriptFromJson(j)).combined });
  return t;
}

/** The public pre-signature of entries made from records, from the record's bytes (no decode and re-encode). */
const publicFromRecord = new WeakMap<PreSignatureEntry, EcdsaPreSignature | SchnorrPreSignature>();

/**
 * An entry from its stored form.
 * @param lazy decode commitment points only when used (a record just made by the single-node
 *   dealer); default: at once (a stored record is checked when it is restored)
 */
export function entryOf(r: PreSignatureRecord, lazy = false): PreSignatureEntry {
  const t = (name: string): Transcript => (lazy ? lazyTranscriptFromJson : transcriptFromJson)(r.transcripts[name]!);
  const base = { preSignatureId: r.preSignatureId, keyId: r.keyId, keyTranscriptId: r.keyTranscriptId };
  const point = (name: string): Uint8Array | undefined => {
    const hex = r.transcripts[name]?.combined?.points[0];
    return lazy && hex ? new Uint8Array(Buffer.from(hex, 'hex')) : undefined;
  };
  if (r.kind === 'ecdsa') {
    const e: PreSignatureEntry = { kind: 'ecdsa', ...base, transcripts: { kappa: t('kappa'), lambda: t('lambda'), kappaTimesLambda: t('kappaTimesLambda'), keyTimesLambda: t('keyTimesLambda') } };
    const kappaCommitment = point('kappa');
    if (kappaCommitment) publicFromRecord.set(e, { kind: 'ecdsa', preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, kappaCommitment });
    return e;
  }
  const e: PreSignatureEntry = { kind: 'schnorr', ...base, transcripts: { blinder: t('blinder') } };
  const blinderCommitment = point('blinder');
  const curve = r.transcripts['blinder']!.curve;
  if (blinderCommitment) publicFromRecord.set(e, { kind: 'schnorr', curve, preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, blinderCommitment });
  return e;
}

/** The public pre-signature the signing formulas take. */
export function publicPreSignature(e: PreSignatureEntry): EcdsaPreSignature | SchnorrPreSignature {
  const known = publicFromRecord.get(e);
  if (known) return known;
  if (e.kind === 'ecdsa') {
    const g = idkgGroup('secp256k1');
    return { kind: 'ecdsa', preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, kappaCommitment: g.encode(e.transcripts.kappa.combined.points[0]!) };
  }
  const b = e.transcripts.blinder;
  return { kind: 'schnorr', curve: b.curve, preSignatureId: e.preSignatureId, keyTranscriptId: e.keyTranscriptId, blinderCommitment: idkgGroup(b.curve).encode(b.combined.points[0]!) };
}
