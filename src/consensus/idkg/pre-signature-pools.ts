/**
 * The pre-signature pools of the threshold protocol suite (reference idkg.md §1.4; the IC's
 * `payload_builder/pre_signatures.rs`): per key, pre-signatures made in the background up to the
 * pool size (the replica's `pre_signatures_to_create_in_advance`), a few in creation at once,
 * keys with waiting requests first. ECDSA: κ (RandomUnmasked) ∥ λ (Random), then x·λ as soon as
 * λ exists and κ·λ once both do (UnmaskedTimesMasked); Schnorr: one RandomUnmasked blinder.
 * A finished pre-signature's record is stored and its holders persist their shares; a taken one
 * is erased (record and shares) in the transaction that commits its signature's response.
 * A single-node key (n = 1, fault-free) may have its pre-signatures dealt elsewhere (a
 * {@link PreSignatureDealer}, the signing worker thread): the pool then orders what it lacks and
 * stores what arrives ({@link PreSignaturePools.adopt}) as if its own node had dealt it.
 */
import { randomBytes } from 'node:crypto';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { IdkgStore } from './idkg-store.ts';
import type { KeyState } from './key-lifecycle.ts';
import type { IdkgNode } from './node.ts';
import { keyTranscriptOf } from './key-transcript-form.ts';
import { entryOf, recordOf, signingTranscripts, type PreSignatureEntry } from './pre-signature-record.ts';
import type { DealtPreSignature, PreSignatureDealer } from './single-node-signing.ts';
import type { TranscriptScheduler } from './transcript-scheduler.ts';

/** Pre-signatures ordered from a dealer at once while no request waits. */
const ORDER_BATCH = 8;

/** Pool sizes. */
export interface PoolOptions {
  /** Pre-signatures kept ready per key. */
  poolTarget: number;
  /** Pre-signatures in creation at once per key (more while requests wait, up to 64). */
  maxInFlight: number;
  /** Erase taken pre-signatures only in {@link PreSignaturePools.commitTaken}. */
  deferErasures: boolean;
  /** Deals the pre-signatures of single-node keys (absent: every pool deals on this thread). */
  dealer?: PreSignatureDealer | undefined;
}

interface PreSignatureInCreation {
  id: string;
  kappa?: Transcript;
  lambda?: Transcript;
  kappaTimesLambda?: Transcript;
  keyTimesLambda?: Transcript;
  blinder?: Transcript;
  started: Set<string>;
}

interface Pool {
  ready: PreSignatureEntry[];
  inFlight: PreSignatureInCreation[];
  /** Requests waiting for a pre-signature of this key (set by the payload builder). */
  demand: number;
  /** Ordered from the dealer and not arrived yet. */
  ordered: number;
  /**
   * Whether the pool fills: from the start on a multi-node subnet; on a single node only once
   * the key has been used (a replica with 9 keys spends no CPU on pools nobody draws from).
   */
  filling: boolean;
}

/** The pools of every key. */
export class PreSignaturePools {
  readonly #scheduler: TranscriptScheduler;
  readonly #node: (id: string) => IdkgNode | undefined;
  readonly #store: IdkgStore | undefined;
  readonly #opts: PoolOptions;
  readonly #pools = new Map<string, Pool>();
  readonly #taken: PreSignatureEntry[] = [];
  /** Pre-signatures the dealer made that are not stored yet (see {@link saveDealt}), by id. */
  readonly #unsaved = new Map<string, { e: PreSignatureEntry; d: DealtPreSignature }>();
  readonly #instance = randomBytes(4).toString('hex');
  #counter = 0;

  constructor(scheduler: TranscriptScheduler, node: (id: string) => IdkgNode | undefined, store: IdkgStore | undefined, opts: PoolOptions) {
    this.#scheduler = scheduler;
    this.#node = node;
    this.#store = store;
    this.#opts = opts;
  }

  get poolTarget(): number {
    return this.#opts.poolTarget;
  }

