/**
 * The front door's thread (front-door.ts starts it): owns the listening socket, so accepting
 * connections never waits for the main thread's rounds, and triages each connection from its
 * first bytes, before any HTTP parser or request object exists:
 *
 * - `GET /api/v2/status` (complete header block, no body) is answered here with the status body
 *   the main thread sends after each certification; the connection then stays here for its next
 *   request (or is closed if the client asked to);
 * - a POST to call / query / read_state while that endpoint is at its concurrency limit (a flag
 *   in shared memory kept by the main thread's LoadShedder) gets the replica's 429 at once and the
 *   connection is closed — the rest of the body is read and dropped, so the close is a FIN, not a
 *   reset;
 * - anything else is forwarded to the main thread's HTTP server byte for byte (front-door.ts),
 *   and the connection stays forwarded.
 *
 * {@link frontDoorThread} is self-contained (no imports; its inputs come in {@link FrontDoorData}):
 * front-door.ts runs its source as the thread's script, so the thread starts without loading
 * TypeScript support or modules (a thread that imports .ts files took 60–140 ms more to start).
 *
 * Messages: from main first the {@link FrontDoorData}, then `status` (a new status body),
 * `w`/`e`/`d`/`t` (write, end, destroy, idle timeout of a forwarded connection) and `close`; to
 * main `listening` or `error`, `open`/`data`/`end`/`idle`/`gone` per forwarded connection,
 * `shed` (a refusal, for the request log) and `closed`.
 */
import type * as Net from 'node:net';
import type * as WorkerThreads from 'node:worker_threads';

/** Int32 index in {@link FrontDoorData.limits} of each endpoint's at-limit flag (1 = at its limit). */
export const LIMIT_FLAG = { call: 0, query: 1, read_state: 2 } as const;

/** What the main thread posts to the thread about a forwarded connection. */
export type ToDoor =
  | { t: 'w'; c: number; b: Uint8Array }
  | { t: 'e' | 'd'; c: number }
  /** Idle timeout `ms` (0: none), set when the main thread had seen `seen` bytes of the client's. */
  | { t: 't'; c: number; ms: number; seen: number };

/** What the main thread sends the thread to make it listen. */
export interface FrontDoorData {
  host: string;
  port: number;
  backlog: number;
  /** Int32Array[3] over shared memory: the {@link LIMIT_FLAG}s. */
  limits: SharedArrayBuffer;
  /** Source of the RegExp whose group 1 is `call`, `query` or `read_state` for a limited POST target. */
  endpointPattern: string;
  /** The whole 429 response (status line, headers, body). */
  overloadedResponse: Uint8Array;
  /** The status body (CBOR) at the time of listening. */
  statusBody: Uint8Array;
  /** Whether to report refusals (`shed` messages) for the request log. */
  log: boolean;
}

/**
 * The thread's script (see the module comment); started by front-door.ts as
 * `(<source>)(require('node:net'), require('node:worker_threads'))`.
 */
