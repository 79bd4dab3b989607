/**
 * The n-node threshold protocol suite of every key-holding subnet (reference idkg.md §5): the
 * simulated nodes, the shared artifact pool and private channel, and a deterministic round
 * scheduler standing in for consensus. Each round: the block maker of every subnet that can
 * finalize (≥ 2f + 1 live nodes; round-robin over live nodes) builds the transcripts that are
 * ready (transcript-scheduler.ts) and issues new parameters — key generation and resharing
 * (key-lifecycle.ts), pre-signatures up to each key's pool size (pre-signature-pools.ts) — then
 * every live node loads, answers complaints, deals and supports. Signing takes one
 * pre-signature per request (signing.ts).
 *
 * n = 1 is the default and the degenerate case of the same code (t = 1, one dealer, one
 * receiver). A subnet with f + 1 nodes down stalls like a real one: no new transcripts, so the
 * pools drain; signing still works from pre-signatures already made while t holders live.
 */
import { randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { KeyTranscript } from '../../crypto/threshold/key-transcript.ts';
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import { faultsTolerated } from '../../crypto/threshold/idkg/params.ts';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { EcdsaSigningInputs } from '../../crypto/threshold/ecdsa-signing.ts';
import type { SchnorrSigningInputs } from '../../crypto/threshold/schnorr-signing.ts';
import { ArtifactPool } from './artifact-pool.ts';
import { assignFaults } from './faults.ts';
import { IdkgSubnet, type IdkgSubnetConfig } from './idkg-subnet.ts';
import type { IdkgStore } from './idkg-store.ts';
import { KeyLifecycle, type KeyKind, type KeyState } from './key-lifecycle.ts';
import { keyTranscriptOf, transcriptOfKey } from './key-transcript-form.ts';
import { IdkgNode, type NodeShareStore } from './node.ts';
import { PreSignaturePools, singleNode } from './pre-signature-pools.ts';
import { singleNodeSigningJob, type DealtPreSignature, type PreSignatureDealer, type SingleNodeSigningJob } from './single-node-signing.ts';
import type { PreSignatureEntry } from './pre-signature-record.ts';
import { signingTranscripts } from './pre-signature-record.ts';
import { megaKeyGen } from '../../crypto/threshold/idkg/mega.ts';
import { MegaChannel } from './mega-channel.ts';
import { PrivateChannel, type ShareChannel } from './private-channel.ts';
import { signEcdsa, signSchnorr } from './signing.ts';
import { TranscriptScheduler } from './transcript-scheduler.ts';

export { IdkgSubnet, type IdkgSubnetConfig } from './idkg-subnet.ts';
export type { IdkgStore } from './idkg-store.ts';

/** Options of the suite. */
export interface ThresholdNetworkOptions {
  subnets: IdkgSubnetConfig[];
  /** Pre-signatures kept ready per key (the replica's `pre_signatures_to_create_in_advance`). Default 20. */
  preSignaturesPerKey?: number;
  /** Pre-signatures in creation at once per key. Default 4. */
  maxInFlightPerKey?: number;
  /** Periodic reshare interval, nanoseconds; 0 or absent: never. */
  reshareIntervalNanos?: bigint;
  store?: IdkgStore;
  /**
   * Erase taken pre-signatures only when {@link ThresholdNetwork.commitTaken} is called (the
   * replica calls it inside the round transaction that commits the responses).
   */
  deferErasures?: boolean;
  /**
   * `--mega`: shares travel MEGa-encrypted inside the dealings, complaints carry DLEQ evidence
   * (idkg.md §2.2, §2.7) instead of the in-process channel's delivery record. A test mode: at
   * most {@link MEGA_MAX_NODES} nodes per subnet.
   */
  mega?: boolean;
  /** Called when a key gets a new key transcript (a reshare finished). */
  onKeyTranscript?: (keyId: string, transcript: KeyTranscript) => void;
  /**
   * Deals the pre-signatures of single-node keys elsewhere (the signing worker thread); what it
   * makes comes back through {@link ThresholdNetwork.adoptPreSignatures}. Not with `--mega`.
   */
  dealer?: PreSignatureDealer;
}

/** Public state of one key (for `keys` and the dashboard). */
export interface IdkgKeyStatus {
  keyId: string;
  subnet: string;
  nodes: number;
  threshold: number;
  transcriptId: string | null;
  preSignatures: number;
  preSignaturesInCreation: number;
  poolTarget: number;
  lastReshareNanos: bigint;
  stalled: boolean;
}

const enc = new TextEncoder();

/** Largest subnet `--mega` runs (it costs several scalar multiplications per share). */
export const MEGA_MAX_NODES = 13;

/** Runs the protocol suite for every key-holding subnet. */
export class ThresholdNetwork {
  readonly pool = new ArtifactPool();
  readonly channel: ShareChannel;
  readonly subnets = new Map<string, IdkgSubnet>();
  readonly #nodes = new Map<string, IdkgNode>();
  readonly #keys = new Map<string, KeyState>();
  readonly #scheduler: TranscriptScheduler;
  readonly #lifecycle: KeyLifecycle;
  readonly #pools: PreSignaturePools;
  readonly #suspects = new Set<string>();
  readonly #opts: ThresholdNetworkOptions;
  /** While generating a key with `--seed`: the seed and a per-node counter. */
  #seeded: { seed: Uint8Array; context: string; counters: Map<string, number> } | null = null;

  constructor(opts: ThresholdNetworkOptions) {
    this.#opts = opts;
    const mega = opts.mega ? new MegaChannel() : undefined;
    this.channel = mega ?? new PrivateChannel();
    this.pool.requireMega = mega !== undefined;
    const node = (id: string) => this.#nodes.get(id);
    this.#scheduler = new TranscriptScheduler(this.pool, node);
    this.#pools = new PreSignaturePools(this.#scheduler, node, opts.store, {
      poolTarget: opts.preSignaturesPerKey ?? 20,
      maxInFlight: opts.maxInFlightPerKey ?? 4,
      deferErasures: opts.deferErasures ?? false,
      dealer: mega ? undefined : opts.dealer,
    });
    this.#lifecycle = new KeyLifecycle(this.#scheduler, node, opts.reshareIntervalNanos ?? 0n, {
      onNewGeneration: (s) => this.#pools.dropAll(s.keyId),
      ...(opts.onKeyTranscript ? { onKeyTranscript: opts.onKeyTranscript } : {}),
    });
    const memory = new Map<string, Opening>();
    const shares: NodeShareStore = opts.store?.shares ?? {
      put: (t, r, o) => void memory.set(`${t}|${r}`, o),
      get: (t, r) => memory.get(`${t}|${r}`),
      delete: (t, r) => void memory.delete(`${t}|${r}`),
    };
    for (const s of opts.subnets) {
      if (mega && s.nodes > MEGA_MAX_NODES) throw new Error(`--mega runs at most ${MEGA_MAX_NODES} nodes per subnet (subnet ${s.name} has ${s.nodes})`);
      const faults = assignFaults(s.nodes, s.faults, s.faultOrder);
      for (const [i, b] of Object.entries(s.nodeFaults ?? {})) faults.set(Number(i), new Set([...(faults.get(Number(i)) ?? []), ...b]));
      const nodes = Array.from({ length: s.nodes }, (_, i) => {
        const id = `${s.name}/${i}`;
        const random = (k: number) => this.#random(id, k);
        const key = mega ? megaKeyGen(random) : undefined;
        if (mega && key) mega.register(id, key.publicKey);
        const n = new IdkgNode(id, i, faults.get(i) ?? new Set(), random, shares, key);
        this.#nodes.set(id, n);
        return n;
      });
      this.subnets.set(s.name, new IdkgSubnet(s.name, nodes));
    }
  }

  #random(nodeId: string, n: number): Uint8Array {
    const s = this.#seeded;
    if (!s) return new Uint8Array(randomBytes(n));
    const c = s.counters.get(nodeId) ?? 0;
    s.counters.set(nodeId, c + 1);
    return hkdf(sha512, s.seed, enc.encode('chainkey-replica idkg seed'), enc.encode(`${s.context}|${nodeId}|${c}`), n);
  }

  /** A node by id (tests and the dashboard look at fault flags and share counts). */
  node(id: string): IdkgNode | undefined {
    return this.#nodes.get(id);
  }

  /** Every node. */
  get nodes(): IdkgNode[] {
    return [...this.#nodes.values()];
  }

  // ---- keys ------------------------------------------------------------------------------------

  /**
   * Registers a key held by a subnet. With a stored key transcript, every receiver restores its
   * share; if the transcript's receivers are not the subnet's nodes (the key moved subnets, or
   * the node count changed), a reshare to the subnet's nodes starts (XNet when disjoint).
   * Stored pre-signatures of the current transcript are restored too.
   * @throws Error for an unknown subnet or a stored transcript no live node can deal from
   */
  addKey(keyId: string, kind: KeyKind, curve: IdkgCurve, subnetName: string, stored?: KeyTranscript): void {
    const subnet = this.subnets.get(subnetName);
    if (!subnet) throw new Error(`no simulated nodes for subnet ${subnetName}`);
    const state: KeyState = { keyId, kind, curve, subnet, generation: 0, lastReshareNanos: 0n };
    this.#keys.set(keyId, state);
    this.#pools.register(state);
    if (!stored) return;
    const t = transcriptOfKey(stored, [`${subnetName}/0`]);
    state.transcript = t;
    state.generation = Number(t.transcriptId.slice(t.transcriptId.lastIndexOf('/') + 1)) || 0;
    state.lastReshareNanos = stored.resharedAtNanos ?? 0n;
    for (const id of t.receivers) this.#nodes.get(id)?.restore(t);
    if (t.receivers.join() !== subnet.ids.join()) this.#lifecycle.startReshare(state, subnet);
    else this.#pools.restore(state);
  }

  /**
   * Generates a registered key now (first start): Random, then ReshareOfMasked, running rounds
   * until the key transcript exists and its holders stored their shares.
   * @param seed `--seed`: the nodes' randomness for this key comes from HKDF(seed, key id, node)
   * @returns the key transcript
   * @throws Error if the subnet is stalled or the protocol does not finish
   */
  generateKey(keyId: string, seed?: Uint8Array): KeyTranscript {
    const state = this.#key(keyId);
    if (state.subnet.stalled) throw new Error(`cannot generate ${keyId}: subnet ${state.subnet.name} has f + 1 or more nodes down`);
    this.#seeded = seed ? { seed, context: keyId, counters: new Map() } : null;
    try {
      this.#lifecycle.startKeyGeneration(state);
      for (let i = 0; i < 60 && !state.transcript; i++) this.runRound(0n, { preSignatures: false });
    } finally {
      this.#seeded = null;
    }
    if (!state.transcript) throw new Error(`key generation of ${keyId} did not finish`);
    return keyTranscriptOf(state.transcript, undefined);
  }

  /**
   * The one node's share of a single-node key (n = 1), for replaying a seeded key generation
   * (see {@link adoptSingleNodeKey}); undefined for n > 1, where no one place may hold it.
   */
  singleNodeShare(keyId: string): Opening | undefined {
    const s = this.#key(keyId);
    if (!s.transcript || s.transcript.receivers.length !== 1) return undefined;
    return this.#nodes.get(s.transcript.receivers[0]!)?.share(s.transcript);
  }

  /**
   * Installs a single-node key whose seeded generation already ran in this process with the same
   * seed (the protocol is deterministic under a seed, so this is its replay): a process opening
   * many short-lived replicas (PocketIC instances) generates each seeded key once.
   */
  adoptSingleNodeKey(keyId: string, stored: KeyTranscript, share: Opening): void {
    const state = this.#key(keyId);
    const t = transcriptOfKey(stored, state.subnet.ids);
    if (t.receivers.length !== 1 || t.receivers[0] !== state.subnet.ids[0]) throw new Error(`${keyId}: only single-node keys are replayed`);
    this.#opts.store?.shares.put(t.transcriptId, 0, share);
    state.transcript = t;
    this.#nodes.get(t.receivers[0]!)!.restore(t);
    if (!this.#opts.store) throw new Error('adoptSingleNodeKey needs a store');
  }

  /** Starts a reshare of a key to a subnet's nodes now (periodic: the same subnet; XNet: another). */
  reshare(keyId: string, targetSubnet?: string): void {
    const state = this.#key(keyId);
    const target = targetSubnet ? this.subnets.get(targetSubnet) : state.subnet;
    if (!target) throw new Error(`no simulated nodes for subnet ${targetSubnet}`);
    this.#lifecycle.startReshare(state, target);
  }

  #key(keyId: string): KeyState {
    const s = this.#keys.get(keyId);
    if (!s) throw new Error(`unknown threshold key ${keyId}`);
    return s;
  }

  /** The current key transcript of a key. */
  keyTranscript(keyId: string): Transcript | undefined {
    return this.#keys.get(keyId)?.transcript;
  }

  // ---- pre-signatures and signing --------------------------------------------------------------

  /**
   * Tells the block makers how many requests wait for a pre-signature of a key (the payload
   * builder calls this each round): such keys are served first and in parallel.
   */
  noteDemand(keyId: string, waiting: number): void {
    this.#pools.noteDemand(keyId, waiting);
  }

  /** Pre-signatures ready for a key. */
  preSignatureCount(keyId: string): number {
    return this.#pools.count(keyId);
  }

  /** Whether a key's subnet can make no new pre-signatures (f + 1 nodes down). */
  stalled(keyId: string): boolean {
    return this.#keys.get(keyId)?.subnet.stalled ?? true;
  }

  /**
   * Takes a pre-signature for a key's current transcript (oldest first). Its stored record and
   * shares are erased in the same transaction that commits the signature's response (see
   * {@link commitTaken}), or at once without a replica round: a signature that leaves the replica
   * never leaves its pre-signature behind, and one lost in a crash was never seen by anyone.
   */
  takePreSignature(keyId: string, opts: { eraseLater?: boolean } = {}): PreSignatureEntry | undefined {
    return this.#pools.take(keyId, opts.eraseLater ?? false);
  }

  /**
   * Erases a pre-signature taken with `eraseLater` (its signature was made elsewhere): with the
   * next {@link commitTaken}, i.e. in the transaction that commits the signature's response.
   */
  erasePreSignature(e: PreSignatureEntry): void {
    this.#pools.erase(e);
  }

  /** Whether a key's subnet is one fault-free node (without `--mega`): its signing may run elsewhere. */
  signsAlone(keyId: string): boolean {
    const s = this.#keys.get(keyId);
    return s !== undefined && !this.pool.requireMega && singleNode(s);
  }

  /**
   * The signing job of a pre-signature taken for a single-node key (see {@link signsAlone}), as
   * plain data for another thread; the node forgets its shares of it.
   * @throws Error if the node lacks its shares or the pre-signature is for another key transcript
   */
  singleNodeSigningJob(e: PreSignatureEntry, inputs: EcdsaSigningInputs | SchnorrSigningInputs): SingleNodeSigningJob {
    const state = this.#key(e.keyId);
    return singleNodeSigningJob(state.subnet.nodes[0]!, state.transcript, e, inputs);
  }

  /**
   * Adds pre-signatures the dealer made to their pools; those of a key transcript that is no
   * longer current are dropped. They are stored with the next {@link commitTaken} or
   * {@link saveDealtPreSignatures}.
   * @returns how many were added
   */
  adoptPreSignatures(batch: readonly DealtPreSignature[]): number {
    return batch.filter((d) => {
      const s = this.#keys.get(d.record.keyId);
      return s !== undefined && this.#pools.adopt(s, d);
    }).length;
  }

  /** Stores the adopted pre-signatures not stored yet, in one transaction. */
  saveDealtPreSignatures(): void {
    const store = this.#opts.store;
    if (!this.#pools.unsavedCount) return;
    if (store) store.transaction(() => this.#pools.saveDealt());
    else this.#pools.saveDealt();
  }

  /** The dealer lost its orders (its thread ended): they are placed again when pools need them. */
  dealerLost(): void {
    this.#pools.dealerLost();
  }

  /**
   * Erases the stored records and shares of the pre-signatures taken since the last call (and
   * stores the adopted ones not stored yet).
   */
  commitTaken(): void {
    this.#pools.commitTaken();
  }

  /**
   * Signs with a taken pre-signature; the nodes then forget their shares of it.
   * @throws Error with fewer than t live holders or valid shares
   */
  sign(e: PreSignatureEntry, inputs: Omit<EcdsaSigningInputs, 'preSignature'> | Omit<SchnorrSigningInputs, 'preSignature'>, preSignature: EcdsaSigningInputs['preSignature'] | SchnorrSigningInputs['preSignature']): Uint8Array {
    const state = this.#key(e.keyId);
    const holders = state.subnet.live;
    try {
      if (e.kind === 'ecdsa') {
        return signEcdsa(holders, e.transcripts, { ...(inputs as Omit<EcdsaSigningInputs, 'preSignature'>), preSignature } as EcdsaSigningInputs, this.#suspects, this.pool);
      }
      if (!state.transcript || state.transcript.transcriptId !== e.keyTranscriptId) throw new Error(`pre-signature ${e.preSignatureId} is for another key transcript`);
      return signSchnorr(holders, state.transcript, e.transcripts.blinder, { ...(inputs as Omit<SchnorrSigningInputs, 'preSignature'>), preSignature } as SchnorrSigningInputs, this.#suspects, this.pool);
    } finally {
      for (const t of signingTranscripts(e)) for (const n of state.subnet.nodes) n.forget(t, false);
    }
  }

  // ---- rounds ----------------------------------------------------------------------------------

  /** Whether another round would do something (transcripts in creation, pools below target, a reshare due). */
  hasWork(nowNanos: bigint): boolean {
    if (this.#scheduler.busy) return true;
    for (const s of this.#keys.values()) {
      if (!s.transcript || s.lifecycle || s.subnet.stalled) continue;
      if (this.#pools.wantsMore(s)) return true;
      if (this.#lifecycle.reshareDue(s, nowNanos)) return true;
    }
    return false;
  }

  /**
   * One round of every subnet.
   * @param nowNanos the block time (drives periodic resharing; 0: none due)
   */
  runRound(nowNanos: bigint, opts: { preSignatures?: boolean } = {}): void {
    const pool = this.pool;
    pool.round++;
    const stalledReceivers = (ids: readonly string[]) => {
      const s = this.subnets.get(ids[0]!.slice(0, ids[0]!.lastIndexOf('/')));
      return !s || s.stalled;
    };
    // Block makers: build what is ready (its creation may start dependent transcripts).
    for (const s of this.subnets.values()) s.nextBlockMaker();
    this.#scheduler.buildReady(stalledReceivers, (tid) => {
      for (const s of this.#keys.values()) {
        this.#lifecycle.abandon(s, tid);
        this.#pools.abandon(s.keyId, tid);
      }
    });
    for (const s of this.#keys.values()) {
      if (!s.lifecycle && s.transcript && !s.subnet.stalled && this.#lifecycle.reshareDue(s, nowNanos)) this.#lifecycle.startReshare(s, s.subnet, nowNanos);
    }
    if (opts.preSignatures !== false) this.#pools.fill(this.#keys.values());
    // Nodes: load, answer complaints, deal; then support what arrived.
    const active = this.nodes.filter((n) => n.activeIn(pool.round));
    for (const n of active) {
      n.receive(this.channel);
      n.load(pool, this.channel);
      n.answerComplaints(pool);
      n.deal(pool, this.channel);
    }
    // The random beacon of the batched support check, drawn now that this round's openings are sent.
    pool.beacon = this.#random('network/beacon', 32);
    for (const n of active) {
      n.receive(this.channel);
      n.support(pool);
    }
    // Holders persist their shares of finished key transcripts and pre-signatures.
    this.#scheduler.persistRound();
    this.#purge();
  }

  #purge(): void {
    const old = this.#scheduler.takeExpired();
    if (old.size === 0) return;
    const keep = new Set<string>();
    for (const s of this.#keys.values()) {
      if (s.transcript) keep.add(s.transcript.transcriptId);
      for (const tid of this.#pools.transcriptsInUse(s.keyId)) keep.add(tid);
    }
    this.pool.purge(old);
    this.channel.purge(old);
    for (const n of this.#nodes.values()) {
      n.purge(old);
      // Shares nobody will use again (κ after κ·λ, keygen's masked key, abandoned transcripts).
      for (const tid of old) if (!keep.has(tid)) n.forget({ transcriptId: tid, receivers: [n.id] }, false);
    }
  }

  /** Public status of every key. */
  status(): IdkgKeyStatus[] {
    return [...this.#keys.values()].map((s) => ({
      keyId: s.keyId,
      subnet: s.subnet.name,
      nodes: s.transcript?.receivers.length ?? s.subnet.nodes.length,
      threshold: s.transcript?.threshold ?? faultsTolerated(s.subnet.nodes.length) + 1,
      transcriptId: s.transcript?.transcriptId ?? null,
      preSignatures: this.#pools.count(s.keyId),
      preSignaturesInCreation: this.#pools.inCreation(s.keyId),
      poolTarget: this.#pools.poolTarget,
      lastReshareNanos: s.lastReshareNanos,
      stalled: s.subnet.stalled,
    }));
  }
}
