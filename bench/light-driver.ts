/**
 * The light driver: drives a replica with sync calls (`/api/v3/canister/<id>/call`) so that what
 * is measured is the replica, not the client. Envelopes are anonymous (no sender signature),
 * built before the timed window (request id, CBOR) and sent over keep-alive HTTP connections, one
 * per concurrent caller. Each answer is checked: HTTP 200, `status: replied`, the certificate's
 * tree has `/request_status/<request id>/status = replied` and a reply that the caller's `check`
 * accepts. The certificate's BLS signature is verified once per distinct signature, at most once
 * per second (a round certifies many answers with one signature; verifying each would measure the
 * driver's pairings): the first certificate of every run is always verified.
 *
 * Compare with @dfinity/agent, which signs each envelope, polls or waits, and verifies every
 * distinct certificate (~35 ms of pairings each on this machine): see bench/run.ts.
 */
import { Agent, request } from 'node:http';
import { decode, encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';
import { decodeCertificate, verifyCertificate } from '../src/crypto/certificate.ts';
import { lookupPath } from '../src/crypto/hash-tree.ts';
import { requestIdOf } from '../src/crypto/request-id.ts';

/** A pre-built call: the CBOR body and its request id. */
export interface Envelope {
  body: Buffer;
  requestId: Uint8Array;
}

/** What to call: the canister, the method and an argument per call index. */
export interface CallSpec {
  canisterId: Principal;
  methodName: string;
  /** Candid argument of the i-th call (distinct nonces make every request id distinct anyway). */
  arg(i: number): Uint8Array;
  /** Throws unless the Candid reply is the expected success. */
  check(reply: Uint8Array): void;
}

/** Result of {@link LightDriver.run}. */
export interface RunResult {
  /** Completed calls per one-second window. */
  rates: number[];
  /** Latency of every completed call, ms. */
  latenciesMs: number[];
  done: number;
  failed: number;
  /** First failure's text, if any. */
  firstError?: string;
  /** The driver process's CPU time over the run, ms (user + system, all threads). */
  driverCpuMs: number;
  wallMs: number;
}

const ANONYMOUS = Principal.anonymous().toUint8Array();
const REPLIED = new TextEncoder().encode('replied');
let nonceCounter = 0n;

/** Builds one anonymous call envelope (spec §"Request: Call"), expiring in four minutes. */
export function buildEnvelope(spec: CallSpec, i: number): Envelope {
  const nonce = new Uint8Array(16);
  new DataView(nonce.buffer).setBigUint64(8, ++nonceCounter);
  new DataView(nonce.buffer).setUint32(0, process.pid);
  const content = {
    request_type: 'call',
    canister_id: spec.canisterId.toUint8Array(),
    method_name: spec.methodName,
    arg: spec.arg(i),
    sender: ANONYMOUS,
    ingress_expiry: (BigInt(Date.now()) + 240_000n) * 1_000_000n,
    nonce,
  };
  return { body: Buffer.from(encodeWithSelfDescribedTag({ content })), requestId: requestIdOf(content) };
}

/** Keep-alive HTTP sync-call driver against one replica. */
export class LightDriver {
  readonly #url: URL;
  readonly #rootPublicKey: Uint8Array;
  readonly #agent: Agent;
  readonly #verified = new Set<string>();
  #lastVerifyMs = -Infinity;

  /**
   * @param url the replica, `http://127.0.0.1:PORT`.
   * @param rootPublicKey the replica's 96-byte BLS root key (certificates are verified against it).
   */
  constructor(url: string, rootPublicKey: Uint8Array) {
    this.#url = new URL(url);
    this.#rootPublicKey = rootPublicKey;
    // An idle-socket timeout below the replica's `keep-alive: timeout=5` hint, as undici (fetch)
    // keeps one: an http.Agent without `timeout` ignores the hint and may reuse a socket the
    // server is closing at that moment ("socket hang up" on a starved machine).
    this.#agent = new Agent({ keepAlive: true, maxSockets: 1024, timeout: 4_000 });
  }

  /** Sends one envelope and checks the answer; resolves with nothing, rejects with the reason. */
  async call(spec: CallSpec, env: Envelope): Promise<void> {
    const body = await this.#post(`/api/v3/canister/${spec.canisterId.toText()}/call`, env.body);
    const answer = decode(body) as { status?: string; certificate?: Uint8Array; reject_message?: string };
    if (answer.status !== 'replied' || !(answer.certificate instanceof Uint8Array)) {
      throw new Error(`call not replied: ${answer.status} ${answer.reject_message ?? ''}`);
    }
    const cert = decodeCertificate(answer.certificate);
    const status = lookupPath(['request_status', env.requestId, 'status'], cert.tree);
    if (status.status !== 'Found' || Buffer.compare(status.value, REPLIED) !== 0) throw new Error('request_status is not replied');
    const reply = lookupPath(['request_status', env.requestId, 'reply'], cert.tree);
    if (reply.status !== 'Found') throw new Error('request_status has no reply');
    spec.check(Uint8Array.prototype.slice.call(reply.value)); // a copy: the Candid decoder ignores a view's byte offset
    const sig = Buffer.from(cert.signature).toString('hex');
    const now = performance.now();
    if (!this.#verified.has(sig) && now - this.#lastVerifyMs >= 1000) {
      this.#lastVerifyMs = now;
      this.#verified.add(sig);
      if (!verifyCertificate(cert, this.#rootPublicKey)) throw new Error('certificate signature does not verify');
    }
  }

  /**
   * Runs `concurrency` callers back to back for `seconds`, over envelopes built beforehand.
   * @param prebuilt how many envelopes to build before the clock starts (more are built on demand).
   */
  async run(spec: CallSpec, concurrency: number, seconds: number, prebuilt: number): Promise<RunResult> {
    const pool: Envelope[] = [];
    for (let i = 0; i < prebuilt; i++) pool.push(buildEnvelope(spec, i));
    this.#lastVerifyMs = -Infinity;
    const windows = new Array<number>(seconds).fill(0);
    const latenciesMs: number[] = [];
    let failed = 0;
    let done = 0;
    let next = 0;
    let firstError: string | undefined;
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    const end = start + seconds * 1000;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < end) {
          const i = next++;
          const env = pool[i] ?? buildEnvelope(spec, i);
          pool[i] = undefined as never;
          const t0 = performance.now();
          try {
            await this.call(spec, env);
            const t1 = performance.now();
            const w = Math.floor((t1 - start) / 1000);
            if (w < seconds) {
              windows[w]!++;
              latenciesMs.push(t1 - t0);
              done++;
            }
          } catch (e) {
            failed++;
            firstError ??= (e as Error).message;
          }
        }
      }),
    );
    const wallMs = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    return { rates: windows, latenciesMs, done, failed, ...(firstError && { firstError }), driverCpuMs: (cpu.user + cpu.system) / 1000, wallMs };
  }

  /** Makes exactly `n` calls with `concurrency` callers (for RSS and WAL growth); failures are counted. */
  async callN(spec: CallSpec, n: number, concurrency: number): Promise<{ failed: number; firstError?: string }> {
    let left = n;
    let failed = 0;
    let firstError: string | undefined;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (left > 0) {
          left--;
          try {
            await this.call(spec, buildEnvelope(spec, left));
          } catch (e) {
            failed++;
            firstError ??= (e as Error).message;
          }
        }
      }),
    );
    return { failed, ...(firstError && { firstError }) };
  }

  /** Closes the keep-alive connections. */
  close(): void {
    this.#agent.destroy();
  }

  #post(path: string, body: Buffer): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      const req = request(
        { host: this.#url.hostname, port: this.#url.port, path, method: 'POST', agent: this.#agent, headers: { 'content-type': 'application/cbor', 'content-length': body.length } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const b = Buffer.concat(chunks);
            if (res.statusCode !== 200) reject(new Error(`HTTP ${res.statusCode}: ${b.toString('utf8', 0, 200)}`));
            else resolve(b);
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }
}
