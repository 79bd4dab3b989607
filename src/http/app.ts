/**
 * The IC HTTP interface (interface spec §"HTTP Interface") on node:http: status, call (v2 async;
 * v3, v4 sync), query (v2, v3) and read_state (v2, v3; canister and subnet). Bodies must be
 * `application/cbor` and at most 5 MiB (413 otherwise), as on the replica. CORS as on the
 * replica: any origin, GET/POST, the headers agents send. Errors: `HttpError` → its status and
 * text; anything else is a host bug → 500 and a log line, and the server keeps serving.
 *
 * Overload is shed per endpoint before bodies are read (load-shedding.ts: 429 / 503).
 * Browser requests to `<canister-id>.localhost` or with `?canisterId=` (outside /api/) go to the
 * HTTP gateway (gateway-app.ts, built on the first one). Refusals (4xx) go to the request log.
 *
 * A plain router rather than a framework: the interface is five routes, and a framework's
 * per-request work and start-up loading were a measurable share of both (bench: `npm run bench`).
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { ReplicaApi } from './replica-api.ts';
import { handleCall } from './call-endpoint.ts';
import type { EndpointRequest } from './exchange.ts';
import { HttpError } from './http-error.ts';
import { handleQuery } from './query-endpoint.ts';
import { handleReadState } from './read-state-endpoint.ts';
import { sendText } from './responses.ts';
import { handleStatus } from './status-endpoint.ts';
import { handleDashboardPage, handleDashboardState } from './dashboard-endpoint.ts';
import { parse as parseQuery } from 'node:querystring';
import { gatewayCanisterOf } from './gateway.ts';
import { createGatewayApp } from './gateway-app.ts';
import { httpLine } from './request-log.ts';
import { CONCURRENCY_OVERLOADED, DEFAULT_CONCURRENCY_LIMITS, endpointKind, INGRESS_POOL_OVERLOADED, LoadShedder, refuseIngressPoolFull, type ConcurrencyLimits, type EndpointKind } from './load-shedding.ts';
import { TimeSlicer } from './time-slicer.ts';
import { IngressPoolFull } from '../types/ingress-pool-full.ts';

/** Largest request body: 5 MiB (replica `max_request_size_bytes`). */
export const MAX_REQUEST_BODY_BYTES = 5 * 1024 * 1024;

// /api/v<version>/<canister|subnet>/<ecid>/<call|query|read_state>, a trailing slash allowed.
const CBOR_ROUTE = /^\/api\/v(\d+)\/(canister|subnet)\/([^/]+)\/(call|query|read_state)\/?$/i;
const STATUS_ROUTE = /^\/api\/v2\/status\/?$/i;
const DASHBOARD_ROUTE = /^\/_\/dashboard\/?$/;
const DASHBOARD_STATE_ROUTE = /^\/_\/dashboard\/state\/?$/;

type CborHandler = (req: EndpointRequest, res: ServerResponse) => Promise<void> | void;

/** Longest stretch of call validation and induction between two turns of the event loop (ms). */
const CALL_SLICE_MS = 10;

/**
 * The handler for a POST route, or undefined (404). Calls are validated and inducted in time
 * slices (time-slicer.ts): a burst of them must not hold up status, queries and new connections
 * for the whole burst's validation; a call whose turn comes with the ingress pool full is refused
 * (503, and a request log line like every refusal).
 */
function cborHandler(replica: ReplicaApi, calls: TimeSlicer, path: string, version: number, target: string, endpoint: string): CborHandler | undefined {
  const t = target.toLowerCase();
  switch (endpoint.toLowerCase()) {
    case 'call':
      if (t === 'canister' && (version === 2 || version === 3 || version === 4)) {
        return (req, res) =>
          calls
            .run(() => {
              const refuse = (): void => {
                refuseIngressPoolFull(res);
                replica.requestLog?.(httpLine(503, 'POST', path, INGRESS_POOL_OVERLOADED));
              };
              if (replica.ingressPoolIsFull()) return refuse();
              // The pool can also fill while the call waits to enter it (Replica.submitCall).
              return handleCall(replica, req, res, version).catch((e: unknown) => {
                if (!(e instanceof IngressPoolFull)) throw e;
                refuse();
              });
            })
            .then((done) => done);
      }
      return undefined;
    case 'query':
      if (t === 'canister' && (version === 2 || version === 3)) return (req, res) => handleQuery(replica, req, res);
      return undefined;
    default:
      if (version === 2 || version === 3) return (req, res) => handleReadState(replica, req, res, t === 'subnet' ? 'subnet' : 'canister', version);
      return undefined;
  }
}

