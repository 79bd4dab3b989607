/**
 * The n-node threshold protocol suite of every key-holding subnet (reference idkg.md §5): the
 * simulated nodes, the shared artifact pool and private channel, and a deterministic round
 * scheduler standing in for consensus. Each round: the block maker of every subnet that can
 * finalize (≥ 2f + 1 live nodes; round-robin over live nodes) builds the transcripts that are
 * ready and issues new parameters — key generation (Random → ReshareOfMasked), periodic and
 * XNet resharing (ReshareOfUnmasked), pre-signatures up to each key's pool size (ECDSA: κ ∥ λ,
 * then x·λ and κ·λ; Schnorr: one blinder) — then every live node loads, answers complaints,
 * deals and supports. Signing takes one pre-signature per request (signing.ts).
 *
 * n = 1 is the default and the degenerate case of the same code (t = 1, one dealer, one
 * receiver). A subnet with f + 1 nodes down stalls like a real one: no new transcripts, so the
 * pools drain; signing still works from pre-signatures already made while t holders live.
 *
 * Size (~650 lines): the key lifecycle (keygen, resharing) and the pre-signature pools share one
 * round loop here; the split named for the next change is pools out of the key lifecycle.
 */
import { randomBytes } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha512 } from '@noble/hashes/sha2.js';
import type { KeyTranscript } from '../../crypto/threshold/key-transcript.ts';
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import { faultsTolerated, transcriptParams, type TranscriptOp } from '../../crypto/threshold/idkg/params.ts';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { EcdsaSigningInputs } from '../../crypto/threshold/ecdsa-signing.ts';
import type { SchnorrSigningInputs } from '../../crypto/threshold/schnorr-signing.ts';
import { ArtifactPool } from './artifact-pool.ts';
import { BlockMaker } from './block-maker.ts';
import { assignFaults, type FaultBehaviour, type FaultSpec } from './faults.ts';
import { IdkgNode, type NodeShareStore } from './node.ts';
import { entryOf, recordOf, signingTranscripts, type PreSignatureEntry, type PreSignatureRecord } from './pre-signature-record.ts';
import { PrivateChannel } from './private-channel.ts';
import { keyTranscriptOf, transcriptOfKey } from './key-transcript-form.ts';
import { signEcdsa, signSchnorr } from './signing.ts';

/** A subnet's nodes as configured. */
export interface IdkgSubnetConfig {
  name: string;
  /** Number of nodes (n). */
  nodes: number;
  faults: FaultSpec[];
  /** Explicit behaviours by node index (tests; added to what `faults` assigns). */
  nodeFaults?: Record<number, FaultBehaviour[]>;
  /** Node indices to mark faulty, in order (default: from the last node down). */
  faultOrder?: number[];
}

/** Where the suite keeps what must survive a restart. */
export interface IdkgStore {
  shares: NodeShareStore;
  savePreSignature(r: PreSignatureRecord): void;
  deletePreSignature(preSignatureId: string): void;
  loadPreSignatures(): PreSignatureRecord[];
  transaction<T>(fn: () => T): T;
}

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
  /** Called when a key gets a new key transcript (a reshare finished). */
  onKeyTranscript?: (keyId: string, transcript: KeyTranscript) => void;
}

/** A subnet of simulated nodes. */
export class IdkgSubnet {
  readonly name: string;
  readonly nodes: IdkgNode[];
  #blockMakerTurn = 0;

  constructor(name: string, nodes: IdkgNode[]) {
    this.name = name;
    this.nodes = nodes;
  }

  get ids(): string[] {
    return this.nodes.map((n) => n.id);
  }

  /** Nodes that have not crashed. */
  get live(): IdkgNode[] {
    return this.nodes.filter((n) => !n.crashed);
  }

  /** f + 1 or more nodes down: no block is finalized (consensus needs 2f + 1). */
  get stalled(): boolean {
    return this.live.length < 2 * faultsTolerated(this.nodes.length) + 1;
  }

