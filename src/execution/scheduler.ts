/**
 * Rounds: the replica's unit of progress (like a block). Messages submitted between rounds are
 * executed together in the next round; the round's state changes are committed to SQLite in one
 * transaction before anyone waiting is woken, so everything a client is told has been made
 * durable first. The replica certifies a round's state (one BLS signature per round, not one per
 * request) when a certificate of it is first needed.
 *
 * A round is scheduled on the next macrotask after a submission, so a burst of concurrent requests
 * shares one round. A round takes at most {@link MAX_INGRESS_MESSAGES_PER_ROUND} messages (the
 * replica's block limit) and, from the previous rounds' cost per message, no more than fit in
 * {@link ROUND_BUDGET_MS}: execution is synchronous in this one process, so a round of thousands of
 * messages would keep the HTTP interface (status, queries, new connections) waiting for seconds.
 * The rest waits for the next round; what waits is the ingress pool the HTTP layer bounds.
 * In manual mode (PocketIC's `tick`) nothing is scheduled: a round runs only when `runEmptyRound`
 * is called, and takes every queued message.
 */
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { IngressMessage } from './ingress-message.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Most ingress messages in one round: the replica's `max_ingress_messages_per_block` (1000). */
export const MAX_INGRESS_MESSAGES_PER_ROUND = 1000;
/** Wall-time target of one round's ingress execution (ms); sizes batches from recent cost per message. */
export const ROUND_BUDGET_MS = 100;

/** What a round does, supplied by the replica (execution + commit). */
export interface RoundDriver {
  /**
   * Executes the messages and commits state. Must not throw for a message's own failure
   * (those become rejects); a throw means the round could not commit (a host fault).
   * @param messages the inducted messages, in arrival order.
   * @returns the wall time spent executing the ingress messages themselves (ms), which sizes
   *   later rounds; the round's fixed costs (commit, chain-key step) are left out of it.
   */
  executeRound(messages: IngressMessage[]): Promise<number | void>;
  /** The current history entry for a request id. */
  ingressStatus(requestId: Uint8Array): IngressRecord | undefined;
}

/** Batches ingress messages into rounds and lets callers wait for a request's completion. */
export class Scheduler {
  readonly #driver: RoundDriver;
  #queue: IngressMessage[] = [];
  #queuedBytes = 0;
  /**
   * Smoothed wall time per ingress message of recent rounds (ms), for sizing batches; starts at
   * 10 ms, so a first burst is taken 10 at a time until the real cost is known.
   */
  #msPerMessage = 10;
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
    this.#queuedBytes += messageBytes(msg);
    this.#schedule();
  }

  /** Messages accepted and not yet taken into a round (the ingress pool). */
  get queuedCount(): number {
    return this.#queue.length;
  }

  /** Their size: argument, method name and the fixed fields (bytes). */
  get queuedBytes(): number {
    return this.#queuedBytes;
  }

  /** How many queued messages the next round takes (at least one, at most the block limit). */
  #batchSize(): number {
    const fit = Math.floor(ROUND_BUDGET_MS / this.#msPerMessage);
    return Math.max(1, Math.min(MAX_INGRESS_MESSAGES_PER_ROUND, fit));
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
    // Manual mode (PocketIC's tick) keeps its meaning: one tick executes everything submitted.
    const batch = this.#queue.splice(0, this.#manual ? this.#queue.length : this.#batchSize());
    for (const m of batch) this.#queuedBytes -= messageBytes(m);
    this.#roundRequested = false;
    this.#running = (async () => {
      try {
        const executionMs = await this.#driver.executeRound(batch);
        if (batch.length > 0 && typeof executionMs === 'number') {
          this.#msPerMessage = Math.max(0.01, 0.5 * this.#msPerMessage + 0.5 * (executionMs / batch.length));
        }
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

/** A queued message's size as the pool counts it (bytes): argument, method name, fixed fields. */
function messageBytes(m: IngressMessage): number {
  return m.arg.length + m.methodName.length + 128;
}
