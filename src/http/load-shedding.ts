/**
 * Load shedding as the replica's HTTP endpoint does it (rs/http_endpoints/public: a concurrency
 * limit per endpoint behind tower's load shedder, and the ingress pool throttle in the call
 * handler): a request over its endpoint's limit, or a call while the ingress pool is full, is
 * answered at once — before its body is read or parsed — so the excess costs next to nothing,
 * connections keep being accepted, and each endpoint keeps its own headroom (a flood of calls does
 * not take the slots of status probes or queries).
 *
 * Answers (plain text, as the replica): over a concurrency limit 429 "The service is overloaded."
 * (`map_box_error_to_response`); ingress pool full 503 "Service is overloaded, try again later."
 * (`IngressValidator::validate_ingress_message`). The connection is closed after such an answer,
 * since the unread body must not be taken for the next request.
 */
import type { ServerResponse } from 'node:http';

/** The replica's answer (HTTP 429) to a request over its endpoint's concurrency limit. */
export const CONCURRENCY_OVERLOADED = 'The service is overloaded.';
/** The replica's answer (HTTP 503) to a call while its ingress pool is full. */
import { INGRESS_POOL_OVERLOADED } from '../types/ingress-pool-full.ts';

export { INGRESS_POOL_OVERLOADED };

/**
 * Requests served at once per endpoint. The replica's defaults (rs/config http_handler.rs) are
 * status 100, read_state 100, query 400 (100 per query thread) and call 50; calls here get 1,000
 * because a local replica serves one developer's tools, whose sync calls hold their slot while
 * they wait for certification (the test suites and `npm run bench` run 64 at once).
 */
export interface ConcurrencyLimits {
  call: number;
  query: number;
  readState: number;
  status: number;
}

/** Default {@link ConcurrencyLimits}. */
export const DEFAULT_CONCURRENCY_LIMITS: ConcurrencyLimits = { call: 1000, query: 400, readState: 100, status: 100 };

/** The endpoint kinds that have their own limit. */
export type EndpointKind = keyof ConcurrencyLimits;

/** A POST target with a concurrency limit; group 1 is `call`, `query` or `read_state`. */
export const LIMITED_ENDPOINT = /^\/api\/v[234]\/(?:canister|subnet)\/[^/?]+\/(call|query|read_state)(?:\?|$)/;

/** Which limited endpoint a request is for, from its method and URL; undefined for the rest. */
export function endpointKind(method: string | undefined, url: string | undefined): EndpointKind | undefined {
  if (!url) return undefined;
  if (method === 'GET' && /^\/api\/v2\/status(?:\?|$)/.test(url)) return 'status';
  if (method !== 'POST') return undefined;
  const m = LIMITED_ENDPOINT.exec(url);
  if (!m) return undefined;
  return m[1] === 'call' ? 'call' : m[1] === 'query' ? 'query' : 'readState';
}

/**
 * Admission per endpoint kind: counts requests in flight (from arrival to the end of the
 * response, including a sync call's wait for certification) and sheds the excess.
 */
export class LoadShedder {
  readonly #limits: ConcurrencyLimits;
  readonly #poolIsFull: () => boolean;
  readonly #inFlight: Record<EndpointKind, number> = { call: 0, query: 0, readState: 0, status: 0 };
  readonly #onLimitChange: ((kind: EndpointKind, atLimit: boolean) => void) | undefined;

  /**
   * @param limits requests served at once per endpoint kind.
   * @param poolIsFull whether the ingress pool is at its bound (calls then get 503).
   * @param onLimitChange told when an endpoint kind reaches its limit and when it drops below
   *   (the front door then sheds that kind's requests before they reach this thread).
   */
  constructor(limits: ConcurrencyLimits, poolIsFull: () => boolean, onLimitChange?: (kind: EndpointKind, atLimit: boolean) => void) {
    this.#limits = limits;
    this.#poolIsFull = poolIsFull;
    this.#onLimitChange = onLimitChange;
  }

  /**
   * Admits the request, or answers it at once (429 over the endpoint's limit; 503 for a call
   * with the ingress pool full) with `connection: close`.
   * @returns whether the request was admitted (and must be served by the caller).
   */
  admit(kind: EndpointKind, res: ServerResponse): boolean {
    if (this.#inFlight[kind] >= this.#limits[kind]) {
      shed(res, 429, CONCURRENCY_OVERLOADED);
      return false;
    }
    if (kind === 'call' && this.#poolIsFull()) {
      refuseIngressPoolFull(res);
      return false;
    }
    if (++this.#inFlight[kind] === this.#limits[kind]) this.#onLimitChange?.(kind, true);
    res.once('close', () => {
      if (this.#inFlight[kind]-- === this.#limits[kind]) this.#onLimitChange?.(kind, false);
    });
    return true;
  }
}

/**
 * Answers a call with the replica's 503 for a full ingress pool (also used when the pool filled
 * up between a call's admission and its turn to be inducted).
 */
export function refuseIngressPoolFull(res: ServerResponse): void {
  shed(res, 503, INGRESS_POOL_OVERLOADED);
}

/** Answers a shed request: status, text and the replica's CORS header, then closes the connection. */
function shed(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, SHED_HEADERS);
  res.end(text);
}

const SHED_HEADERS = {
  'content-type': 'text/plain; charset=utf-8',
  'access-control-allow-origin': '*',
  connection: 'close',
};

/** The whole 429 response as bytes (status line, {@link shed}'s headers, the replica's text), for the front door. */
export function overloadedResponseBytes(): Uint8Array {
  const head = Object.entries(SHED_HEADERS).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return Buffer.from(`HTTP/1.1 429 Too Many Requests\r\n${head}content-length: ${Buffer.byteLength(CONCURRENCY_OVERLOADED)}\r\n\r\n${CONCURRENCY_OVERLOADED}`);
}
