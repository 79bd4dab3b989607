/**
 * The shared public artifact pool (reference idkg.md §5.1): transcript parameters, dealings with
 * their public-verification verdicts (computed once per dealing and memoized, §5.2), receiver
 * supports, transcripts, complaints and openings. Every decision of the block maker and of the
 * nodes is made from this plus each node's own secrets. Nothing secret is ever put here except
 * what the protocol itself publishes (a complaint reveals one message; openings answer it).
 */
import { dealingHash, verifyDealingPublicly, type Dealing, type DealingRejection, type InputCommitments } from '../../crypto/threshold/idkg/dealing.ts';
import { idkgGroup } from '../../crypto/threshold/idkg/group.ts';
import type { TranscriptParams } from '../../crypto/threshold/idkg/params.ts';
import { openingMatches, type Commitment, type Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { ShareMessage } from './private-channel.ts';

/** A transcript being created: its parameters, inputs and dealer requests. */
export interface TranscriptInCreation {
  params: TranscriptParams;
  inputs: InputCommitments;
  /** Round the parameters were issued. */
  startRound: number;
  /** Dealer index → round it was asked to deal. */
  requested: Map<number, number>;
  /** Dealers first asked (2f_src + 1 for an XNet reshare, else the collection threshold). */
  initialRequests: number;
  /** Dealer indices counted as failed (timed out, refused, unsupported). */
  failed?: Set<number>;
}

/** A logged protocol event (rejections, complaints), for tests and the dashboard. */
export interface PoolEvent {
  round: number;
  transcriptId: string;
  kind: 'dealing-rejected' | 'duplicate-dealing' | 'complaint' | 'complaint-rejected' | 'opening-rejected' | 'reconstructed' | 'signature-share-rejected' | 'dealer-replaced';
  node: string;
  detail?: string;
}

/** Public artifacts of all transcripts in creation and recently created. */
export class ArtifactPool {
  readonly inCreation = new Map<string, TranscriptInCreation>();
  /** Transcript id → dealer index → the first dealing received from that dealer. */
  readonly dealings = new Map<string, Map<number, Dealing>>();
  /** Round each dealing arrived. */
  readonly dealingRound = new Map<Dealing, number>();
  readonly #verdicts = new WeakMap<Dealing, DealingRejection | null>();
  /** Transcript id → dealer index → supporting receiver indices. */
  readonly supports = new Map<string, Map<number, Set<number>>>();
  readonly transcripts = new Map<string, Transcript>();
  /** Transcript id → dealer index → complainer index → revealed message. */
  readonly complaints = new Map<string, Map<number, Map<number, ShareMessage>>>();
  /** Transcript id → dealer index → opener index → opening. */
  readonly openings = new Map<string, Map<number, Map<number, Opening>>>();
  readonly events: PoolEvent[] = [];
  /** `--mega`: every dealing must carry its MEGa ciphertext (set by the network). */
  requireMega = false;
  /** Shared public memo of the batched opening check: beacon and dealing set → Σρ_d·C_d. */
  readonly batchCache = new Map<string, Commitment>();
  /**
   * This round's random beacon for the batched opening check, drawn by the network after the
   * round's dealings and openings were sent and before anyone supports (see
   * verifyOpeningsBatched); public.
   */
  beacon: Uint8Array = new Uint8Array(32);
  round = 0;

  /** Logs an event (the last 2000 kept). */
  log(e: Omit<PoolEvent, 'round'>): void {
    this.events.push({ round: this.round, ...e });
    if (this.events.length > 2000) this.events.splice(0, this.events.length - 2000);
  }

  /**
   * Adds a dealing; a second dealing of the same dealer for the same transcript is dropped
   * ("Duplicate dealing", [PRE] validate_dealings).
   */
  addDealing(dealing: Dealing, dealer: string): void {
    let m = this.dealings.get(dealing.transcriptId);
    if (!m) {
      m = new Map();
      this.dealings.set(dealing.transcriptId, m);
    }
    if (m.has(dealing.dealerIndex)) {
      this.log({ transcriptId: dealing.transcriptId, kind: 'duplicate-dealing', node: dealer });
      return;
    }
    m.set(dealing.dealerIndex, dealing);
    this.dealingRound.set(dealing, this.round);
  }

  /**
   * Public verification, once per dealing (§5.2), shared by every node that asks. Faithful to
   * each node verifying for itself: the verdict is a deterministic function of public data (the
   * dealing, the transcript's parameters and its inputs' combined commitments), so every honest
   * node would reach the same one; byzantine nodes do not need it (a liar supporter supports
   * without verifying). The IC's nodes each run `publicly_verify_dealing`; here it runs once.
   * @returns null when valid
   */
  verdict(dealing: Dealing): DealingRejection | null {
    if (this.#verdicts.has(dealing)) return this.#verdicts.get(dealing)!;
    const tic = this.inCreation.get(dealing.transcriptId);
    const v = !tic || (this.requireMega && !dealing.mega) ? 'shape' : verifyDealingPublicly(tic.params, dealing, tic.inputs);
    this.#verdicts.set(dealing, v);
    if (v) this.log({ transcriptId: dealing.transcriptId, kind: 'dealing-rejected', node: tic?.params.dealers[dealing.dealerIndex] ?? '?', detail: v });
    return v;
  }

  /** Records receiver `receiver`'s support of a dealing. */
  addSupport(transcriptId: string, dealerIndex: number, receiver: number): void {
    let m = this.supports.get(transcriptId);
    if (!m) {
      m = new Map();
      this.supports.set(transcriptId, m);
    }
    let s = m.get(dealerIndex);
    if (!s) {
      s = new Set();
      m.set(dealerIndex, s);
    }
    s.add(receiver);
  }

  /** Number of supports of a dealing. */
  supportCount(transcriptId: string, dealerIndex: number): number {
    return this.supports.get(transcriptId)?.get(dealerIndex)?.size ?? 0;
  }

  /** Posts a complaint (checked by the caller: delivered by the channel, opening bad). */
  addComplaint(m: ShareMessage): void {
    nested(this.complaints, m.transcriptId, m.dealerIndex).set(m.receiverIndex, m);
  }

  /** Posts an opening answering a complaint, if it matches the dealing at the opener. */
  addOpening(transcriptId: string, dealerIndex: number, opener: number, opening: Opening, openerId: string): void {
    const t = this.transcripts.get(transcriptId);
    const d = t?.dealings.find((x) => x.dealerIndex === dealerIndex);
    if (!t || !d) return;
    if (!openingMatches(idkgGroup(t.curve), d.commitment, opener, opening)) {
      this.log({ transcriptId, kind: 'opening-rejected', node: openerId });
      return;
    }
    nested(this.openings, transcriptId, dealerIndex).set(opener, opening);
  }

  /** Hash of a dealing (support signatures sign it on the IC). */
  hashOf(d: Dealing): string {
    return dealingHash(idkgGroup(this.inCreation.get(d.transcriptId)?.params.curve ?? 'secp256k1'), d);
  }

  /** Forgets everything about finished transcripts (their shares live on in the nodes). */
  purge(transcriptIds: Iterable<string>): void {
    this.batchCache.clear();
    for (const id of transcriptIds) {
      this.inCreation.delete(id);
      this.dealings.delete(id);
      this.supports.delete(id);
      this.transcripts.delete(id);
      this.complaints.delete(id);
      this.openings.delete(id);
    }
  }
}

function nested<V>(m: Map<string, Map<number, Map<number, V>>>, a: string, b: number): Map<number, V> {
  let x = m.get(a);
  if (!x) {
    x = new Map();
    m.set(a, x);
  }
  let y = x.get(b);
  if (!y) {
    y = new Map();
    x.set(b, y);
  }
  return y;
}
