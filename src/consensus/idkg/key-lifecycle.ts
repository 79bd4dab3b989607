/**
 * The key lifecycle of the threshold protocol suite (reference idkg.md §1.4, §4; the IC's
 * `payload_builder/key_transcript.rs` and `resharing.rs`): key generation at first start
 * (Random, then ReshareOfMasked: the unmasked key transcript whose constant term is the master
 * public key), periodic resharing within the subnet (ReshareOfUnmasked every interval), and
 * resharing to other nodes (XNet: the old holders deal 2f + 1 dealings to a disjoint node set).
 * A new generation erases the old one's shares (proactive security) and, through the callback,
 * the pre-signatures of the old key transcript.
 */
import type { IdkgCurve } from '../../crypto/threshold/idkg/group.ts';
import { faultsTolerated } from '../../crypto/threshold/idkg/params.ts';
import type { Transcript } from '../../crypto/threshold/idkg/transcript.ts';
import type { KeyTranscript } from '../../crypto/threshold/key-transcript.ts';
import type { IdkgSubnet } from './idkg-subnet.ts';
import { keyTranscriptOf } from './key-transcript-form.ts';
import type { IdkgNode } from './node.ts';
import type { TranscriptScheduler } from './transcript-scheduler.ts';

/** Which signing scheme a key serves: ECDSA (4-transcript pre-signatures) or Schnorr (1). */
export type KeyKind = 'ecdsa' | 'schnorr';

/** One threshold key: its current key transcript and the lifecycle step under way. */
export interface KeyState {
  keyId: string;
  kind: KeyKind;
  curve: IdkgCurve;
  /** The subnet holding it (the target subnet once an XNet reshare finished). */
  subnet: IdkgSubnet;
  transcript?: Transcript;
  /** Generation of the key transcript (its id ends in `/<generation>`). */
  generation: number;
  /** Key generation or a reshare under way. */
  lifecycle?: { tid: string; stage: 'random' | 'reshare-of-masked' | 'reshare'; target: IdkgSubnet };
  lastReshareNanos: bigint;
}

/** What the lifecycle tells the rest of the suite. */
export interface KeyLifecycleHooks {
  /** A key transcript replaced an older one (the pools drop the old one's pre-signatures). */
  onNewGeneration: (state: KeyState) => void;
  /** Called with the new key transcript after a reshare (the replica stores it). */
  onKeyTranscript?: (keyId: string, transcript: KeyTranscript) => void;
}

/** Key generation and resharing for every key. */
export class KeyLifecycle {
  readonly #scheduler: TranscriptScheduler;
  readonly #node: (id: string) => IdkgNode | undefined;
  readonly #hooks: KeyLifecycleHooks;
  readonly #reshareIntervalNanos: bigint;
  readonly #firstSeen = new Map<string, bigint>();

  constructor(scheduler: TranscriptScheduler, node: (id: string) => IdkgNode | undefined, reshareIntervalNanos: bigint, hooks: KeyLifecycleHooks) {
    this.#scheduler = scheduler;
    this.#node = node;
    this.#reshareIntervalNanos = reshareIntervalNanos;
    this.#hooks = hooks;
  }

  /** Starts key generation: Random (masked), then ReshareOfMasked (the unmasked key transcript). */
  startKeyGeneration(state: KeyState): void {
    const subnet = state.subnet;
    const tid = `${state.keyId}/keygen`;
    // Step 1: a masked random sharing (Random): nobody learns the secret, not even its image.
    this.#scheduler.start(tid, state.curve, { type: 'Random' }, subnet.ids, subnet.ids, {}, (random) => {
      // Step 2: ReshareOfMasked turns it into the unmasked key transcript (C_0 = master public key).
      const keyTid = `${state.keyId}/0`;
      state.lifecycle = { tid: keyTid, stage: 'reshare-of-masked', target: subnet };
      this.#scheduler.start(keyTid, state.curve, { type: 'ReshareOfMasked', input: tid }, subnet.ids, subnet.ids, { input: random }, (key) => {
        this.#finish(state, key, subnet, 0n);
      });
    });
    state.lifecycle = { tid, stage: 'random', target: subnet };
  }

  /**
   * Starts a reshare of the current key transcript to a subnet's nodes (ReshareOfUnmasked; XNet
   * when no old holder is among them: 2f_old + 1 dealers asked at first). No-op while another
   * lifecycle step runs or before the key exists.
   * @param nowNanos the block time recorded as the last reshare (0: the wall clock)
   */
  startReshare(state: KeyState, target: IdkgSubnet, nowNanos = 0n): void {
    const old = state.transcript;
    if (!old || state.lifecycle) return;
    const tid = `${state.keyId}/${state.generation + 1}`;
    state.lifecycle = { tid, stage: 'reshare', target };
    const xnet = !old.receivers.some((r) => target.ids.includes(r));
    const initial = xnet ? 2 * faultsTolerated(old.receivers.length) + 1 : undefined;
    this.#scheduler.start(tid, state.curve, { type: 'ReshareOfUnmasked', input: old.transcriptId }, old.receivers, target.ids, { input: old }, (t) => {
      this.#finish(state, t, target, nowNanos === 0n ? BigInt(Date.now()) * 1_000_000n : nowNanos);
    }, initial);
  }

  /** Whether a periodic reshare of a key is due at block time `nowNanos`. */
  reshareDue(s: KeyState, nowNanos: bigint): boolean {
    const every = this.#reshareIntervalNanos;
    if (every <= 0n || nowNanos <= 0n) return false;
    // The interval counts from the last reshare, or from when this process first saw the key.
    const since = s.lastReshareNanos > 0n ? s.lastReshareNanos : (this.#firstSeen.get(s.keyId) ?? this.#firstSeen.set(s.keyId, nowNanos).get(s.keyId)!);
    return since + every <= nowNanos;
  }

  /** A transcript that could not be created: the lifecycle step it served is given up. */
  abandon(state: KeyState, tid: string): void {
    if (state.lifecycle?.tid === tid || (state.lifecycle?.stage === 'random' && tid.endsWith('/keygen'))) state.lifecycle = undefined;
  }

  #finish(state: KeyState, t: Transcript, target: IdkgSubnet, resharedAtNanos: bigint): void {
    const old = state.transcript;
    state.transcript = t;
    state.generation = Number(t.transcriptId.slice(t.transcriptId.lastIndexOf('/') + 1));
    state.subnet = target;
    state.lifecycle = undefined;
    if (resharedAtNanos) state.lastReshareNanos = resharedAtNanos;
    this.#scheduler.persistShares(t);
    if (!old) return;
    // Proactive security: the old generation's shares are erased once the new one exists.
    for (const id of old.receivers) this.#node(id)?.forget(old, true);
    // Pre-signatures of the old key transcript are purged ([PS] purge_old_key_pre_signatures).
    this.#hooks.onNewGeneration(state);
    this.#hooks.onKeyTranscript?.(state.keyId, keyTranscriptOf(t, resharedAtNanos || undefined));
  }
}
