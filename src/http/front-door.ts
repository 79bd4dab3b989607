/**
 * The front door: the listening socket lives in a thread of its own (front-door-worker.ts), so a
 * burst of thousands of connections is accepted, and status probes and the excess over an
 * endpoint's concurrency limit are answered, while the main thread executes rounds. Connections
 * that need the replica are forwarded to the main thread's `node:http` server as
 * {@link ForwardedSocket}s (a Duplex per connection, bytes passed as messages), so every route
 * behaves as on a plain server (keep-alive, bodies, the gateway, the dashboard).
 *
 * Why (measured, issue 15): with the listener on the main thread, a 5,000-connection burst kept
 * the event loop busy for up to 1.8 s at a time (accepting and parsing the burst, rounds and
 * certification of the admitted calls), and status probes waited behind it (p99 1–30 s).
 */
import { Duplex } from 'node:stream';
import type { Server } from 'node:http';
import { Worker } from 'node:worker_threads';
import { frontDoorThread, LIMIT_FLAG, type FrontDoorData, type ToDoor } from './front-door-worker.ts';
import { CONCURRENCY_OVERLOADED, LIMITED_ENDPOINT, overloadedResponseBytes, type EndpointKind } from './load-shedding.ts';
import { httpLine } from './request-log.ts';

/** Options of {@link openFrontDoor}. */
export interface FrontDoorOptions {
  host: string;
  /** TCP port; 0 picks a free one. */
  port: number;
  /** Pending-connection queue of the listening socket (capped by the kernel's somaxconn). */
  backlog: number;
  /** The server that serves forwarded connections (never listens itself). */
  server: Server;
  /** The status body (CBOR) to answer probes with until {@link FrontDoor.setStatusBody}. */
  statusBody: Uint8Array;
  /** Request log sink for the requests refused in the front door's thread. */
  requestLog?: ((line: string) => void) | undefined;
}

/** A listening front door. */
export interface FrontDoor {
  /** The bound port. */
  readonly port: number;
  /** Marks an endpoint kind as at (or below) its concurrency limit: its POSTs are then shed at the door. */
  setAtLimit(kind: EndpointKind, atLimit: boolean): void;
  /** The status body (CBOR) probes get from now on (after each certification: a new height). */
  setStatusBody(body: Uint8Array): void;
  /** Stops listening, closes every connection and ends the thread. */
  close(): Promise<void>;
}

type FromDoor =
  | { t: 'listening'; port: number }
  | { t: 'error'; code?: string; message: string; syscall?: string; errno?: number }
  | { t: 'open' | 'end' | 'gone' | 'idle'; c: number }
  | { t: 'data'; c: number; b: Uint8Array }
  | { t: 'shed'; method: string; path: string }
  | { t: 'closed' };

/**
 * The bytes of a view in an ArrayBuffer of their own. Posting a view clones its whole ArrayBuffer
 * (a pooled slab, or an encoder's working buffer of megabytes): measured, that made posting the
 * responses of a burst cost 1.7 s of the main thread; a fitted copy is then transferred, not cloned.
 */
export function exactCopy(b: Uint8Array): Uint8Array {
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return copy;
}

/**
 * A connection accepted by the front door, as the main thread's HTTP server sees it: what the
 * client sends is pushed in, what the server writes is posted to the door's thread.
 *
 * The idle timeout (`setTimeout`, which `node:http` sets between the requests of a kept-alive
 * connection) is kept by the door's thread, not by a timer here: the door sees the client's bytes
 * as they come, while this thread may run seconds late (a busy round on a loaded machine). A timer
 * here fired before the message carrying the client's next request was read, and the connection
 * was closed under a request already sent ("socket hang up"). The door arms the timeout only if it
 * has forwarded no bytes beyond those this side had seen when setting it, disarms it on the
 * client's next byte, and when it fires closes the connection itself (as `node:http` does on a
 * keep-alive timeout) and tells this side, which then emits `timeout`.
 */
export class ForwardedSocket extends Duplex {
  readonly remoteAddress = '127.0.0.1';
  readonly #post: (m: ToDoor) => void;
  readonly #id: number;
  #gone = false;
  /** Bytes received from the client so far. */
  #seen = 0;
  /** The last idle timeout posted to the door (0: off) and {@link #seen} then. */
  #armedMs = 0;
  #armedSeen = 0;

  constructor(id: number, post: (m: ToDoor) => void) {
    super({ allowHalfOpen: true });
    this.#id = id;
    this.#post = post;
  }