/**
 * Reads a request body of at most `limit` bytes.
 * @returns the body; undefined for a request without one (neither content-length nor chunked).
 * @throws HttpError 413 `length limit exceeded` when it is longer (checked against content-length
 *   first, before reading); 415 for a content-encoding other than identity; 400 if aborted.
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const encoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') return Promise.reject(new HttpError(415, `Failed to read the request body: unsupported content encoding "${encoding}"`));
  const declared = req.headers['content-length'];
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    req.resume();
    return Promise.resolve(undefined);
  }
  if (declared !== undefined && Number(declared) > limit) {
    req.resume();
    return Promise.reject(new HttpError(413, 'length limit exceeded'));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let length = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      if (failed) return;
      length += c.length;
      if (length > limit) {
        failed = true;
        reject(new HttpError(413, 'length limit exceeded'));
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!failed) resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length));
    });
    req.on('aborted', () => {
      failed = true;
      reject(new HttpError(400, 'Failed to read the request body: request aborted'));
    });
    req.on('error', (e) => {
      failed = true;
      reject(new HttpError(400, `Failed to read the request body: ${e.message}`));
    });
  });
}

/** Answers an error the way the interface does (see the module comment). */
function sendError(replica: ReplicaApi, req: IncomingMessage, path: string, res: ServerResponse, err: unknown): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  if (err instanceof HttpError) {
    replica.requestLog?.(httpLine(err.status, req.method ?? '', path, err.message));
    sendText(res, err.status, err.message);
    return;
  }
  console.error('chainkey-replica: unexpected error while serving a request:', err);
  sendText(res, 500, `Unexpected error: ${(err as Error)?.message ?? String(err)}`);
}

/** The request's host name without the port (`[::1]` for IPv6), as express's `req.hostname`. */
function hostnameOf(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.indexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

async function serve(replica: ReplicaApi, calls: TimeSlicer, gatewayApp: () => Promise<RequestListener>, req: IncomingMessage, res: ServerResponse, path: string, query: string): Promise<void> {
  if (!path.startsWith('/api/') && gatewayCanisterOf(hostnameOf(req), parseQuery(query))) {
    (await gatewayApp())(req, res);
    return;
  }
  res.setHeader('access-control-allow-origin', '*');
  res.setHeader('access-control-allow-methods', 'GET, POST');
  res.setHeader('access-control-allow-headers', 'Authorization, Accept, Content-Type');
  if (req.method === 'OPTIONS') {
    res.statusCode = 204;
    res.end();
    return;
  }
  if ((req.method === 'GET' || req.method === 'HEAD') && STATUS_ROUTE.test(path)) {
    req.resume();
    handleStatus(replica, res);
    return;
  }
  if (req.method === 'GET' || req.method === 'HEAD') {
    const dashboard = DASHBOARD_ROUTE.test(path) ? handleDashboardPage : DASHBOARD_STATE_ROUTE.test(path) ? handleDashboardState : undefined;
    if (dashboard) {
      req.resume();
      dashboard(replica, res);
      return;
    }
  }
  const m = req.method === 'POST' ? CBOR_ROUTE.exec(path) : null;
  const handler = m ? cborHandler(replica, calls, path, Number(m[1]), m[2]!, m[4]!) : undefined;
  if (!m || !handler) {
    req.resume();
    throw new HttpError(404, 'Not found.');
  }
  let ecid: string;
  try {
    ecid = decodeURIComponent(m[3]!);
  } catch {
    req.resume();
    throw new HttpError(400, `Failed to decode param '${m[3]}'`);
  }
  const body = await readBody(req, MAX_REQUEST_BODY_BYTES);
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  if (type !== 'application/cbor') throw new HttpError(400, 'Unexpected content-type, expected application/cbor.');
  if (body === undefined) throw new HttpError(400, 'Failed to deserialize cbor request: empty body');
  await handler({ params: { ecid }, body }, res);
}

/**
 * The server's request listener: load shedding first, on the bare request (before the body is
 * read: an excess request costs only its header parse), then the interface ({@link createApp}).
 * @param limits requests served at once per endpoint kind (the excess gets 429 at once).
 * @param onLimitChange see {@link LoadShedder} (the front door sheds at a kind's limit).
 */
export function createRequestListener(
  replica: ReplicaApi,
  limits: ConcurrencyLimits = DEFAULT_CONCURRENCY_LIMITS,
  onLimitChange?: (kind: EndpointKind, atLimit: boolean) => void,
): RequestListener {
  const app = createApp(replica);
  const shedder = new LoadShedder(limits, () => replica.ingressPoolIsFull(), onLimitChange);
  return (req, res) => {
    const kind = endpointKind(req.method, req.url);
    if (kind === undefined || shedder.admit(kind, res)) app(req, res);
    else replica.requestLog?.(httpLine(res.statusCode, req.method ?? '', (req.url ?? '/').split('?')[0]!, res.statusCode === 429 ? CONCURRENCY_OVERLOADED : INGRESS_POOL_OVERLOADED));
  };
}

/** The request listener serving the IC HTTP interface of a replica (no load shedding). */
export function createApp(replica: ReplicaApi): RequestListener {
  const calls = new TimeSlicer(CALL_SLICE_MS);
  let gatewayApp: Promise<RequestListener> | null = null;
  const loadGateway = (): Promise<RequestListener> => (gatewayApp ??= createGatewayApp(replica));
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    serve(replica, calls, loadGateway, req, res, path, q < 0 ? '' : url.slice(q + 1)).catch((e: unknown) => sendError(replica, req, path, res, e));
  };
}
