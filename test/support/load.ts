/**
 * Load on a replica as many independent clients make it: each request on its own TCP connection
 * (node:http, no keep-alive), loopback only, every outcome classified — an HTTP status with its
 * body text, or a TCP-level failure (ECONNRESET, ECONNREFUSED, a connect or reply timeout).
 * Envelopes are anonymous (sender 0x04, no signature), each with its own nonce, so every request
 * is a distinct ingress message. Used by the overload test and `npm run soak`.
 */
import http from 'node:http';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';

/** One request's outcome. */
export interface Outcome {
  /** HTTP status, or undefined for a TCP-level failure. */
  status?: number;
  /** Body as text (plain-text replies) or its length for CBOR. */
  body: string;
  /** Error code for a TCP-level failure (ECONNRESET, ETIMEDOUT, ...). */
  error?: string;
  /** Milliseconds from start to the whole reply. */
  ms: number;
}

const EMPTY_ARGS = new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0x00, 0x00]); // DIDL, no types, no values

/** An anonymous call (or query) envelope for `method` of `canisterId` with empty Candid args. */
export function anonymousEnvelope(requestType: 'call' | 'query', canisterId: Principal, method: string, nonce: number): Uint8Array {
  const n = new Uint8Array(8);
  new DataView(n.buffer).setBigUint64(0, BigInt(nonce));
  return encodeWithSelfDescribedTag({
    content: {
      request_type: requestType,
      canister_id: canisterId.toUint8Array(),
      method_name: method,
      arg: EMPTY_ARGS,
      sender: new Uint8Array([4]),
      ingress_expiry: BigInt(Date.now() + 4 * 60_000) * 1_000_000n,
      nonce: n,
    },
  });
}

/**
 * One request on a fresh connection.
 * @param timeoutMs whole-request limit; past it the outcome is `error: 'ETIMEDOUT (connect)'` or
 *   `'ETIMEDOUT (no reply)'` (a hang).
 */
export function request(url: string, method: 'GET' | 'POST', path: string, body: Uint8Array | undefined, timeoutMs: number): Promise<Outcome> {
  const t0 = performance.now();
  return new Promise<Outcome>((resolve) => {
    let settled = false;
    const done = (o: Omit<Outcome, 'ms'>): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...o, ms: performance.now() - t0 });
    };
    const req = http.request(new URL(path, url), {
      method,
      agent: false,
      headers: body ? { 'content-type': 'application/cbor', 'content-length': body.length } : {},
    });
    let connected = false;
    const timer = setTimeout(() => {
      done({ body: '', error: connected ? 'ETIMEDOUT (no reply)' : 'ETIMEDOUT (connect)' });
      req.destroy();
    }, timeoutMs);
    req.once('socket', (sock) => sock.once('connect', () => (connected = true)));
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const b = Buffer.concat(chunks);
        const text = (res.headers['content-type'] ?? '').includes('text') ? b.toString('utf8') : `<${b.length} bytes>`;
        done({ status: res.statusCode!, body: text });
      });
      res.on('error', (e: NodeJS.ErrnoException) => done({ body: '', error: e.code ?? e.message }));
    });
    req.on('error', (e: NodeJS.ErrnoException) => done({ body: '', error: e.code ?? e.message }));
    req.end(body ? Buffer.from(body) : undefined);
  });
}

/** Percentile (0..100) of a list of numbers; NaN for an empty list. */
export function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** What {@link overload} saw. */
export interface OverloadReport {
  calls: number;
  /** Calls answered 2xx (accepted, replied or a non-replicated rejection). */
  served: number;
  /** Calls refused with an HTTP status (e.g. 503), by `status text`. */
  refused: Record<string, number>;
  /** TCP-level failures by error code. */
  tcpErrors: Record<string, number>;
  /** Other HTTP statuses (4xx other than refusals, 5xx), by `status text`. */
  other: Record<string, number>;
  /** Status probes sent while the calls ran, their p99 / max latency (ms) and failures. */
  statusProbes: number;
  statusP99Ms: number;
  statusMaxMs: number;
  statusFailures: number;
  /** Queries sent while the calls ran, and how many got 200. */
  queries: number;
  queriesOk: number;
  /** Latency of answered calls (served or refused), median and max (ms). */
  callP50Ms: number;
  callMaxMs: number;
  /** Wall time of the whole burst (ms). */
  wallMs: number;
}

/** Options of {@link overload}. */
export interface OverloadOptions {
  url: string;
  canisterId: Principal;
  /** Update method called (empty Candid arguments) and query method probed. */
  method: string;
  queryMethod: string;
  calls: number;
  version: 2 | 3;
  /** Per-request limit (ms); past it a request counts as a hang (ETIMEDOUT). */
  timeoutMs: number;
  probeEveryMs?: number;
}

