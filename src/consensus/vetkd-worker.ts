/**
 * vetKD encrypted keys off the main thread: a worker thread (vetkd-worker-thread.ts) computes
 * them while the replica's thread executes canisters, so a `vetkd_derive_key` costs the main
 * thread only the hand-over (its pairing and group work, a few ms on mcl-wasm, runs on the other
 * core). The jobs of one turn of the event loop go over in one message; the worker answers the
 * jobs it takes together in one message. The chain-key payload builder submits a request once and answers it in the first round
 * after the result arrived; nothing is persisted here (a result lost in a crash is recomputed:
 * the request is still in flight after the restart).
 */
import { Worker } from 'node:worker_threads';
import type { SecretShare } from '../crypto/threshold/key-transcript.ts';
import type { VetKdDerivationInputs } from '../crypto/threshold/vetkd-encrypted-key.ts';

/** One request's work: the public inputs, every node's share, and t. */
export interface VetKdJob {
  id: number;
  inputs: VetKdDerivationInputs;
  shares: SecretShare[];
  threshold: number;
}

/** A job's answer: E1 ‖ E2 ‖ E3 (192 bytes) or the error text. Messages carry arrays of jobs and of results. */
export type VetKdResult = { id: number; ok: true; bytes: Uint8Array } | { id: number; ok: false; message: string };

/**
 * While more jobs are out, results are announced together at most this often (ms): one round
 * then answers a batch instead of one request each (the last result is announced at once).
 */
const ANNOUNCE_EVERY_MS = 4;
/** A worker with nothing to do for this long ends (ms); the next job starts a new one. */
const IDLE_MS = 10_000;

/**
 * The host side: one worker thread, started on the first job, ended when idle for
 * {@link IDLE_MS} (its isolate and mcl heap are tens of MiB) or by {@link close}.
 */
export class VetKdWorker {
  #worker: Worker | null = null;
  readonly #pending = new Map<number, (r: VetKdResult) => void>();
  #next = 0;
  #closed = false;
  readonly #onResult: () => void;
  #announce: NodeJS.Timeout | null = null;
  /** Jobs of this turn of the event loop, sent to the worker together in one message. */
  #outbox: VetKdJob[] = [];
  #idle: NodeJS.Timeout | null = null;

  /** @param onResult called after results arrive (the replica asks for a round) */
  constructor(onResult: () => void) {
    this.#onResult = onResult;
  }

  #announceResults(): void {
    if (this.#pending.size === 0) {
      if (this.#announce) clearTimeout(this.#announce);
      this.#announce = null;
      this.#onResult();
      this.#idle = setTimeout(() => this.#stopIdle(), IDLE_MS);
      this.#idle.unref();
      return;
    }
    this.#announce ??= setTimeout(() => {
      this.#announce = null;
      this.#onResult();
    }, ANNOUNCE_EVERY_MS);
  }

  #stopIdle(): void {
    this.#idle = null;
    const w = this.#worker;
    if (!w || this.#pending.size > 0) return;
    this.#worker = null;
    void w.terminate();
  }

  /**
   * Computes an encrypted key in the worker.
   * @returns the 192 bytes
   * @throws (rejects) Error with the worker's message if the computation failed, or if the
   *   worker ended (closed, crashed)
   */
  encryptedKey(inputs: VetKdDerivationInputs, shares: readonly SecretShare[], threshold: number): Promise<Uint8Array> {
    if (this.#closed) return Promise.reject(new Error('vetKD worker closed'));
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = null;
    this.#start(); // boots while the job waits for the end of this turn
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, (r) => (r.ok ? resolve(r.bytes) : reject(new Error(r.message))));
      if (this.#outbox.length === 0) queueMicrotask(() => this.#flush());
      this.#outbox.push({ id, inputs, shares: [...shares], threshold });
    });
  }

  #flush(): void {
    // A job whose worker ended meanwhile has already failed (see #start, #close).
    const jobs = this.#outbox.filter((j) => this.#pending.has(j.id));
    this.#outbox = [];
    if (jobs.length > 0) this.#start().postMessage(jobs);
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const w = new Worker(new URL('./vetkd-worker-thread.ts', import.meta.url));
    w.unref();
    w.on('message', (results: VetKdResult[]) => {
      for (const r of results) {
        const done = this.#pending.get(r.id);
        this.#pending.delete(r.id);
        done?.(r);
      }
      this.#announceResults();
    });
    const fail = (message: string) => {
      if (this.#worker !== w) return; // ended on purpose (idle, closed) or already replaced
      this.#worker = null;
      for (const [id, done] of this.#pending) done({ id, ok: false, message });
      this.#pending.clear();
      this.#onResult();
    };
    w.on('error', (e) => fail(`vetKD worker failed: ${e.message}`));
    w.on('exit', (code) => fail(`vetKD worker exited (${code})`));
    this.#worker = w;
    return w;
  }

  /** Ends the worker; pending jobs reject. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of [this.#announce, this.#idle]) if (t) clearTimeout(t);
    const w = this.#worker;
    this.#worker = null;
    for (const [id, done] of this.#pending) done({ id, ok: false, message: 'vetKD worker closed' });
    this.#pending.clear();
    if (w) await w.terminate();
  }
}