  /** Bytes from the client. */
  received(b: Uint8Array): void {
    this.#seen += b.byteLength;
    this.push(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
  }

  /** The door closed the connection after its idle timeout: emits `timeout` (then {@link gone} follows). */
  timedOut(): void {
    if (!this.#gone) this.emit('timeout');
  }

  /** The client closed the connection (or it failed): no more reads or writes. */
  gone(): void {
    this.#gone = true;
    this.destroy();
  }

  override _read(): void {}

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (!this.#gone) this.#post({ t: 'w', c: this.#id, b: exactCopy(chunk) });
    callback();
  }

  override _writev(chunks: { chunk: Buffer }[], callback: (error?: Error | null) => void): void {
    if (!this.#gone) this.#post({ t: 'w', c: this.#id, b: exactCopy(Buffer.concat(chunks.map((c) => c.chunk))) });
    callback();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#gone) this.#post({ t: 'e', c: this.#id });
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    if (!this.#gone) {
      this.#gone = true;
      this.#post({ t: 'd', c: this.#id });
    }
    callback(error);
  }

  /**
   * As `net.Socket#setTimeout`: `timeout` after `ms` without traffic (0 turns it off), except that
   * the door's thread keeps the timer and closes the connection when it fires (see the class comment).
   */
  setTimeout(ms: number, listener?: () => void): this {
    if (listener) this.once('timeout', listener);
    // Turning the timeout off is left out when the door's timer is off already: it was never
    // armed, or the client sent bytes since it was (the door disarms it on those itself). This
    // spares a message per request (`node:http` turns the timeout off when a request arrives).
    const off = ms === 0 && (this.#armedMs === 0 || this.#seen !== this.#armedSeen);
    if (!this.#gone && !off) {
      this.#post({ t: 't', c: this.#id, ms, seen: this.#seen });
      this.#armedMs = ms;
      this.#armedSeen = this.#seen;
    }
    return this;
  }

  setNoDelay(): this {
    return this;
  }

  setKeepAlive(): this {
    return this;
  }
}

/** The front door's thread, started (its modules loading) but not yet listening. */
export interface FrontDoorThread {
  /**
   * Listens on `host:port` and forwards to `options.server`.
   * @throws the listen error (e.g. `EADDRINUSE`, with its `code`) if the port cannot be bound
   *   (the thread has then ended).
   */
  listen(options: FrontDoorOptions): Promise<FrontDoor>;
  /** Ends the thread without listening (the replica failed to open). */
  terminate(): Promise<void>;
}

/**
 * Starts the front door's thread. Starting it before the replica opens its state overlaps the
 * thread's start-up (tens of ms) with that work.
 */
export function startFrontDoorThread(): FrontDoorThread {
  const worker = new Worker(`(${frontDoorThread.toString()})(require('node:net'), require('node:worker_threads'))`, { eval: true });
  // Until it listens, a failure to start surfaces at `listen`.
  let failed: unknown;
  const onEarlyError = (e: unknown): void => {
    failed = e;
  };
  worker.once('error', onEarlyError);
  return {
    terminate: async () => {
      await worker.terminate();
    },
    listen: (options) => {
      worker.off('error', onEarlyError);
      if (failed) return Promise.reject(failed);
      return listen(worker, options);
    },
  };
}

async function listen(worker: Worker, options: FrontDoorOptions): Promise<FrontDoor> {
  const limits = new SharedArrayBuffer(3 * Int32Array.BYTES_PER_ELEMENT);
  const flags = new Int32Array(limits);
  const data: FrontDoorData = {
    host: options.host,
    port: options.port,
    backlog: options.backlog,
    limits,
    endpointPattern: LIMITED_ENDPOINT.source,
    overloadedResponse: overloadedResponseBytes(),
    statusBody: options.statusBody,
    log: options.requestLog !== undefined,
  };
  const sockets = new Map<number, ForwardedSocket>();
  const post = (m: ToDoor): void => worker.postMessage(m, m.t === 'w' ? [m.b.buffer as ArrayBuffer] : []);
  let closed: (() => void) | undefined;
  const port = await new Promise<number>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromDoor) => {
      switch (m.t) {
        case 'open': {
          const s = new ForwardedSocket(m.c, post);
          sockets.set(m.c, s);
          s.once('close', () => sockets.delete(m.c));
          options.server.emit('connection', s);
          break;
        }
        case 'data':
          sockets.get(m.c)?.received(m.b);
          break;
        case 'end':
          sockets.get(m.c)?.push(null);
          break;
        case 'idle':
          sockets.get(m.c)?.timedOut();
          break;
        case 'gone':
          sockets.get(m.c)?.gone();
          break;
        case 'shed':
          options.requestLog?.(httpLine(429, m.method, m.path, CONCURRENCY_OVERLOADED));
          break;
        case 'listening':
          worker.off('error', reject);
          resolve(m.port);
          break;
        case 'error':
          reject(Object.assign(new Error(m.message), { code: m.code, syscall: m.syscall, errno: m.errno }));
          void worker.terminate();
          break;
        case 'closed':
          closed?.();
          break;
      }
    });
    worker.postMessage(data);
  });
  let closing: Promise<void> | undefined;
  return {
    port,
    setAtLimit: (kind, atLimit) => {
      if (kind !== 'status') Atomics.store(flags, LIMIT_FLAG[kind === 'readState' ? 'read_state' : kind], atLimit ? 1 : 0);
    },
    setStatusBody: (body) => worker.postMessage({ t: 'status', body }),
    close: () =>
      (closing ??= (async () => {
        await new Promise<void>((resolve) => {
          closed = resolve;
          worker.postMessage({ t: 'close' });
        });
        for (const s of sockets.values()) s.gone();
        await worker.terminate();
      })()),
  };
}
