/**
 * Threshold signing and pre-signature dealing of single-node keys off the main thread: a worker
 * thread (signing-worker-thread.ts) makes ECDSA / BIP340 / Ed25519 signatures from the
 * pre-signatures the replica hands it, and deals the pre-signatures the pools order, while the
 * replica's thread executes canisters. The replica keeps every record: pre-signatures are stored
 * when they arrive and erased in the transaction that commits their signature's response, and a
 * request whose signature was in flight at a crash is signed again after the restart (from the
 * still-stored pre-signature or another). Jobs of one tick go over in one message.
 *
 * Results come back on their own port, which the replica also reads synchronously
 * ({@link SigningWorker.collect}) at the points of a round where it answers requests: a round
 * that is busy executing canisters still picks up the signatures finished meanwhile, instead of
 * leaving them to the round after (the port's message events only run between rounds).
 *
 * The thread starts on first use and ends when idle; until it says it is ready
 * ({@link SigningWorker.available} false) the replica signs and deals on its own thread as before.
 */
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { DealtPreSignature, PreSignatureDealer, SingleNodeKeyMaterial, SingleNodeSigningJob } from './idkg/single-node-signing.ts';

/** Messages to the thread. */
export type SigningWorkerRequest =
  | { type: 'sign'; jobs: { id: number; job: SingleNodeSigningJob }[] }
  | { type: 'order'; key: SingleNodeKeyMaterial; count: number };

/** A signing job's answer: the 64-byte signature or the error text. */
export type SigningResult = { id: number; ok: true; bytes: Uint8Array } | { id: number; ok: false; message: string };

/** Messages from the thread (on the results port it is given as `workerData.results`). */
export type SigningWorkerReply =
  | { type: 'ready' }
  | { type: 'signed'; results: SigningResult[] }
  | { type: 'dealt'; preSignatures: DealtPreSignature[] };

/**
 * While the thread works through a batch, it sends the signatures made so far at least this
 * often (ms): a round can answer them while it makes the rest.
 */
export const ANNOUNCE_EVERY_MS = 1;
/** A thread with nothing to do for this long ends (ms); the next use starts a new one. */
const IDLE_MS = 10_000;
/** After the thread failed, the replica signs on its own thread this long before starting another (ms). */
const RESTART_AFTER_MS = 5_000;

/** What the replica does with the thread's output. */
export interface SigningWorkerHooks {
  /** Signatures arrived between rounds (the replica asks for a round to answer them). */
  onSigned: () => void;
  /** Pre-signatures arrived (the replica adds them to its pools). */
  onDealt: (batch: DealtPreSignature[]) => void;
  /** The thread ended with orders outstanding (the pools place them again). */
  onLost: () => void;
}

/** The host side of the signing worker thread. */
export class SigningWorker implements PreSignatureDealer {
  readonly #hooks: SigningWorkerHooks;
  #worker: Worker | null = null;
  #results: MessagePort | null = null;
  #ready = false;
  #closed = false;
  readonly #pending = new Map<number, (r: SigningResult) => void>();
  #outbox: { id: number; job: SingleNodeSigningJob }[] = [];
  #next = 0;
  /** Pre-signatures ordered and not arrived. */
  #ordered = 0;
  #idle: NodeJS.Timeout | null = null;
  /** When the last thread failed (performance.now()), if one did. */
  #failedAt = -Infinity;
  /** Waiters of {@link settled}. */
  #settledWaiters: (() => void)[] = [];

  constructor(hooks: SigningWorkerHooks) {
    this.#hooks = hooks;
  }