  /** The next block maker (round-robin over live nodes). */
  nextBlockMaker(): IdkgNode | undefined {
    const live = this.live;
    return live.length === 0 ? undefined : live[this.#blockMakerTurn++ % live.length];
  }
}

type KeyKind = 'ecdsa' | 'schnorr';

interface PreSignatureInCreation {
  id: string;
  keyTranscriptId: string;
  kappa?: Transcript;
  lambda?: Transcript;
  kappaTimesLambda?: Transcript;
  keyTimesLambda?: Transcript;
  blinder?: Transcript;
  started: Set<string>;
}

interface KeyState {
  keyId: string;
  kind: KeyKind;
  curve: IdkgCurve;
  subnet: IdkgSubnet;
  transcript?: Transcript;
  generation: number;
  /** Key generation or a reshare under way. */
  lifecycle?: { tid: string; stage: 'random' | 'reshare-of-masked' | 'reshare'; target: IdkgSubnet };
  ready: PreSignatureEntry[];
  inFlight: PreSignatureInCreation[];
  lastReshareNanos: bigint;
  /** Requests waiting for a pre-signature of this key (set by the payload builder). */
  demand: number;
  /**
   * Whether the pool fills: from the start on a multi-node subnet; on a single node only once
   * the key has been used (a replica with 9 keys spends no CPU on pools nobody draws from).
   */
  filling: boolean;
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

const PURGE_AFTER_ROUNDS = 12;
const enc = new TextEncoder();

/** Runs the protocol suite for every key-holding subnet. */
export class ThresholdNetwork {
  readonly pool = new ArtifactPool();
  readonly channel = new PrivateChannel();
  readonly subnets = new Map<string, IdkgSubnet>();
  readonly #nodes = new Map<string, IdkgNode>();
  readonly #blockMaker: BlockMaker;
  readonly #keys = new Map<string, KeyState>();
  readonly #onCreated = new Map<string, (t: Transcript) => void>();
  /** Transcripts created recently (purged from the pool after a while) → round created. */
  readonly #created = new Map<string, number>();
  /** Finished transcripts whose shares nodes still persist as they load them. */
  readonly #persistent = new Map<string, { t: Transcript; until: number }>();
  readonly #suspects = new Set<string>();
  readonly #firstSeen = new Map<string, bigint>();
  readonly #taken: PreSignatureEntry[] = [];
  readonly #opts: ThresholdNetworkOptions;
  readonly #poolTarget: number;
  readonly #maxInFlight: number;
  readonly #instance = randomBytes(4).toString('hex');
  #counter = 0;
  /** While generating a key with `--seed`: the seed and a per-node counter. */
  #seeded: { seed: Uint8Array; context: string; counters: Map<string, number> } | null = null;

  constructor(opts: ThresholdNetworkOptions) {
    this.#opts = opts;
    this.#poolTarget = opts.preSignaturesPerKey ?? 20;
    this.#maxInFlight = opts.maxInFlightPerKey ?? 4;
    this.#blockMaker = new BlockMaker(this.pool);
    const memory = new Map<string, Opening>();
    const shares: NodeShareStore = opts.store?.shares ?? {
      put: (t, r, o) => void memory.set(`${t}|${r}`, o),
      get: (t, r) => memory.get(`${t}|${r}`),
      delete: (t, r) => void memory.delete(`${t}|${r}`),
    };
    for (const s of opts.subnets) {
      const faults = assignFaults(s.nodes, s.faults, s.faultOrder);
      for (const [i, b] of Object.entries(s.nodeFaults ?? {})) faults.set(Number(i), new Set([...(faults.get(Number(i)) ?? []), ...b]));
      const nodes = Array.from({ length: s.nodes }, (_, i) => {
        const id = `${s.name}/${i}`;
        const node = new IdkgNode(id, i, faults.get(i) ?? new Set(), (n) => this.#random(id, n), shares);
        this.#nodes.set(id, node);
        return node;
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
    const state: KeyState = { keyId, kind, curve, subnet, generation: 0, ready: [], inFlight: [], lastReshareNanos: 0n, demand: 0, filling: subnet.nodes.length > 1 };
    this.#keys.set(keyId, state);
    if (!stored) return;
    const t = transcriptOfKey(stored, [`${subnetName}/0`]);
    state.transcript = t;
    state.generation = Number(t.transcriptId.slice(t.transcriptId.lastIndexOf('/') + 1)) || 0;
    state.lastReshareNanos = stored.resharedAtNanos ?? 0n;
    for (const id of t.receivers) this.#nodes.get(id)?.restore(t);
    if (t.receivers.join() !== subnet.ids.join()) this.#startReshare(state, subnet);
    else {
      for (const r of this.#opts.store?.loadPreSignatures() ?? []) {
        if (r.keyId !== keyId) continue;
        const e = entryOf(r);
        if (e.keyTranscriptId !== t.transcriptId || !signingTranscripts(e).every((x) => subnet.nodes.filter((n) => n.restore(x)).length >= x.threshold)) {
          this.#dropPreSignature(e);
          continue;
        }
        state.ready.push(e);
        state.filling = true;
      }
    }
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
      this.#startKeyGeneration(state);
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
    this.#startReshare(state, target);
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

  #startKeyGeneration(state: KeyState): void {
    const subnet = state.subnet;
    const tid = `${state.keyId}/keygen`;
    // Step 1: a masked random sharing (Random): nobody learns the secret, not even its image.
    this.#startTranscript(tid, state.curve, { type: 'Random' }, subnet.ids, subnet.ids, {}, (random) => {
      // Step 2: ReshareOfMasked turns it into the unmasked key transcript (C_0 = master public key).
      const keyTid = `${state.keyId}/0`;
      state.lifecycle = { tid: keyTid, stage: 'reshare-of-masked', target: subnet };
      this.#startTranscript(keyTid, state.curve, { type: 'ReshareOfMasked', input: tid }, subnet.ids, subnet.ids, { input: random }, (key) => {
        this.#finishKeyTranscript(state, key, subnet, 0n);
      });
    });
    state.lifecycle = { tid, stage: 'random', target: subnet };
  }

