/**
 * An HTTP gateway (the HTTP Gateway Protocol, interface spec's `http-gateway.did`): a browser
 * request to `http://<canister-id>.localhost:<port>/…` (also `<canister-id>.raw.localhost`) or to
 * any path with `?canisterId=<id>` is turned into the canister's `http_request` query (as the
 * anonymous principal); a response with `upgrade = opt true` is asked again as the
 * `http_request_update` update call. Paths under `/api/` stay the IC HTTP interface (agents in
 * the page use them). Streaming (`streaming_strategy` callbacks, used by asset canisters for
 * bodies over ~2 MB) is not followed: the first chunk is served.
 *
 * Certification: responses are served as a `raw` domain serves them — the `IC-Certificate`
 * header is passed through, not verified (README "HTTP gateway").
 */
import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import type { ReplicaApi } from './replica-api.ts';
import { IcError } from '../types/ic-error.ts';
import { IngressPoolFull } from '../types/ingress-pool-full.ts';

const header = IDL.Tuple(IDL.Text, IDL.Text);
const HttpRequest = IDL.Record({
  method: IDL.Text,
  url: IDL.Text,
  headers: IDL.Vec(header),
  body: IDL.Vec(IDL.Nat8),
  certificate_version: IDL.Opt(IDL.Nat16),
});
const HttpResponse = IDL.Record({
  status_code: IDL.Nat16,
  headers: IDL.Vec(header),
  body: IDL.Vec(IDL.Nat8),
  upgrade: IDL.Opt(IDL.Bool),
});

interface DecodedResponse {
  status_code: number;
  headers: [string, string][];
  body: Uint8Array;
  upgrade: [] | [boolean];
}

/** How long an `http_request_update` may take before the gateway answers 504 (ms). */
const UPDATE_TIMEOUT_MS = 30_000;

/** The canister a browser request addresses, if any: `<id>.localhost` / `<id>.raw.localhost`, or `?canisterId=`. */
export function gatewayCanisterOf(hostname: string, query: Record<string, unknown>): Principal | undefined {
  const m = /^([a-z0-9-]+)(?:\.raw)?\.localhost$/i.exec(hostname);
  const text = m ? m[1] : typeof query['canisterId'] === 'string' ? query['canisterId'] : undefined;
  if (!text) return undefined;
  try {
    return Principal.fromText(text.toLowerCase());
  } catch {
    return undefined;
  }
}

function text(res: Response, status: number, body: string): void {
  res.status(status).type('text/plain; charset=utf-8').send(body);
}

/** The `url` field: path and query as the browser sent them, without the routing `canisterId` parameter. */
function urlOf(req: Request, byQuery: boolean): string {
  const u = new URL(req.originalUrl, 'http://gateway');
  if (byQuery) u.searchParams.delete('canisterId');
  const q = u.searchParams.toString();
  return `${u.pathname}${q ? `?${q}` : ''}`;
}

/**
 * Express middleware: answers browser requests addressed to a canister (reading their body with
 * `readBody`); passes everything else on.
 */
export function gateway(replica: ReplicaApi, readBody: (req: Request, res: Response, next: (e?: unknown) => void) => void) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.path.startsWith('/api/')) return next();
    const canisterId = gatewayCanisterOf(req.hostname, req.query as Record<string, unknown>);
    if (!canisterId) return next();
    readBody(req, res, (e?: unknown) => {
      if (e) return next(e);
      serve(replica, canisterId, req, res).catch(next);
    });
  };
}

async function serve(replica: ReplicaApi, canisterId: Principal, req: Request, res: Response): Promise<void> {
  {
    try {
      const byQuery = !/\.localhost$/i.test(req.hostname);
      const body = Buffer.isBuffer(req.body) ? new Uint8Array(req.body) : new Uint8Array();
      const headers: [string, string][] = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i]!, req.rawHeaders[i + 1]!]);
      const request = { method: req.method, url: urlOf(req, byQuery), headers, body, certificate_version: [2] };
      const arg = new Uint8Array(IDL.encode([HttpRequest], [request]));
      const anonymous = Principal.anonymous();
      let r = decodeReply(await replica.query(anonymous, canisterId, 'http_request', arg));
      if (r.upgrade[0] === true) r = decodeReply(await update(replica, canisterId, arg));
      res.status(r.status_code);
      for (const [k, v] of r.headers) {
        if (/^(content-length|transfer-encoding|connection)$/i.test(k)) continue;
        res.append(k, v);
      }
      res.end(Buffer.from(r.body));
    } catch (e) {
      if (e instanceof GatewayError) return text(res, e.status, e.message);
      if (e instanceof IcError) return text(res, 502, `The canister did not answer: ${e.message}`);
      throw e;
    }
  }
}

/** A gateway failure with its HTTP status. */
class GatewayError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

function decodeReply(out: Awaited<ReturnType<ReplicaApi['query']>>): DecodedResponse {
  if (out.kind !== 'replied') {
    throw new GatewayError(out.errorCode === 'IC0301' ? 404 : 502, `The canister rejected the request: ${out.errorCode} ${out.rejectMessage}`);
  }
  try {
    return IDL.decode([HttpResponse], out.reply)[0] as unknown as DecodedResponse;
  } catch (e) {
    throw new GatewayError(502, `The canister's http_request reply does not decode as an HttpResponse: ${(e as Error).message}`);
  }
}

/** `http_request_update` as an anonymous ingress message; resolves with its outcome. */
async function update(replica: ReplicaApi, canisterId: Principal, arg: Uint8Array): Promise<Awaited<ReturnType<ReplicaApi['query']>>> {
  const requestId = new Uint8Array(randomBytes(32));
  try {
    await replica.submitCall({
      requestId,
      sender: Principal.anonymous(),
      canisterId,
      methodName: 'http_request_update',
      arg,
      expiryNanos: replica.timeNanos() + 4n * 60_000_000_000n,
      effectiveCanisterId: canisterId,
    });
  } catch (e) {
    if (e instanceof IngressPoolFull) throw new GatewayError(503, e.message);
    throw e;
  }
  const r = await replica.waitForCompletion(requestId, UPDATE_TIMEOUT_MS);
  if (!r) throw new GatewayError(504, 'http_request_update did not complete in time');
  if (r.status === 'replied') return { kind: 'replied', reply: r.reply ?? new Uint8Array() };
  return { kind: 'rejected', rejectCode: r.rejectCode ?? 0, rejectMessage: r.rejectMessage ?? '', errorCode: r.errorCode ?? '' };
}