  /** Whether the thread takes work now; starts it if it is not running (false until it is ready). */
  available(): boolean {
    if (this.#closed) return false;
    if (!this.#worker) {
      if (performance.now() - this.#failedAt < RESTART_AFTER_MS) return false;
      this.#start();
    }
    return this.#ready;
  }

  /**
   * Signs a job on the thread (call only while {@link available}); `done` gets the 64-byte
   * signature, or the error text if signing failed or the thread ended. It is called from a
   * port event or from {@link collect}, never from inside this call.
   */
  sign(job: SingleNodeSigningJob, done: (r: SigningResult) => void): void {
    const id = this.#next++;
    if (!this.#worker || this.#closed) {
      queueMicrotask(() => done({ id, ok: false, message: 'signing worker not running' }));
      return;
    }
    this.#busy();
    this.#pending.set(id, done);
    if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
    this.#outbox.push({ id, job });
  }

  /** {@link sign} as a promise (rejects with the error text). */
  signAsync(job: SingleNodeSigningJob): Promise<Uint8Array> {
    return new Promise((resolve, reject) => this.sign(job, (r) => (r.ok ? resolve(r.bytes) : reject(new Error(r.message)))));
  }

  /**
   * Resolves once every job handed over so far has its result (taken with {@link collect} or
   * its port event), or after `ms` milliseconds, whichever is first.
   */
  settled(ms: number): Promise<void> {
    this.collect();
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#settledWaiters.push(done);
    });
  }

  #wakeSettled(): void {
    if (this.#pending.size > 0 || this.#settledWaiters.length === 0) return;
    const waiters = this.#settledWaiters;
    this.#settledWaiters = [];
    for (const w of waiters) w();
  }

  /** Takes every result that has arrived, now (results and dealt pre-signatures are handled as if their events ran). */
  collect(): void {
    const port = this.#results;
    if (!port) return;
    for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) this.#handle(m.message as SigningWorkerReply, false);
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
      if (!this.#worker || this.#pending.size > 0 || this.#ordered > 0) return;
      this.#stop();
    }, IDLE_MS);
    this.#idle.unref();
  }

  #handle(m: SigningWorkerReply, fromEvent: boolean): void {
    if (m.type === 'ready') {
      this.#ready = true;
    } else if (m.type === 'signed') {
      for (const r of m.results) {
        const done = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        done?.(r);
      }
      this.#wakeSettled();
      if (fromEvent) this.#hooks.onSigned();
    } else {
      this.#ordered = Math.max(0, this.#ordered - m.preSignatures.length);
      this.#hooks.onDealt(m.preSignatures);
    }
    this.#maybeIdle();
  }

  #start(): void {
    const { port1, port2 } = new MessageChannel();
    const w = new Worker(new URL('./signing-worker-thread.ts', import.meta.url), { workerData: { results: port2 }, transferList: [port2] });
    w.unref();
    port1.unref();
    this.#worker = w;
    this.#results = port1;
    this.#ready = false;
    port1.on('message', (m: SigningWorkerReply) => {
      if (this.#worker === w) this.#handle(m, true);
    });
    const fail = (message: string) => {
      if (this.#worker !== w) return; // ended on purpose (idle, closed) or already replaced
      console.error(`chainkey-replica: ${message}; signing on the main thread for ${RESTART_AFTER_MS / 1000} s`);
      this.#failedAt = performance.now();
      this.#stop();
      this.#ordered = 0;
      for (const [id, done] of this.#pending) done({ id, ok: false, message });
      this.#pending.clear();
      this.#wakeSettled();
      this.#hooks.onLost();
      this.#hooks.onSigned();
    };
    w.on('error', (e) => fail(`signing worker failed: ${e.message}`));
    w.on('exit', (code) => fail(`signing worker exited (${code})`));
  }

  /** Forgets the thread and ends it. */
  #stop(): Promise<number> | undefined {
    const w = this.#worker;
    this.#results?.close();
    this.#worker = null;
    this.#results = null;
    this.#ready = false;
    return w?.terminate();
  }

  /** Ends the thread; pending jobs get the error 'signing worker closed'. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#idle) clearTimeout(this.#idle);
    const ended = this.#stop();
    for (const [id, done] of this.#pending) done({ id, ok: false, message: 'signing worker closed' });
    this.#pending.clear();
    this.#wakeSettled();
    await ended;
  }
}
