/**
 * Pre-signatures of single-node keys made apart from the replica's protocol suite (the signing
 * worker thread runs this). With one node (n = 1, t = 1) the protocol of idkg.md §5.4 reduces
 * to its crypto steps: the node deals each transcript (crypto/threshold/idkg/dealing.ts), the
 * transcript is built from that one dealing, and the node combines its opening — κ
 * (RandomUnmasked) and λ (Random), then κ·λ and x·λ (UnmaskedTimesMasked, x from the node's
 * key share); Schnorr: one RandomUnmasked blinder. What the simulated nodes add around those
 * steps (the block maker, the artifact pool, private delivery, supports and their checks of
 * the node's own dealing) decides nothing for a single honest node, so it is left out (an ECDSA
 * pre-signature: 0.20 ms CPU instead of 0.26 through the suite's rounds; Schnorr about equal).
 * The records and openings have exactly the form the suite makes (same transcript ids, ops,
 * commitments), so the replica stores and signs with them like its own.
 */
import { randomBytes } from 'node:crypto';
import { createDealing, type DealerSecret } from '../../crypto/threshold/idkg/dealing.ts';
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import { transcriptParams, type TranscriptOp } from '../../crypto/threshold/idkg/params.ts';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import { combineOpenings, createTranscript, type Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import { transcriptOfKey } from './key-transcript-form.ts';
import { recordOf, type PreSignatureEntry } from './pre-signature-record.ts';
import type { DealtPreSignature, SingleNodeKeyMaterial } from './single-node-signing.ts';

/** Pre-signatures made per {@link SingleNodeDealer.step} (a signing job waits at most one step). */
const PER_STEP = 1;

interface DealtKey {
  material: SingleNodeKeyMaterial;
  key: Transcript;
  generation: number;
  /** Ordered and not delivered yet. */
  outstanding: number;
}

/** A transcript and the node's share of it. */
interface Held {
  t: Transcript;
  o: Opening;
}

/** Deals pre-signatures of single-node keys on order. */
export class SingleNodeDealer {
  readonly #keys = new Map<string, DealtKey>();
  readonly #instance = randomBytes(4).toString('hex');
  #counter = 0;

  /**
   * Adds an order of `count` pre-signatures of a key (a new key transcript replaces the old one
   * and its outstanding orders).
   */
  order(material: SingleNodeKeyMaterial, count: number): void {
    let k = this.#keys.get(material.keyId);
    if (!k || k.key.transcriptId !== material.transcript.transcriptId) {
      const id = material.transcript.transcriptId;
      const key = transcriptOfKey(material.transcript, [`${material.subnet}/0`]);
      if (key.receivers.length !== 1) throw new Error(`${id}: not a single-node key transcript`);
      k = { material, key, generation: Number(id.slice(id.lastIndexOf('/') + 1)) || 0, outstanding: 0 };
      this.#keys.set(material.keyId, k);
    }
    k.outstanding += count;
  }

  /** Whether orders are outstanding. */
  get busy(): boolean {
    for (const k of this.#keys.values()) if (k.outstanding > 0) return true;
    return false;
  }

  /** Deals up to {@link PER_STEP} ordered pre-signatures (keys in turn). */
  step(): DealtPreSignature[] {
    const out: DealtPreSignature[] = [];
    for (const k of this.#keys.values()) {
      while (k.outstanding > 0 && out.length < PER_STEP) {
        out.push(this.#deal(k));
        k.outstanding--;
      }
    }
    return out;
  }

  #deal(k: DealtKey): DealtPreSignature {
    const m = k.material;
    const id = `${m.keyId}/${k.generation}/pre-${this.#instance}-${this.#counter++}`;
    const base = { preSignatureId: id, keyId: m.keyId, keyTranscriptId: k.key.transcriptId };
    const receivers = k.key.receivers;
    const deal = (suffix: string, curve: IdkgCurve, op: TranscriptOp, secret: DealerSecret, lhs?: Held, rhs?: Held): Held => {
      const inputs = lhs && rhs ? { lhs: lhs.t, rhs: rhs.t } : {};
      const params = transcriptParams(`${id}/${suffix}`, curve, op, receivers, receivers, inputs);
      const commitments = lhs && rhs ? { lhs: lhs.t.combined, rhs: rhs.t.combined } : {};
      const dealt = createDealing(params, 0, secret, commitments, (n) => new Uint8Array(randomBytes(n)));
      const t = createTranscript(params, [dealt.dealing], commitments);
      return { t, o: combineOpenings(t, 0, new Map([[0, dealt.openings[0]!]])) };
    };
    if (m.kind === 'schnorr') {
      const blinder = deal('blinder', m.curve, { type: 'RandomUnmasked' }, { kind: 'none' });
      const e: PreSignatureEntry = { kind: 'schnorr', ...base, transcripts: { blinder: blinder.t } };
      return { record: recordOf(e), openings: [blinder.o] };
    }
    // Round 1: κ (RandomUnmasked) ∥ λ (Random); round 2: κ·λ and x·λ (UnmaskedTimesMasked).
    const kappa = deal('kappa', 'secp256k1', { type: 'RandomUnmasked' }, { kind: 'none' });
    const lambda = deal('lambda', 'secp256k1', { type: 'Random' }, { kind: 'none' });
    const key: Held = { t: k.key, o: m.share };
    const product = (suffix: string, lhs: Held) =>
      deal(suffix, 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: lhs.t.transcriptId, rhs: lambda.t.transcriptId }, { kind: 'product', lhs: lhs.o, rhs: lambda.o }, lhs, lambda);
    const keyTimesLambda = product('key-times-lambda', key);
    const kappaTimesLambda = product('kappa-times-lambda', kappa);
    const e: PreSignatureEntry = {
      kind: 'ecdsa',
      ...base,
      transcripts: { kappa: kappa.t, lambda: lambda.t, kappaTimesLambda: kappaTimesLambda.t, keyTimesLambda: keyTimesLambda.t },
    };
    return { record: recordOf(e), openings: [lambda.o, kappaTimesLambda.o, keyTimesLambda.o] };
  }
}
