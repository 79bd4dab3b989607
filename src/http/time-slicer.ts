/**
 * Runs synchronous request work in slices of at most a few milliseconds per turn of the event
 * loop. A burst of calls would otherwise be validated and inducted all in one turn (envelope
 * decoding, authentication, the canister's inspect_message), holding up for hundreds of
 * milliseconds the status probes, queries and new connections waiting behind it; between slices
 * the loop accepts connections and answers them.
 */

/** A FIFO of synchronous jobs run in time slices. */
export class TimeSlicer {
  readonly #sliceMs: number;
  #jobs: (() => void)[] = [];
  #head = 0;
  #scheduled = false;

  /** @param sliceMs how long one slice may run (ms) before the loop gets a turn. */
  constructor(sliceMs: number) {
    this.#sliceMs = sliceMs;
  }

  /** Runs `fn` in a later slice, in arrival order; resolves (or rejects) with its outcome. */
  run<T>(fn: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#jobs.push(() => {
        try {
          resolve(fn());
        } catch (e) {
          reject(e);
        }
      });
      this.#kick();
    });
  }

  #kick(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#slice());
  }

  #slice(): void {
    this.#scheduled = false;
    const t0 = performance.now();
    while (this.#head < this.#jobs.length && performance.now() - t0 < this.#sliceMs) this.#jobs[this.#head++]!();
    if (this.#head === this.#jobs.length) {
      this.#jobs = [];
      this.#head = 0;
    } else this.#kick();
  }
}
