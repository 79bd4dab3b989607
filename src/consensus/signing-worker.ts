/**
 * Threshold signing and pre-signature dealing of single-node keys off the main thread: a worker
 * thread (signing-worker-thread.ts) makes ECDSA / BIP340 / Ed25519 signatures from the
 * pre-signatures the replica hands it, and deals the pre-signatures the pools order, while the
 * replica's thread executes canisters. The replica keeps every record: pre-signatures are stored
 * when they arrive and erased in the transaction that commits their signature's response, and a
 * request whose signature was in flight at a crash is signed again after the restart (from the
 * still-stored pre-signature or another). Jobs of one tick go over in one message; results come
 * back in batches (see {@link ANNOUNCE_EVERY_MS}).
 *
 * The thread starts on first use and ends when idle; until it says it is ready
 * ({@link SigningWorker.available} false) the replica signs and deals on its own thread as before.
 */
import { Worker } from 'node:worker_threads';
import type { DealtPreSignature, PreSignatureDealer, SingleNodeKeyMaterial, SingleNodeSigningJob } from './idkg/single-node-signing.ts';

/** Messages to the thread. */
export type SigningWorkerRequest =
  | { type: 'sign'; jobs: { id: number; job: SingleNodeSigningJob }[] }
  | { type: 'order'; key: SingleNodeKeyMaterial; count: number };

/** A signing job's answer: the 64-byte signature or the error text. */
export type SigningResult = { id: number; ok: true; bytes: Uint8Array } | { id: number; ok: false; message: string };

/** Messages from the thread. */
export type SigningWorkerReply =
  | { type: 'ready' }
  | { type: 'signed'; results: SigningResult[] }
  | { type: 'dealt'; preSignatures: DealtPreSignature[] };

/**
 * While the thread works through a batch, it sends the signatures made so far at least this
 * often (ms): a round can answer them while it makes the rest.
 */
export const ANNOUNCE_EVERY_MS = 2;
/** A thread with nothing to do for this long ends (ms); the next use starts a new one. */
const IDLE_MS = 10_000;

/** What the replica does with the thread's output. */
export interface SigningWorkerHooks {
  /** Signatures arrived (the replica asks for a round to answer them). */
  onSigned: () => void;
  /** Pre-signatures arrived (the replica stores them in its pools). */
  onDealt: (batch: DealtPreSignature[]) => void;
  /** The thread ended with orders outstanding (the pools place them again). */
  onLost: () => void;
}

/** The host side of the signing worker thread. */
export class SigningWorker implements PreSignatureDealer {
  readonly #hooks: SigningWorkerHooks;
  #worker: Worker | null = null;
  #ready = false;
  #closed = false;
  readonly #pending = new Map<number, (r: SigningResult) => void>();
  #outbox: { id: number; job: SingleNodeSigningJob }[] = [];
  #next = 0;
  /** Pre-signatures ordered and not arrived. */
  #ordered = 0;
  #idle: NodeJS.Timeout | null = null;

  constructor(hooks: SigningWorkerHooks) {
    this.#hooks = hooks;
  }

  /** Whether the thread takes work now; starts it if it is not running (false until it is ready). */
  available(): boolean {
    if (this.#closed) return false;
    if (!this.#worker) this.#start();
    return this.#ready;
  }

  /**
   * Signs a job on the thread (call only while {@link available}).
   * @returns the 64-byte signature
   * @throws (rejects) Error with the thread's message if signing failed, or if the thread ended
   */
  sign(job: SingleNodeSigningJob): Promise<Uint8Array> {
    if (!this.#worker || this.#closed) return Promise.reject(new Error('signing worker not running'));
    this.#busy();
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (r) => (r.ok ? resolve(r.bytes) : reject(new Error(r.message))));
      if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
      this.#outbox.push({ id, job });
    });
  }

  #flush(): void {
    const jobs = this.#outbox;
    this.#outbox = [];
    if (jobs.length > 0) this.#post({ type: 'sign', jobs });
  }

  /** Orders `count` pre-signatures of a key (see {@link PreSignatureDealer.order}). */
  order(key: SingleNodeKeyMaterial, count: number): void {
    if (!this.#worker || this.#closed) return;
    this.#busy();
    this.#ordered += count;
    this.#post({ type: 'order', key, count });
  }

  #post(m: SigningWorkerRequest): void {
    this.#worker?.postMessage(m);
  }

  #busy(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
  }

  #maybeIdle(): void {
    if (this.#pending.size > 0 || this.#ordered > 0 || this.#idle || this.#closed) return;
    this.#idle = setTimeout(() => {
      this.#idle = null;
      const w = this.#worker;
      if (!w || this.#pending.size > 0 || this.#ordered > 0) return;
      this.#worker = null;
      this.#ready = false;
      void w.terminate();
    }, IDLE_MS);
    this.#idle.unref();
  }

  #start(): void {
    const w = new Worker(new URL('./signing-worker-thread.ts', import.meta.url));
    w.unref();
    this.#worker = w;
    this.#ready = false;
    w.on('message', (m: SigningWorkerReply) => {
      if (this.#worker !== w) return;
      if (m.type === 'ready') {
        this.#ready = true;
        this.#maybeIdle();
      } else if (m.type === 'signed') {
        for (const r of m.results) {
          const done = this.#pending.get(r.id);
          this.#pending.delete(r.id);
          done?.(r);
        }
        // After the promises' reactions have recorded the results.
        queueMicrotask(() => queueMicrotask(() => this.#hooks.onSigned()));
        this.#maybeIdle();
      } else {
        this.#ordered = Math.max(0, this.#ordered - m.preSignatures.length);
        this.#hooks.onDealt(m.preSignatures);
        this.#maybeIdle();
      }
    });
    const fail = (message: string) => {
      if (this.#worker !== w) return; // ended on purpose (idle, closed) or already replaced
      this.#worker = null;
      this.#ready = false;
      this.#ordered = 0;
      for (const [id, done] of this.#pending) done({ id, ok: false, message });
      this.#pending.clear();
      this.#hooks.onLost();
      this.#hooks.onSigned();
    };
    w.on('error', (e) => fail(`signing worker failed: ${e.message}`));
    w.on('exit', (code) => fail(`signing worker exited (${code})`));
  }

  /** Ends the thread; pending jobs reject. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    const w = this.#worker;
    this.#worker = null;
    this.#ready = false;
    for (const [id, done] of this.#pending) done({ id, ok: false, message: 'signing worker closed' });
    this.#pending.clear();
    if (w) await w.terminate();
  }
}