export function frontDoorThread(net: typeof Net, threads: typeof WorkerThreads): void {
  /** Longest head (request line and headers) read before a connection is simply forwarded (bytes). */
  const MAX_PEEK_BYTES = 16 * 1024;
  /** Idle time after which a connection kept here (between status requests) is closed (ms). */
  const IDLE_MS = 5_000;
  const STATUS_TARGET = /^\/api\/v2\/status\/?(?:\?.*)?$/i;
  const CORS = 'access-control-allow-origin: *\r\naccess-control-allow-methods: GET, POST\r\naccess-control-allow-headers: Authorization, Accept, Content-Type\r\n';
  const port = threads.parentPort!;

  port.once('message', (data: FrontDoorData) => {
    const flags = new Int32Array(data.limits);
    const endpoint = new RegExp(data.endpointPattern);
    const overloaded = Buffer.from(data.overloadedResponse);
    const kindFlag: Record<string, number> = { call: 0, query: 1, read_state: 2 };
    let status = { keepAlive: [Buffer.alloc(0), Buffer.alloc(0)], close: [Buffer.alloc(0), Buffer.alloc(0)] };
    const setStatusBody = (b: Uint8Array): void => {
      const body = Buffer.from(b);
      const head = (connection: string) => Buffer.from(`HTTP/1.1 200 OK\r\n${CORS}content-type: application/cbor\r\nconnection: ${connection}\r\ncontent-length: ${body.length}\r\n\r\n`);
      status = { keepAlive: [head(`keep-alive\r\nkeep-alive: timeout=${IDLE_MS / 1000}`), body], close: [head('close'), body] };
    };
    setStatusBody(data.statusBody);

    /** A forwarded connection: its socket, the client's bytes posted so far, whether its idle timer is armed. */
    interface Forwarded {
      socket: Net.Socket;
      posted: number;
      idle: boolean;
    }
    const forwarded = new Map<number, Forwarded>();
    const sockets = new Set<Net.Socket>();
    let nextId = 1;

    /** Posts bytes read from a client: a fitted copy, transferred (a read buffer's slab would be cloned whole). */
    const postData = (f: Forwarded, c: number, b: Buffer): void => {
      // The client's next bytes end an idle wait: the main thread sets the timer again after its answer.
      if (f.idle) {
        f.idle = false;
        f.socket.setTimeout(0);
      }
      f.posted += b.byteLength;
      const copy = new Uint8Array(b.byteLength);
      copy.set(b);
      port.postMessage({ t: 'data', c, b: copy }, [copy.buffer]);
    };

    /** Hands the connection to the main thread, with the bytes read so far. */
    const forward = (socket: Net.Socket, pending: Buffer): void => {
      const c = nextId++;
      const f: Forwarded = { socket, posted: 0, idle: false };
      forwarded.set(c, f);
      socket.setTimeout(0);
      socket.removeAllListeners('timeout');
      // The idle timeout the main thread's server asked for: closed here, where the client's bytes
      // are seen as they come (the main thread may run seconds late; see ForwardedSocket).
      socket.on('timeout', () => {
        if (!f.idle) return;
        port.postMessage({ t: 'idle', c });
        socket.destroy();
      });
      port.postMessage({ t: 'open', c });
      if (pending.length > 0) postData(f, c, pending);
      socket.on('data', (b: Buffer) => postData(f, c, b));
      socket.on('end', () => port.postMessage({ t: 'end', c }));
      socket.on('close', () => {
        if (forwarded.delete(c)) port.postMessage({ t: 'gone', c });
      });
    };

    const server = net.createServer({ noDelay: true }, (socket) => {
      let pending: Buffer = Buffer.alloc(0);
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
      socket.on('error', () => socket.destroy());
      socket.setTimeout(IDLE_MS, () => socket.destroy());
      const drop = (): void => {
        socket.removeListener('data', onData);
        socket.on('data', () => {});
      };
      function onData(chunk: Buffer): void {
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        // Triage one request head at a time, as long as the connection stays here.
        for (;;) {
          const lineEnd = pending.indexOf('\r\n');
          if (lineEnd < 0) {
            if (pending.length > MAX_PEEK_BYTES) break;
            return;
          }
          const [method = '', target = '', version = ''] = pending.toString('latin1', 0, lineEnd).split(' ');
          if (method === 'POST') {
            const m = endpoint.exec(target);
            if (m && Atomics.load(flags, kindFlag[m[1]!]!) === 1) {
              // Over the endpoint's limit: the replica's 429, then close; the body is read and dropped.
              drop();
              socket.end(overloaded);
              if (data.log) port.postMessage({ t: 'shed', method, path: target.split('?')[0] });
              return;
            }
            break;
          }
          if (method !== 'GET' || !STATUS_TARGET.test(target)) break;
          const headEnd = pending.indexOf('\r\n\r\n');
          if (headEnd < 0) {
            if (pending.length > MAX_PEEK_BYTES) break;
            return;
          }
          const head = pending.toString('latin1', lineEnd + 2, headEnd).toLowerCase();
          if (/^(content-length: *[1-9]|transfer-encoding:)/m.test(head)) break;
          const close = version !== 'HTTP/1.1' || /^connection: *close/m.test(head);
          const [h, b] = close ? status.close : status.keepAlive;
          socket.cork();
          socket.write(h!);
          if (close) socket.end(b!);
          else socket.write(b!);
          socket.uncork();
          pending = pending.subarray(headEnd + 4);
          if (close) {
            drop();
            return;
          }
          if (pending.length === 0) return;
        }
        socket.removeListener('data', onData);
        forward(socket, pending);
      }
      socket.on('data', onData);
    });

    port.on('message', (m: ToDoor | { t: 'status'; body: Uint8Array } | { t: 'close' }) => {
      if (m.t === 'status') return setStatusBody(m.body);
      if (m.t === 'close') {
        server.close(() => port.postMessage({ t: 'closed' }));
        for (const s of sockets) s.destroy();
        return;
      }
      const f = forwarded.get(m.c);
      if (!f) return;
      if (m.t === 'w') f.socket.write(m.b);
      else if (m.t === 'e') f.socket.end();
      else if (m.t === 't') {
        // Armed only if the main thread had seen every byte posted: else the client's next request
        // is already on its way to it, and the connection is not idle.
        f.idle = m.ms > 0 && m.seen === f.posted;
        f.socket.setTimeout(f.idle ? m.ms : 0);
      } else {
        forwarded.delete(m.c);
        f.socket.destroy();
      }
    });

    server.once('error', (e: NodeJS.ErrnoException) => port.postMessage({ t: 'error', code: e.code, message: e.message, syscall: e.syscall, errno: e.errno }));
    server.listen({ host: data.host, port: data.port, backlog: data.backlog }, () => {
      const a = server.address();
      port.postMessage({ t: 'listening', port: typeof a === 'object' && a ? a.port : data.port });
    });
  });
}
