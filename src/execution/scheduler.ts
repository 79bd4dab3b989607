/**
 * Rounds: the replica's unit of progress (like a block). Messages submitted between rounds are
 * executed together in the next round; the round's state changes are committed to SQLite in one
 * transaction before anyone waiting is woken, so everything a client is told has been made
 * durable first. The replica certifies a round's state (one BLS signature per round, not one per
 * request) when a certificate of it is first needed.
 *
 * A round is scheduled on the next macrotask after a submission, so a burst of concurrent requests
 * shares one round. In manual mode (PocketIC's `tick`) nothing is scheduled: a round runs only
 * when `runEmptyRound` is called.
 */
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { IngressMessage } from './ingress-message.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What a round does, supplied by the replica (execution + commit). */
export interface RoundDriver {
  /**
   * Executes the messages and commits state. Must not throw for a message's own failure
   * (those become rejects); a throw means the round could not commit (a host fault).
   * @param messages the inducted messages, in arrival order.
   */
  executeRound(messages: IngressMessage[]): Promise<void>;
  /** The current history entry for a request id. */
  ingressStatus(requestId: Uint8Array): IngressRecord | undefined;
}

/** Batches ingress messages into rounds and lets callers wait for a request's completion. */
export class Scheduler {
  readonly #driver: RoundDriver;
  #queue: IngressMessage[] = [];
  #running: Promise<void> | null = null;
  #scheduled = false;
  #stopped = false;
  #roundRequested = false;
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #onFault: (e: unknown) => void;
  readonly #manual: boolean;

  /**
   * @param driver executes and commits rounds.
   * @param onFault called if a round fails to commit (the replica stops: its state on disk is
   *   still the last committed round).
   * @param options `manual`: never schedule a round by itself; rounds run only through `runEmptyRound`.
   */
  constructor(driver: RoundDriver, onFault: (e: unknown) => void, options: { manual?: boolean } = {}) {
    this.#driver = driver;
    this.#onFault = onFault;
    this.#manual = options.manual ?? false;
  }

  /** Queues a message for the next round. */
  submit(msg: IngressMessage): void {
    if (this.#stopped) throw new Error('scheduler stopped');
    this.#queue.push(msg);
    this.#schedule();
  }

  /** Schedules a round even with no new ingress (queued canister messages, a due timer). */
  requestRound(): void {
    if (this.#stopped) return;
    this.#roundRequested = true;
    this.#schedule();
  }

  /**
   * Runs one round now (after the running one, if any) with whatever is queued, even nothing
   * (e.g. to certify a fresh `/time`, or a PocketIC `tick`). Resolves after it.
   */
  async runEmptyRound(): Promise<void> {
    if (this.#running) await this.#running;
    if (this.#running) await this.#running;
    await this.#runRound();
  }

  /** Resolves when the running round (if any) has finished. */
  async idle(): Promise<void> {
    while (this.#running || this.#scheduled) {
      if (this.#running) await this.#running;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Waits until the request is replied or rejected, or `timeoutMs` passes.
   * @returns the final history entry, or undefined on timeout.
   */
  async waitForCompletion(requestId: Uint8Array, timeoutMs: number): Promise<IngressRecord | undefined> {
    const done = (): IngressRecord | undefined => {
      const e = this.#driver.ingressStatus(requestId);
      return e && (e.status === 'replied' || e.status === 'rejected' || e.status === 'done') ? e : undefined;
    };
    const now = done();
    if (now) return now;
    const key = hex(requestId);
    return await new Promise<IngressRecord | undefined>((resolve) => {
      let set = this.#waiters.get(key);
      if (!set) this.#waiters.set(key, (set = new Set()));
      const waiter = (): void => {
        const e = done();
        if (e) finish(e);
      };
      const timer = setTimeout(() => finish(undefined), timeoutMs);
      const finish = (e: IngressRecord | undefined): void => {
        clearTimeout(timer);
        set.delete(waiter);
        if (set.size === 0) this.#waiters.delete(key);
        resolve(e);
      };
      set.add(waiter);
    });
  }

  /** Stops scheduling; waits for the running round. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.idle();
  }

  #schedule(): void {
    if (this.#manual || this.#scheduled || this.#running) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#runRound();
    });
  }

  async #runRound(): Promise<void> {
    if (this.#running) return this.#running;
    const batch = this.#queue;
    this.#queue = [];
    this.#roundRequested = false;
    this.#running = (async () => {
      try {
        await this.#driver.executeRound(batch);
      } catch (e) {
        this.#stopped = true;
        this.#onFault(e);
        return;
      } finally {
        this.#running = null;
      }
      // A request can finish in a later round than the one that inducted it (after its calls
      // return), so every waiter re-checks its request after each round.
      for (const set of [...this.#waiters.values()]) for (const w of [...set]) w();
      if ((this.#queue.length > 0 || this.#roundRequested) && !this.#stopped) this.#schedule();
    })();
    return this.#running;
  }
}