  /** An empty pool for a new key (filling from the start on a multi-node subnet). */
  register(state: KeyState): void {
    this.#pools.set(state.keyId, { ready: [], inFlight: [], demand: 0, ordered: 0, filling: state.subnet.nodes.length > 1 });
  }

  /**
   * Restores a key's stored pre-signatures of its current key transcript whose shares enough
   * holders still have; drops the others (record and shares).
   */
  restore(state: KeyState): void {
    const p = this.#pool(state.keyId);
    const t = state.transcript!;
    for (const r of this.#store?.loadPreSignatures() ?? []) {
      if (r.keyId !== state.keyId) continue;
      const e = entryOf(r);
      if (e.keyTranscriptId !== t.transcriptId || !signingTranscripts(e).every((x) => state.subnet.nodes.filter((n) => n.restore(x)).length >= x.threshold)) {
        this.#drop(e);
        continue;
      }
      p.ready.push(e);
      p.filling = true;
    }
  }

  #pool(keyId: string): Pool {
    const p = this.#pools.get(keyId);
    if (!p) throw new Error(`unknown threshold key ${keyId}`);
    return p;
  }

  /** Starts pre-signatures where pools are below target (keys with waiting requests first). */
  fill(keys: Iterable<KeyState>): void {
    const sorted = [...keys].sort((a, b) => this.#pool(b.keyId).demand - this.#pool(a.keyId).demand);
    for (const state of sorted) {
      const key = state.transcript;
      const p = this.#pool(state.keyId);
      if (!key || state.lifecycle || state.subnet.stalled) continue;
      // They may have as many pre-signatures in creation as requests waiting.
      const target = (p.filling ? this.#opts.poolTarget : 0) + p.demand;
      const inFlight = Math.max(this.#opts.maxInFlight, Math.min(p.demand, 64));
      const dealer = this.#opts.dealer;
      if (dealer && singleNode(state)) {
        const want = this.#toOrder(p, target);
        if (want === 0) continue;
        const share = state.subnet.nodes[0]!.share(key);
        if (share && dealer.available()) {
          p.ordered += want;
          dealer.order({ keyId: state.keyId, kind: state.kind, curve: state.curve, subnet: state.subnet.name, transcript: keyTranscriptOf(key, undefined), share }, want);
          continue;
        }
      }
      while (p.ready.length + p.inFlight.length + p.ordered < target && p.inFlight.length < inFlight) this.#start(state, p, key);
    }
  }

  /**
   * Adds a pre-signature the dealer made to its pool (the node holds the shares as its own);
   * it is stored with the next {@link saveDealt} (or not at all if used before: a pre-signature
   * never stored cannot outlive a crash). One for a key transcript that is no longer current is
   * dropped.
   * @returns whether it was added
   */
  adopt(state: KeyState, d: DealtPreSignature): boolean {
    const p = this.#pool(state.keyId);
    p.ordered = Math.max(0, p.ordered - 1);
    if (!singleNode(state) || state.lifecycle || d.record.keyTranscriptId !== state.transcript?.transcriptId) return false;
    const e = entryOf(d.record, true);
    const transcripts = signingTranscripts(e);
    if (d.openings.length !== transcripts.length) throw new Error(`pre-signature ${e.preSignatureId}: ${d.openings.length} openings for ${transcripts.length} transcripts`);
    const node = state.subnet.nodes[0]!;
    transcripts.forEach((t, i) => node.adoptShare(t, d.openings[i]!));
    p.ready.push(e);
    this.#unsaved.set(e.preSignatureId, { e, d });
    return true;
  }

  /** Adopted pre-signatures not stored yet. */
  get unsavedCount(): number {
    return this.#unsaved.size;
  }

  /** Stores the adopted pre-signatures not stored yet (record and the node's shares); call inside a store transaction. */
  saveDealt(): void {
    const store = this.#store;
    if (!store) return this.#unsaved.clear();
    for (const { e, d } of this.#unsaved.values()) {
      store.savePreSignature(d.record);
      // The single node is receiver 0 of each.
      signingTranscripts(e).forEach((t, i) => store.shares.put(t.transcriptId, 0, d.openings[i]!));
    }
    this.#unsaved.clear();
  }

  /** The dealer lost its orders (its thread ended): they are placed again when needed. */
  dealerLost(): void {
    for (const p of this.#pools.values()) p.ordered = 0;
  }

  /** Whether a key's pool is below its target (with a dealer: enough below to place an order). */
  wantsMore(state: KeyState): boolean {
    const p = this.#pool(state.keyId);
    const target = (p.filling ? this.#opts.poolTarget : 0) + p.demand;
    if (this.#opts.dealer && singleNode(state) && p.inFlight.length === 0) return this.#toOrder(p, target) > 0;
    return p.ready.length + p.inFlight.length + p.ordered < target;
  }

  /**
   * How many pre-signatures to order from the dealer now: what the pool lacks, once that is
   * {@link ORDER_BATCH} or more, or at once while requests wait or the pool is empty (one order
   * message per batch instead of one per signature).
   */
  #toOrder(p: Pool, target: number): number {
    const want = target - p.ready.length - p.inFlight.length - p.ordered;
    if (want <= 0) return 0;
    return want >= ORDER_BATCH || p.demand > 0 || p.ready.length + p.ordered === 0 ? want : 0;
  }

  /** Records how many requests wait for a pre-signature of a key. */
  noteDemand(keyId: string, waiting: number): void {
    const p = this.#pools.get(keyId);
    if (!p) return;
    p.demand = waiting;
    if (waiting > 0) p.filling = true;
  }

  #start(state: KeyState, p: Pool, key: Transcript): void {
    const id = `${state.keyId}/${state.generation}/pre-${this.#instance}-${this.#counter++}`;
    const c: PreSignatureInCreation = { id, started: new Set() };
    p.inFlight.push(c);
    const ids = state.subnet.ids;
    const sched = this.#scheduler;
    const current = () => state.transcript?.transcriptId === key.transcriptId && p.inFlight.includes(c);
    const done = () => {
      if (!current()) return;
      if (state.kind === 'schnorr' ? !c.blinder : !(c.kappa && c.lambda && c.kappaTimesLambda && c.keyTimesLambda)) return;
      p.inFlight.splice(p.inFlight.indexOf(c), 1);
      const base = { preSignatureId: id, keyId: state.keyId, keyTranscriptId: key.transcriptId };
      const e: PreSignatureEntry =
        state.kind === 'schnorr'
          ? { kind: 'schnorr', ...base, transcripts: { blinder: c.blinder! } }
          : { kind: 'ecdsa', ...base, transcripts: { kappa: c.kappa!, lambda: c.lambda!, kappaTimesLambda: c.kappaTimesLambda!, keyTimesLambda: c.keyTimesLambda! } };
      p.ready.push(e);
      this.#store?.savePreSignature(recordOf(e));
      for (const t of signingTranscripts(e)) sched.persistShares(t);
    };
    if (state.kind === 'schnorr') {
      // Schnorr: a single RandomUnmasked blinder ([PS] PreSignatureTranscriptRef).
      sched.start(`${id}/blinder`, state.curve, { type: 'RandomUnmasked' }, ids, ids, {}, (t) => {
        c.blinder = t;
        done();
      });
      return;
    }
    // ECDSA round 1: κ (RandomUnmasked) ∥ λ (Random).
    const products = () => {
      if (!current()) return;
      // Round 2: x·λ as soon as λ exists; κ·λ once both exist (UnmaskedTimesMasked).
      if (c.lambda && !c.started.has('keyTimesLambda')) {
        c.started.add('keyTimesLambda');
        sched.start(`${id}/key-times-lambda`, 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: key.transcriptId, rhs: c.lambda.transcriptId }, ids, ids, { lhs: key, rhs: c.lambda }, (t) => {
          c.keyTimesLambda = t;
          done();
        });
      }
      if (c.kappa && c.lambda && !c.started.has('kappaTimesLambda')) {
        c.started.add('kappaTimesLambda');
        sched.start(`${id}/kappa-times-lambda`, 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: c.kappa.transcriptId, rhs: c.lambda.transcriptId }, ids, ids, { lhs: c.kappa, rhs: c.lambda }, (t) => {
          c.kappaTimesLambda = t;
          done();
        });
      }
    };
    sched.start(`${id}/kappa`, 'secp256k1', { type: 'RandomUnmasked' }, ids, ids, {}, (t) => {
      c.kappa = t;
      products();
    });
    sched.start(`${id}/lambda`, 'secp256k1', { type: 'Random' }, ids, ids, {}, (t) => {
      c.lambda = t;
      products();
    });
  }

  /** Drops every pre-signature of a key, ready or in creation (its key transcript was replaced). */
  dropAll(keyId: string): void {
    const p = this.#pool(keyId);
    for (const e of p.ready) this.#drop(e);
    for (const e of p.ready) this.#unsaved.delete(e.preSignatureId);
    p.ready = [];
    p.inFlight = [];
    p.ordered = 0;
  }

  /** A transcript that could not be created: the pre-signature it was part of is given up. */
  abandon(keyId: string, tid: string): void {
    const p = this.#pool(keyId);
    p.inFlight = p.inFlight.filter((c) => !tid.startsWith(c.id));
  }

  #drop(e: PreSignatureEntry): void {
    this.#store?.deletePreSignature(e.preSignatureId);
    for (const t of signingTranscripts(e)) for (const id of t.receivers) this.#node(id)?.forget(t, true);
  }

  /** Pre-signatures ready for a key. */
  count(keyId: string): number {
    return this.#pools.get(keyId)?.ready.length ?? 0;
  }

  /** Pre-signatures in creation for a key. */
  inCreation(keyId: string): number {
    return this.#pools.get(keyId)?.inFlight.length ?? 0;
  }

  /** Transcript ids a key's pool still needs (ready pre-signatures, κ and λ of those in creation). */
  transcriptsInUse(keyId: string): string[] {
    const p = this.#pool(keyId);
    const out: string[] = [];
    for (const e of p.ready) for (const t of signingTranscripts(e)) out.push(t.transcriptId);
    for (const c of p.inFlight) for (const t of [c.kappa, c.lambda]) if (t) out.push(t.transcriptId);
    return out;
  }

  /**
   * Takes the oldest ready pre-signature of a key (see ThresholdNetwork.takePreSignature).
   * @param eraseLater leave its erasure to {@link erase} (its signature is made elsewhere and
   *   answered in a later round)
   */
  take(keyId: string, eraseLater = false): PreSignatureEntry | undefined {
    const p = this.#pools.get(keyId);
    if (p) p.filling = true;
    const e = p?.ready.shift();
    if (!e) return undefined;
    if (!eraseLater) this.erase(e);
    return e;
  }

  /** Erases a taken pre-signature: with the next {@link commitTaken}, or at once without deferred erasures. */
  erase(e: PreSignatureEntry): void {
    // Never stored: nothing to erase.
    if (this.#unsaved.delete(e.preSignatureId)) return;
    this.#taken.push(e);
    if (!this.#opts.deferErasures) this.commitTaken();
  }

  /**
   * Erases the stored records and shares of the pre-signatures taken since the last call, and
   * stores the adopted ones not stored yet, in one transaction.
   */
  commitTaken(): void {
    const store = this.#store;
    const taken = this.#taken.splice(0);
    if (!store || (taken.length === 0 && this.#unsaved.size === 0)) return;
    store.transaction(() => {
      this.saveDealt();
      for (const e of taken) {
        store.deletePreSignature(e.preSignatureId);
        for (const t of signingTranscripts(e)) {
          if (store.deleteTranscriptShares) store.deleteTranscriptShares(t.transcriptId, t.receivers.length);
          else for (let i = 0; i < t.receivers.length; i++) store.shares.delete(t.transcriptId, i);
        }
      }
    });
  }
}

/** A key whose subnet is one fault-free node (its pre-signatures may be dealt elsewhere). */
export function singleNode(state: KeyState): boolean {
  return state.subnet.nodes.length === 1 && state.subnet.nodes[0]!.behaviours.size === 0;
}