/**
 * Sends `calls` ingress calls at once (each on its own connection, `/api/v<version>/.../call`)
 * while probing `/api/v2/status` and, separately, a query every `probeEveryMs` after the previous
 * answer, and classifies every outcome.
 * The calls and the probes each run in their own worker thread, so neither the replica (when it
 * runs in this process) nor the other shares their event loop: latencies are the replica's.
 */
export async function overload(options: OverloadOptions): Promise<OverloadReport> {
  const t0 = performance.now();
  const data = { ...options, canisterId: options.canisterId.toText() };
  const probe = new Worker(new URL(import.meta.url), { workerData: { role: 'probe', ...data } });
  const probed = new Promise<ProbeResult>((resolve, reject) => {
    probe.once('message', resolve);
    probe.once('error', reject);
  });
  await new Promise((r) => probe.once('online', r));
  const caller = new Worker(new URL(import.meta.url), { workerData: { role: 'calls', ...data } });
  const outcomes = await new Promise<Outcome[]>((resolve, reject) => {
    caller.once('message', resolve);
    caller.once('error', reject);
  });
  await caller.terminate();
  probe.postMessage('stop');
  const { statusMs, statusFailures, queries, queriesOk } = await probed;
  await probe.terminate();
  const answered = outcomes.filter((o) => !o.error).map((o) => o.ms);
  const report: OverloadReport = {
    calls: options.calls,
    served: 0,
    refused: {},
    tcpErrors: {},
    other: {},
    statusProbes: statusMs.length + statusFailures,
    statusP99Ms: +percentile(statusMs, 99).toFixed(1),
    statusMaxMs: +Math.max(0, ...statusMs).toFixed(1),
    statusFailures,
    queries,
    queriesOk,
    callP50Ms: Math.round(percentile(answered, 50)),
    callMaxMs: Math.round(Math.max(0, ...answered)),
    wallMs: Math.round(performance.now() - t0),
  };
  const bump = (m: Record<string, number>, k: string): void => {
    m[k] = (m[k] ?? 0) + 1;
  };
  for (const o of outcomes) {
    if (o.error) bump(report.tcpErrors, o.error);
    else if (o.status! >= 200 && o.status! < 300) report.served++;
    else if (o.status === 503 || o.status === 429) bump(report.refused, `${o.status} ${o.body}`);
    else bump(report.other, `${o.status} ${o.body.slice(0, 80)}`);
  }
  return report;
}

/** What the probe worker reports. */
interface ProbeResult {
  statusMs: number[];
  statusFailures: number;
  queries: number;
  queriesOk: number;
}

type WorkerInput = Omit<OverloadOptions, 'canisterId'> & { role: 'probe' | 'calls'; canisterId: string };

// The worker threads of `overload`: 'calls' sends the burst and posts every outcome; 'probe'
// sends a status request and a query every `probeEveryMs` until told to stop.
if (!isMainThread && (workerData as WorkerInput | null)?.role !== undefined) {
  const w = workerData as WorkerInput;
  const id = Principal.fromText(w.canisterId);
  if (w.role === 'calls') {
    const bodies = Array.from({ length: w.calls }, (_, i) => anonymousEnvelope('call', id, w.method, i + 1 + Math.floor(Math.random() * 2 ** 40)));
    const outcomes = await Promise.all(bodies.map((b) => request(w.url, 'POST', `/api/v${w.version}/canister/${w.canisterId}/call`, b, w.timeoutMs)));
    parentPort!.postMessage(outcomes);
  } else {
    const result: ProbeResult = { statusMs: [], statusFailures: 0, queries: 0, queriesOk: 0 };
    let stop = false;
    parentPort!.once('message', () => {
      stop = true;
    });
    // Two loops, so a slow query does not space out the status probes (nor the reverse).
    const pause = () => new Promise((r) => setTimeout(r, w.probeEveryMs ?? 50));
    const statusLoop = async (): Promise<void> => {
      while (!stop) {
        const s = await request(w.url, 'GET', '/api/v2/status', undefined, w.timeoutMs);
        if (s.status === 200) result.statusMs.push(s.ms);
        else result.statusFailures++;
        await pause();
      }
    };
    const queryLoop = async (): Promise<void> => {
      for (let i = 1; !stop; i++) {
        const q = await request(w.url, 'POST', `/api/v2/canister/${w.canisterId}/query`, anonymousEnvelope('query', id, w.queryMethod, i), w.timeoutMs);
        result.queries++;
        if (q.status === 200) result.queriesOk++;
        await pause();
      }
    };
    await Promise.all([statusLoop(), queryLoop()]);
    parentPort!.postMessage(result);
  }
}