  #startReshare(state: KeyState, target: IdkgSubnet, nowNanos = 0n): void {
    const old = state.transcript;
    if (!old || state.lifecycle) return;
    const tid = `${state.keyId}/${state.generation + 1}`;
    state.lifecycle = { tid, stage: 'reshare', target };
    const xnet = !old.receivers.some((r) => target.ids.includes(r));
    const initial = xnet ? 2 * faultsTolerated(old.receivers.length) + 1 : undefined;
    this.#startTranscript(tid, state.curve, { type: 'ReshareOfUnmasked', input: old.transcriptId }, old.receivers, target.ids, { input: old }, (t) => {
      this.#finishKeyTranscript(state, t, target, nowNanos === 0n ? BigInt(Date.now()) * 1_000_000n : nowNanos);
    }, initial);
  }

  #finishKeyTranscript(state: KeyState, t: Transcript, target: IdkgSubnet, resharedAtNanos: bigint): void {
    const old = state.transcript;
    state.transcript = t;
    state.generation = Number(t.transcriptId.slice(t.transcriptId.lastIndexOf('/') + 1));
    state.subnet = target;
    state.lifecycle = undefined;
    if (resharedAtNanos) state.lastReshareNanos = resharedAtNanos;
    this.#persistent.set(t.transcriptId, { t, until: this.pool.round + PURGE_AFTER_ROUNDS });
    if (old) {
      // Proactive security: the old generation's shares are erased once the new one exists.
      for (const id of old.receivers) this.#nodes.get(id)?.forget(old, true);
      // Pre-signatures of the old key transcript are purged ([PS] purge_old_key_pre_signatures).
      for (const e of state.ready) this.#dropPreSignature(e);
      state.ready = [];
      state.inFlight = [];
      this.#opts.onKeyTranscript?.(state.keyId, keyTranscriptOf(t, resharedAtNanos || undefined));
    }
  }

  #startTranscript(
    tid: string,
    curve: IdkgCurve,
    op: TranscriptOp,
    dealers: readonly string[],
    receivers: readonly string[],
    inputs: { input?: Transcript; lhs?: Transcript; rhs?: Transcript },
    onCreated: (t: Transcript) => void,
    initialRequests?: number,
  ): void {
    const params = transcriptParams(tid, curve, op, dealers, receivers, inputs);
    const commitments = {
      ...(inputs.input && { input: inputs.input.combined }),
      ...(inputs.lhs && { lhs: inputs.lhs.combined }),
      ...(inputs.rhs && { rhs: inputs.rhs.combined }),
    };
    this.#onCreated.set(tid, onCreated);
    this.#blockMaker.start(params, commitments, initialRequests);
  }

  // ---- pre-signatures --------------------------------------------------------------------------

  #fillPools(): void {
    // Keys with requests waiting first; they may have as many pre-signatures in creation as requests.
    const keys = [...this.#keys.values()].sort((a, b) => b.demand - a.demand);
    for (const state of keys) {
      const key = state.transcript;
      if (!key || state.lifecycle || state.subnet.stalled) continue;
      const target = (state.filling ? this.#poolTarget : 0) + state.demand;
      const inFlight = Math.max(this.#maxInFlight, Math.min(state.demand, 64));
      while (state.ready.length + state.inFlight.length < target && state.inFlight.length < inFlight) {
        this.#startPreSignature(state, key);
      }
    }
  }

  /**
   * Tells the block makers how many requests wait for a pre-signature of a key (the payload
   * builder calls this each round): such keys are served first and in parallel.
   */
  noteDemand(keyId: string, waiting: number): void {
    const s = this.#keys.get(keyId);
    if (!s) return;
    s.demand = waiting;
    if (waiting > 0) s.filling = true;
  }

  #startPreSignature(state: KeyState, key: Transcript): void {
    const id = `${state.keyId}/${state.generation}/pre-${this.#instance}-${this.#counter++}`;
    const p: PreSignatureInCreation = { id, keyTranscriptId: key.transcriptId, started: new Set() };
    state.inFlight.push(p);
    const ids = state.subnet.ids;
    const current = () => state.transcript?.transcriptId === key.transcriptId && state.inFlight.includes(p);
    const done = () => {
      if (!current()) return;
      if (state.kind === 'schnorr' ? !p.blinder : !(p.kappa && p.lambda && p.kappaTimesLambda && p.keyTimesLambda)) return;
      state.inFlight.splice(state.inFlight.indexOf(p), 1);
      const base = { preSignatureId: id, keyId: state.keyId, keyTranscriptId: key.transcriptId };
      const e: PreSignatureEntry =
        state.kind === 'schnorr'
          ? { kind: 'schnorr', ...base, transcripts: { blinder: p.blinder! } }
          : { kind: 'ecdsa', ...base, transcripts: { kappa: p.kappa!, lambda: p.lambda!, kappaTimesLambda: p.kappaTimesLambda!, keyTimesLambda: p.keyTimesLambda! } };
      state.ready.push(e);
      this.#opts.store?.savePreSignature(recordOf(e));
      for (const t of signingTranscripts(e)) this.#persistent.set(t.transcriptId, { t, until: this.pool.round + PURGE_AFTER_ROUNDS });
    };
    if (state.kind === 'schnorr') {
      // Schnorr: a single RandomUnmasked blinder ([PS] PreSignatureTranscriptRef).
      this.#startTranscript(`${id}/blinder`, state.curve, { type: 'RandomUnmasked' }, ids, ids, {}, (t) => {
        p.blinder = t;
        done();
      });
      return;
    }
    // ECDSA round 1: κ (RandomUnmasked) ∥ λ (Random).
    const products = () => {
      if (!current()) return;
      // Round 2: x·λ as soon as λ exists; κ·λ once both exist (UnmaskedTimesMasked).
      if (p.lambda && !p.started.has('keyTimesLambda')) {
        p.started.add('keyTimesLambda');
        this.#startTranscript(`${id}/key-times-lambda`, 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: key.transcriptId, rhs: p.lambda.transcriptId }, ids, ids, { lhs: key, rhs: p.lambda }, (t) => {
          p.keyTimesLambda = t;
          done();
        });
      }
      if (p.kappa && p.lambda && !p.started.has('kappaTimesLambda')) {
        p.started.add('kappaTimesLambda');
        this.#startTranscript(`${id}/kappa-times-lambda`, 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: p.kappa.transcriptId, rhs: p.lambda.transcriptId }, ids, ids, { lhs: p.kappa, rhs: p.lambda }, (t) => {
          p.kappaTimesLambda = t;
          done();
        });
      }
    };
    this.#startTranscript(`${id}/kappa`, 'secp256k1', { type: 'RandomUnmasked' }, ids, ids, {}, (t) => {
      p.kappa = t;
      products();
    });
    this.#startTranscript(`${id}/lambda`, 'secp256k1', { type: 'Random' }, ids, ids, {}, (t) => {
      p.lambda = t;
      products();
    });
  }

  #dropPreSignature(e: PreSignatureEntry): void {
    this.#opts.store?.deletePreSignature(e.preSignatureId);
    for (const t of signingTranscripts(e)) for (const id of t.receivers) this.#nodes.get(id)?.forget(t, true);
  }

  /** Pre-signatures ready for a key. */
  preSignatureCount(keyId: string): number {
    return this.#keys.get(keyId)?.ready.length ?? 0;
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
  takePreSignature(keyId: string): PreSignatureEntry | undefined {
    const state = this.#keys.get(keyId);
    if (state) state.filling = true;
    const e = state?.ready.shift();
    if (!e) return undefined;
    this.#taken.push(e);
    if (!this.#opts.deferErasures) this.commitTaken();
    return e;
  }

  /** Erases the stored records and shares of the pre-signatures taken since the last call. */
  commitTaken(): void {
    const store = this.#opts.store;
    const taken = this.#taken.splice(0);
    if (!store || taken.length === 0) return;
    store.transaction(() => {
      for (const e of taken) {
        store.deletePreSignature(e.preSignatureId);
        for (const t of signingTranscripts(e)) for (let i = 0; i < t.receivers.length; i++) store.shares.delete(t.transcriptId, i);
      }
    });
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
    if (this.pool.inCreation.size > 0 || this.#persistent.size > 0) return true;
    for (const s of this.#keys.values()) {
      if (!s.transcript || s.lifecycle || s.subnet.stalled) continue;
      if (s.ready.length + s.inFlight.length < (s.filling ? this.#poolTarget : 0) + s.demand) return true;
      if (this.#reshareDue(s, nowNanos)) return true;
    }
    return false;
  }

  #reshareDue(s: KeyState, nowNanos: bigint): boolean {
    const every = this.#opts.reshareIntervalNanos ?? 0n;
    if (every <= 0n || nowNanos <= 0n) return false;
    // The interval counts from the last reshare, or from when this process first saw the key.
    const since = s.lastReshareNanos > 0n ? s.lastReshareNanos : (this.#firstSeen.get(s.keyId) ?? this.#firstSeen.set(s.keyId, nowNanos).get(s.keyId)!);
    return since + every <= nowNanos;
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
    for (const tic of [...pool.inCreation.values()]) {
      if (stalledReceivers(tic.params.receivers)) continue;
      const out = this.#blockMaker.step(tic);
      if (out.kind === 'created') {
        this.#created.set(tic.params.transcriptId, pool.round);
        const cb = this.#onCreated.get(tic.params.transcriptId);
        this.#onCreated.delete(tic.params.transcriptId);
        cb?.(out.transcript);
      } else if (out.kind === 'failed') {
        pool.inCreation.delete(tic.params.transcriptId);
        this.#onCreated.delete(tic.params.transcriptId);
        this.#abandon(tic.params.transcriptId);
      }
    }
    for (const s of this.#keys.values()) {
      if (!s.lifecycle && s.transcript && !s.subnet.stalled && this.#reshareDue(s, nowNanos)) this.#startReshare(s, s.subnet, nowNanos);
    }
    if (opts.preSignatures !== false) this.#fillPools();
    // Nodes: load, answer complaints, deal; then support what arrived.
    const active = this.nodes.filter((n) => n.activeIn(pool.round));
    for (const n of active) {
      n.receive(this.channel);
      n.load(pool, this.channel);
      n.answerComplaints(pool);
      n.deal(pool, this.channel);
    }
    for (const n of active) {
      n.receive(this.channel);
      n.support(pool);
    }
    // Holders persist their shares of finished key transcripts and pre-signatures.
    for (const [tid, { t, until }] of this.#persistent) {
      for (const id of t.receivers) this.#nodes.get(id)?.persist(t);
      if (until <= pool.round) this.#persistent.delete(tid);
    }
    this.#purge();
  }

  #abandon(tid: string): void {
    for (const s of this.#keys.values()) {
      if (s.lifecycle?.tid === tid || (s.lifecycle?.stage === 'random' && tid.endsWith('/keygen'))) s.lifecycle = undefined;
      s.inFlight = s.inFlight.filter((p) => !tid.startsWith(p.id));
    }
  }

  #purge(): void {
    const old = new Set<string>();
    for (const [tid, round] of this.#created) if (round + PURGE_AFTER_ROUNDS <= this.pool.round) old.add(tid);
    if (old.size === 0) return;
    const keep = new Set<string>();
    for (const s of this.#keys.values()) {
      if (s.transcript) keep.add(s.transcript.transcriptId);
      for (const e of s.ready) for (const t of signingTranscripts(e)) keep.add(t.transcriptId);
      for (const p of s.inFlight) for (const t of [p.kappa, p.lambda]) if (t) keep.add(t.transcriptId);
    }
    for (const tid of old) this.#created.delete(tid);
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
      preSignatures: s.ready.length,
      preSignaturesInCreation: s.inFlight.length,
      poolTarget: this.#poolTarget,
      lastReshareNanos: s.lastReshareNanos,
      stalled: s.subnet.stalled,
    }));
  }
}

