/**
 * The express application serving the IC HTTP interface (interface spec §"HTTP Interface"):
 * status, call (v2 async; v3, v4 sync), query (v2, v3) and read_state (v2, v3; canister and subnet).
 * Bodies must be `application/cbor` and at most 5 MiB (413 otherwise), as on the replica.
 * Overload is shed per endpoint before bodies are read (load-shedding.ts: 429 / 503).
 * Errors: `HttpError` → its status and text; anything else is a host bug → 500 and a log line,
 * and the server keeps serving.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { ReplicaApi } from './replica-api.ts';
import { handleCall } from './call-endpoint.ts';
import { HttpError } from './http-error.ts';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { DEFAULT_CONCURRENCY_LIMITS, endpointKind, LoadShedder, refuseIngressPoolFull, type ConcurrencyLimits } from './load-shedding.ts';
import { handleQuery } from './query-endpoint.ts';
import { handleReadState } from './read-state-endpoint.ts';
import { sendText } from './responses.ts';
import { handleStatus } from './status-endpoint.ts';
import { TimeSlicer } from './time-slicer.ts';

/** Longest stretch of call validation and induction between two turns of the event loop (ms). */
const CALL_SLICE_MS = 10;
import { httpLine } from './request-log.ts';
import { gateway } from './gateway.ts';

/** Largest request body: 5 MiB (replica `max_request_size_bytes`). */
export const MAX_REQUEST_BODY_BYTES = 5 * 1024 * 1024;

type Handler = (req: Request, res: Response) => Promise<void> | void;

/** Checks the content type and wraps a handler so its errors reach the error middleware. */
function cborEndpoint(handler: Handler): express.RequestHandler {
  return (req, res, next) => {
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    if (type !== 'application/cbor') {
      next(new HttpError(400, 'Unexpected content-type, expected application/cbor.'));
      return;
    }
    if (!Buffer.isBuffer(req.body)) {
      next(new HttpError(400, 'Failed to deserialize cbor request: empty body'));
      return;
    }
    Promise.resolve(handler(req, res)).catch(next);
  };
}

/**
 * The server's request listener: load shedding first, on the bare request (before express,
 * before the body is read: an excess request costs only its header parse), then the app.
 * @param limits requests served at once per endpoint kind (the excess gets 429 at once).
 */
export function createRequestListener(replica: ReplicaApi, limits: ConcurrencyLimits = DEFAULT_CONCURRENCY_LIMITS): (req: IncomingMessage, res: ServerResponse) => void {
  const app = createApp(replica);
  const shedder = new LoadShedder(limits, () => replica.ingressPoolIsFull());
  return (req, res) => {
    const kind = endpointKind(req.method, req.url);
    if (kind === undefined || shedder.admit(kind, res)) app(req, res);
  };
}

/** Builds the express app for a replica (without load shedding: see {@link createRequestListener}). */
export function createApp(replica: ReplicaApi): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  // CORS as on the replica: any origin, GET/POST, the headers agents send.
  app.use((req, res, next) => {
    res.setHeader('access-control-allow-origin', '*');
    res.setHeader('access-control-allow-methods', 'GET, POST');
    res.setHeader('access-control-allow-headers', 'Authorization, Accept, Content-Type');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });
  const raw = express.raw({ type: () => true, limit: MAX_REQUEST_BODY_BYTES });
  const callSlicer = new TimeSlicer(CALL_SLICE_MS);
  // Browser requests to `<canister-id>.localhost` or with `?canisterId=` (outside /api/).
  app.use(gateway(replica, raw));

  app.get('/api/v2/status', (_req, res) => handleStatus(replica, res));
  for (const v of [2, 3, 4] as const) {
    // Calls are validated and inducted in time slices (time-slicer.ts): a burst of them must
    // not hold up status, queries and new connections for the whole burst's validation.
    app.post(`/api/v${v}/canister/:ecid/call`, raw, cborEndpoint((req, res) =>
        callSlicer
          .run(() => (replica.ingressPoolIsFull() ? refuseIngressPoolFull(res) : handleCall(replica, req, res, v)))
          .then((done) => done),
      ),
    );
  }
  for (const v of [2, 3] as const) {
    app.post(`/api/v${v}/canister/:ecid/query`, raw, cborEndpoint((req, res) => handleQuery(replica, req, res)));
    app.post(`/api/v${v}/canister/:ecid/read_state`, raw, cborEndpoint((req, res) => handleReadState(replica, req, res, 'canister', v)));
    app.post(`/api/v${v}/subnet/:ecid/read_state`, raw, cborEndpoint((req, res) => handleReadState(replica, req, res, 'subnet', v)));
  }
  app.use((req, res) => {
    replica.requestLog?.(httpLine(404, req.method, req.path, 'Not found.'));
    sendText(res, 404, 'Not found.');
  });
  // Error middleware: express needs the four-argument signature to recognise it.
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    if (res.headersSent) return;
    const refuse = (status: number, text: string): void => {
      replica.requestLog?.(httpLine(status, req.method, req.path, text));
      sendText(res, status, text);
    };
    if (err instanceof HttpError) {
      refuse(err.status, err.message);
      return;
    }
    const e = err as { type?: string; status?: number; message?: string };
    if (e?.type === 'entity.too.large') {
      refuse(413, 'length limit exceeded');
      return;
    }
    if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500) {
      refuse(e.status, `Failed to read the request body: ${e.message ?? 'bad request'}`);
      return;
    }
    console.error('chainkey-replica: unexpected error while serving a request:', err);
    sendText(res, 500, `Unexpected error: ${e?.message ?? String(err)}`);
  });
  return app;
}
