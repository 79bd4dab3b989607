/**
 * One simulated node (reference idkg.md §5.1, §5.4): it holds only its own secrets — its shares
 * of every transcript it received, in a guarded {@link ShareHolder}, and its private inbox of
 * openings — and acts on the public pool each round: load created transcripts (complaining
 * about bad openings, rebuilding them from others' openings), answer valid complaints with its
 * own openings, deal when the block maker asks, support dealings whose opening for it checks
 * out. Fault behaviours (faults.ts) change exactly these steps.
 */
import { mod } from '@noble/curves/abstract/modular.js';
import { createDealing, verifyOpening, verifyOpeningsBatched, type Dealing, type DealerSecret } from '../../crypto/threshold/idkg/dealing.ts';
import { idkgGroup } from '../../crypto/threshold/idkg/group.ts';
import type { TranscriptOp } from '../../crypto/threshold/idkg/params.ts';
import type { Opening, RandomSource } from '../../crypto/threshold/idkg/polynomial.ts';
import { ShareHolder } from '../../crypto/threshold/idkg/share-guard.ts';
import { combineOpenings, reconstructOpening, type Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { ArtifactPool } from './artifact-pool.ts';
import { FaultBehaviour, SLOW_PERIOD } from './faults.ts';
import type { MegaKeyPair } from '../../crypto/threshold/idkg/mega.ts';
import type { ShareChannel, ShareMessage } from './private-channel.ts';

/** Where a node keeps its shares across restarts: one row per (transcript, receiver index). */
export interface NodeShareStore {
  put(transcriptId: string, receiver: number, opening: Opening): void;
  get(transcriptId: string, receiver: number): Opening | undefined;
  delete(transcriptId: string, receiver: number): void;
}

/** A node of a subnet. */
export class IdkgNode {
  readonly id: string;
  /** Position in its subnet. */
  readonly index: number;
  readonly behaviours: ReadonlySet<FaultBehaviour>;
  readonly #holder = new ShareHolder();
  /** Transcript id → dealer index → the message received from that dealer. */
  readonly #inbox = new Map<string, Map<number, ShareMessage>>();
  readonly #dealt = new Set<string>();
  readonly #supported = new Set<string>();
  readonly #complained = new Set<string>();
  readonly #opened = new Set<string>();
  /** Transcripts whose share it has written to the store. */
  readonly #persisted = new Set<string>();
  /** Messages whose opening it already checked when supporting (no need to check again on load). */
  readonly #verified = new WeakSet<ShareMessage>();
  readonly #random: RandomSource;
  readonly #store: NodeShareStore;
  /** `--mega`: its MEGa key pair (the secret key never leaves the node). */
  readonly #megaKey: MegaKeyPair | undefined;

  /** @param megaKey `--mega`: the node's MEGa key pair */
  constructor(id: string, index: number, behaviours: ReadonlySet<FaultBehaviour>, random: RandomSource, store: NodeShareStore, megaKey?: MegaKeyPair) {
    this.#megaKey = megaKey;
    this.id = id;
    this.index = index;
    this.behaviours = behaviours;
    this.#random = random;
    this.#store = store;
  }

  get crashed(): boolean {
    return this.behaviours.has(FaultBehaviour.crashed);
  }

  /** Whether the node acts this round (crashed: never; slow: one round in SLOW_PERIOD). */
  activeIn(round: number): boolean {
    if (this.crashed) return false;
    return !this.behaviours.has(FaultBehaviour.slow) || round % SLOW_PERIOD === this.index % SLOW_PERIOD;
  }

  /** This node's share of a transcript, if it holds one. */
  share(t: { transcriptId: string; receivers: readonly string[] }): Opening | undefined {
    const i = t.receivers.indexOf(this.id);
    return i < 0 ? undefined : this.#holder.get(t.transcriptId, i)?.opening;
  }

  /** Whether this node holds its share of a transcript. */
  holds(t: { transcriptId: string; receivers: readonly string[] }): boolean {
    return this.share(t) !== undefined;
  }

  /** Reads its share of a transcript back from the store (after a restart). @returns whether found */
  restore(t: Pick<Transcript, 'transcriptId' | 'receivers' | 'threshold'>): boolean {
    const i = t.receivers.indexOf(this.id);
    if (i < 0 || this.crashed) return false;
    const o = this.#store.get(t.transcriptId, i);
    if (o) this.#holder.add({ transcriptId: t.transcriptId, receiver: i, opening: o }, t.threshold);
    return o !== undefined;
  }

  /**
   * Writes its share of a finished transcript to the store (key transcripts, pre-signatures),
   * once.
   * @returns whether the share is stored (now or before); false while it has not loaded it
   */
  persist(t: { transcriptId: string; receivers: readonly string[] }): boolean {
    if (this.#persisted.has(t.transcriptId)) return true;
    const i = t.receivers.indexOf(this.id);
    const s = i < 0 ? undefined : this.#holder.get(t.transcriptId, i);
    if (!s) return false;
    this.#store.put(t.transcriptId, i, s.opening);
    this.#persisted.add(t.transcriptId);
    return true;
  }

  /**
   * Takes its share of a transcript made elsewhere on its behalf (a single-node pre-signature
   * dealt by the signing worker, single-node-dealer.ts); its pool stores it (saveDealt).
   * @throws Error if the node is not a receiver of the transcript
   */
  adoptShare(t: Pick<Transcript, 'transcriptId' | 'receivers' | 'threshold'>, opening: Opening): void {
    const i = t.receivers.indexOf(this.id);
    if (i < 0) throw new Error(`${this.id} is no receiver of ${t.transcriptId}`);
    this.#holder.add({ transcriptId: t.transcriptId, receiver: i, opening }, t.threshold);
    this.#persisted.add(t.transcriptId);
  }

  /** Erases its share of a transcript from memory and store (consumed or reshared away). */
  forget(t: { transcriptId: string; receivers: readonly string[] }, fromStore: boolean): void {
    const i = t.receivers.indexOf(this.id);
    if (i < 0) return;
    this.#holder.delete(t.transcriptId);
    this.#inbox.delete(t.transcriptId);
    this.#persisted.delete(t.transcriptId);
    if (fromStore) this.#store.delete(t.transcriptId, i);
  }

  /** Largest number of receivers' shares of one transcript it holds (the never-whole check). */
  maxReceiversPerTranscript(): number {
    return this.#holder.maxReceiversPerTranscript();
  }

  // ---- one round ---------------------------------------------------------------------------

  /** Takes its private mail. */
  receive(channel: ShareChannel): void {
    for (const m of channel.drain(this.id, this.#megaKey)) {
      let box = this.#inbox.get(m.transcriptId);
      if (!box) {
        box = new Map();
        this.#inbox.set(m.transcriptId, box);
      }
      if (!box.has(m.dealerIndex)) box.set(m.dealerIndex, m);
    }
  }

  /**
   * Loads every created transcript it receives (§5.4 step 6): combines its openings of the
   * included dealings; for a bad one it complains once and, when t valid openings of that
   * dealing are in the pool, rebuilds its own at x_j.
   */
  load(pool: ArtifactPool, channel: ShareChannel): void {
    for (const t of pool.transcripts.values()) {
      const me = t.receivers.indexOf(this.id);
      if (me < 0 || this.#holder.get(t.transcriptId, me)) continue;
      const g = idkgGroup(t.curve);
      const openings = new Map<number, Opening>();
      let missing = false;
      for (const d of t.dealings) {
        const m = this.#inbox.get(t.transcriptId)?.get(d.dealerIndex);
        if (m && (m.from === this.id || this.#verified.has(m) || verifyOpening(g, d, me, m.opening))) {
          openings.set(d.dealerIndex, m.opening);
          if (this.behaviours.has(FaultBehaviour.falseComplaint)) this.#complain(pool, channel, m);
          continue;
        }
        if (m) this.#complain(pool, channel, m);
        const others = [...(pool.openings.get(t.transcriptId)?.get(d.dealerIndex) ?? new Map<number, Opening>())].filter(([i]) => i !== me);
        if (others.length >= t.threshold) {
          openings.set(d.dealerIndex, reconstructOpening(g, d, t.threshold, me, others));
          pool.log({ transcriptId: t.transcriptId, kind: 'reconstructed', node: this.id, detail: `dealer ${d.dealerIndex}` });
        } else missing = true;
      }
      if (missing) continue;
      const share = combineOpenings(t, me, openings);
      this.#holder.add({ transcriptId: t.transcriptId, receiver: me, opening: share }, t.threshold);
    }
  }

  #complain(pool: ArtifactPool, channel: ShareChannel, received: ShareMessage): void {
    const m = channel.complaint(received, this.#megaKey, this.#random);
    const key = `${m.transcriptId}/${m.dealerIndex}`;
    if (this.#complained.has(key)) return;
    this.#complained.add(key);
    const t = pool.transcripts.get(m.transcriptId);
    const d = t?.dealings.find((x) => x.dealerIndex === m.dealerIndex);
    if (!t || !d) return;
    // Anyone checks a complaint: the dealer sent this message (the channel's record, or MEGa's
    // DLEQ evidence decrypting the dealing's public ciphertext to it); the opening must be bad.
    if (!channel.wasDelivered(m) || verifyOpening(idkgGroup(t.curve), d, m.receiverIndex, m.opening)) {
      pool.log({ transcriptId: m.transcriptId, kind: 'complaint-rejected', node: this.id, detail: `about dealer ${m.dealerIndex}` });
      return;
    }
    pool.log({ transcriptId: m.transcriptId, kind: 'complaint', node: this.id, detail: `about dealer ${m.dealerIndex}` });
    pool.addComplaint(m);
  }

  /** Answers every valid complaint about a dealing it holds a good opening of (§2.7). */
  answerComplaints(pool: ArtifactPool): void {
    for (const [tid, byDealer] of pool.complaints) {
      const t = pool.transcripts.get(tid);
      if (!t) continue;
      const me = t.receivers.indexOf(this.id);
      if (me < 0) continue;
      for (const dealerIndex of byDealer.keys()) {
        const key = `${tid}/${dealerIndex}`;
        if (this.#opened.has(key)) continue;
        const m = this.#inbox.get(tid)?.get(dealerIndex);
        const d = t.dealings.find((x) => x.dealerIndex === dealerIndex);
        if (!m || !d || !verifyOpening(idkgGroup(t.curve), d, me, m.opening)) continue;
        this.#opened.add(key);
        pool.addOpening(tid, dealerIndex, me, m.opening, this.id);
      }
    }
  }

  /** Deals for every transcript whose block maker asked it to (§5.4 step 2). */
  deal(pool: ArtifactPool, channel: ShareChannel): void {
    for (const [tid, tic] of pool.inCreation) {
      if (this.#dealt.has(tid)) continue;
      const dealerIndex = tic.params.dealers.indexOf(this.id);
      if (dealerIndex < 0 || !tic.requested.has(dealerIndex)) continue;
      const secret = this.#dealerSecret(tic.params.op, dealerIndex);
      if (!secret) continue; // inputs not loaded yet
      this.#dealt.add(tid);
      const dealt = createDealing(tic.params, dealerIndex, secret, tic.inputs, this.#random);
      const g = idkgGroup(tic.params.curve);
      if (this.behaviours.has(FaultBehaviour.badProof)) {
        // A wrong constant term / proof: public verification must refuse it.
        const c = dealt.dealing.commitment;
        c.points[0] = c.points[0]!.add(g.G);
        if (dealt.dealing.proof?.type === 'EqualOpenings') dealt.dealing.proof.response = mod(dealt.dealing.proof.response + 1n, g.order);
      }
      const n = tic.params.receivers.length;
      const f = Math.floor((n - 1) / 3);
      // Bad shares to the next f receivers after the dealer (they complain and rebuild), or to
      // f + 1 of them (the dealing cannot gather 2f + 1 supports and is never included).
      const victims = this.behaviours.has(FaultBehaviour.badShares) ? f : this.behaviours.has(FaultBehaviour.badSharesBeyondF) ? f + 1 : 0;
      const messages = tic.params.receivers.map((to, i): ShareMessage => {
        let opening = dealt.openings[i]!;
        if ((i - dealerIndex - 1 + n) % n < victims) opening = { ...opening, value: mod(opening.value + 1n, g.order) };
        return { transcriptId: tid, dealerIndex, receiverIndex: i, from: this.id, to, opening };
      });
      const ciphertext = channel.sendDealing(tic.params, messages, this.#random);
      if (ciphertext) dealt.dealing.mega = ciphertext;
      pool.addDealing(dealt.dealing, this.id);
      if (this.behaviours.has(FaultBehaviour.equivocating)) {
        // A second, different dealing for the same transcript: the pool drops it.
        pool.addDealing(createDealing(tic.params, dealerIndex, secret, tic.inputs, this.#random).dealing, this.id);
      }
    }
  }

  #dealerSecret(op: TranscriptOp, dealerIndex: number): DealerSecret | undefined {
    const shareOf = (tid: string): Opening | undefined => this.#holder.get(tid, dealerIndex)?.opening;
    if (op.type === 'Random' || op.type === 'RandomUnmasked') return { kind: 'none' };
    if (op.type === 'UnmaskedTimesMasked') {
      const lhs = shareOf(op.lhs);
      const rhs = shareOf(op.rhs);
      return lhs && rhs ? { kind: 'product', lhs, rhs } : undefined;
    }
    const o = shareOf(op.input);
    return o ? { kind: 'reshare', opening: o } : undefined;
  }

  /**
   * Supports each valid dealing whose opening for it checks out (§5.4 step 4); the openings of
   * one round are checked together (public-coin batch), one by one only if the batch fails.
   */
  support(pool: ArtifactPool): void {
    const liar = this.behaviours.has(FaultBehaviour.liarSupporter);
    for (const [tid, tic] of pool.inCreation) {
      const me = tic.params.receivers.indexOf(this.id);
      if (me < 0) continue;
      const dealings = pool.dealings.get(tid);
      if (!dealings) continue;
      const g = idkgGroup(tic.params.curve);
      const pending: { d: Dealing; m: ShareMessage }[] = [];
      for (const d of dealings.values()) {
        const key = `${tid}/${d.dealerIndex}`;
        if (this.#supported.has(key)) continue;
        if (liar) {
          this.#supported.add(key);
          pool.addSupport(tid, d.dealerIndex, me);
          continue;
        }
        const m = this.#inbox.get(tid)?.get(d.dealerIndex);
        if (!m) continue;
        this.#supported.add(key);
        if (pool.verdict(d) !== null) continue;
        pending.push({ d, m });
      }
      if (pending.length === 0) continue;
      // A node knows its own dealing's opening for itself is right (it computed it).
      if (pending.length === 1 && pending[0]!.m.from === this.id) {
        this.#accept(pool, pending[0]!.m, me);
        continue;
      }
      if (pending.length > 1 && verifyOpeningsBatched(g, pending.map((p) => p.d), me, pending.map((p) => p.m.opening), pool.batchCache, pool.beacon)) {
        for (const p of pending) this.#accept(pool, p.m, me);
        continue;
      }
      for (const p of pending) if (p.m.from === this.id || verifyOpening(g, p.d, me, p.m.opening)) this.#accept(pool, p.m, me);
    }
  }

  #accept(pool: ArtifactPool, m: ShareMessage, me: number): void {
    this.#verified.add(m);
    pool.addSupport(m.transcriptId, m.dealerIndex, me);
  }

  /** Drops per-transcript bookkeeping of purged transcripts. */
  purge(transcriptIds: ReadonlySet<string>): void {
    for (const id of transcriptIds) {
      this.#inbox.delete(id);
      this.#dealt.delete(id);
    }
    for (const set of [this.#supported, this.#complained, this.#opened]) {
      for (const k of set) if (transcriptIds.has(k.slice(0, k.lastIndexOf('/')))) set.delete(k);
    }
  }
}
