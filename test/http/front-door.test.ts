/**
 * The front door (src/http/front-door.ts): the listener in its own thread answers status probes
 * and sheds calls over the concurrency limit without the main thread — shown by blocking the main
 * thread until a client thread got its answer (no timing asserted: the block ends when the
 * answer came, or fails after 30 s) — and forwards everything else byte for byte.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { connect } from 'node:net';
import { Worker } from 'node:worker_threads';
import { decode } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { anonymousEnvelope } from '../support/load.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';
import { compileWat } from '../support/wat.ts';
import { withRounds } from '../support/manual-rounds.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

/**
 * Sends `requests` from a worker thread, each on its own connection, while this (the main) thread
 * spins; the spin ends when all are answered (a flag in shared memory).
 * @returns each answer's status and text (delivered once this thread's loop runs again).
 * @throws if they were not all answered within 30 s while the main thread could serve nothing.
 */
function answeredWhileMainThreadBlocked(url: string, requests: { method: string; path: string; body?: Uint8Array }[]): Promise<{ status: number; text: string }[]> {
  const shared = new SharedArrayBuffer(4);
  const done = new Int32Array(shared);
  const worker = new Worker(
    `const http = require('node:http');
     const { workerData, parentPort } = require('node:worker_threads');
     const { url, requests, shared } = workerData;
     Promise.all(requests.map((r) => new Promise((resolve) => {
       const req = http.request(new URL(r.path, url), { method: r.method, agent: false, headers: r.body ? { 'content-type': 'application/cbor' } : {} }, (res) => {
         const chunks = [];
         res.on('data', (c) => chunks.push(c));
         res.on('end', () => resolve({ status: res.statusCode, text: (res.headers['content-type'] ?? '').startsWith('text/') ? Buffer.concat(chunks).toString() : '<cbor>' }));
       });
       req.on('error', (e) => resolve({ status: 0, text: e.code }));
       req.end(r.body ? Buffer.from(r.body) : undefined);
     }))).then((rs) => { parentPort.postMessage(rs); Atomics.store(new Int32Array(shared), 0, 1); });`,
    { eval: true, workerData: { url, requests, shared } },
  );
  const results = new Promise<{ status: number; text: string }[]>((resolve) => worker.once('message', resolve)).finally(() => worker.terminate());
  const until = Date.now() + 30_000;
  while (Atomics.load(done, 0) === 0) {
    if (Date.now() > until) throw new Error('not answered while the main thread was blocked');
  }
  return results;
}

/** A canister whose update replies at once (it stays queued while no round runs). */
const NOOP_WAT = `(module
  (import "ic0" "msg_reply" (func $reply))
  (func (export "canister_update noop") (call $reply)))`;

describe('front door: listener in its own thread', () => {
  let r: Running;
  const log: string[] = [];
  before(async () => {
    r = await startTestReplica({ debugPrint: () => {}, manualRounds: true, concurrencyLimits: { call: 1 }, requestLog: (line) => log.push(line) });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('status is answered while the main thread is blocked', async () => {
    const results = await answeredWhileMainThreadBlocked(r.url, [
      { method: 'GET', path: '/api/v2/status' },
      { method: 'GET', path: '/api/v2/status' },
    ]);
    assert.deepEqual(results, [
      { status: 200, text: '<cbor>' },
      { status: 200, text: '<cbor>' },
    ]);
  });

  test('a status body from the door equals the one the main thread serves (head split across two writes)', async () => {
    const viaDoor = await fetch(new URL('/api/v2/status', r.url));
    assert.equal(viaDoor.status, 200);
    assert.equal(viaDoor.headers.get('content-type'), 'application/cbor');
    assert.equal(viaDoor.headers.get('access-control-allow-origin'), '*');
    const a = decode(new Uint8Array(await viaDoor.arrayBuffer())) as Record<string, unknown>;
    // A head that arrives in two pieces is forwarded to the main thread's server.
    const { port } = new URL(r.url);
    const raw = await new Promise<Buffer>((resolve, reject) => {
      const s = connect(Number(port), '127.0.0.1');
      const chunks: Buffer[] = [];
      s.on('data', (c) => chunks.push(c));
      s.on('end', () => resolve(Buffer.concat(chunks)));
      s.on('error', reject);
      s.write('GET /api/v2/st');
      setTimeout(() => s.write('atus HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n'), 50);
    });
    const split = raw.indexOf('\r\n\r\n');
    assert.match(raw.subarray(0, split).toString(), /^HTTP\/1\.1 200 OK/);
    const b = decode(new Uint8Array(raw.subarray(split + 4))) as Record<string, unknown>;
    assert.deepEqual(b, a);
    assert.equal(a['replica_health_status'], 'healthy');
    assert.deepEqual(new Uint8Array(a['root_key'] as Uint8Array), r.replica.rootKey.publicKeyDer);
  });

  test('keep-alive: status twice, then a query, on one connection', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const get = (method: string, path: string, body?: Uint8Array) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(new URL(path, r.url), { method, agent, headers: body ? { 'content-type': 'application/cbor' } : {} }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode!));
        });
        req.on('error', reject);
        req.end(body ? Buffer.from(body) : undefined);
      });
    try {
      assert.equal(await get('GET', '/api/v2/status'), 200);
      assert.equal(await get('GET', '/api/v2/status'), 200);
      const id = Principal.fromText('aaaaa-aa');
      // A query (to the management canister: a 200 with a reject) is served by the main thread.
      assert.equal(await get('POST', `/api/v2/canister/${id.toText()}/query`, anonymousEnvelope('query', id, 'x', 1)), 200);
      assert.equal(sockets.size, 1, 'one connection throughout');
    } finally {
      agent.destroy();
    }
  });

  test('a call over the limit gets the 429 at the door while the main thread is blocked; the call in the slot completes', async () => {
    const agent = await HttpAgent.create({ host: r.url, shouldFetchRootKey: true });
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    const { canister_id: id } = await withRounds(r.replica, mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })) as { canister_id: Principal };
    await withRounds(r.replica,
      (Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any).install_code({
        mode: { install: null }, canister_id: id, wasm_module: await compileWat(NOOP_WAT), arg: new Uint8Array(), sender_canister_version: [],
      }),
    );
    const call = (nonce: number) => ({ method: 'POST', path: `/api/v3/canister/${id.toText()}/call`, body: anonymousEnvelope('call', id, 'noop', nonce) });
    const post = (nonce: number) => fetch(new URL(call(nonce).path, r.url), { method: 'POST', headers: { 'content-type': 'application/cbor' }, body: Buffer.from(call(nonce).body) });
    // The only call slot: a sync call that waits (no round runs). Wait until the limit is reached.
    const inSlot = post(1);
    for (let n = 2; (await post(n).then((x) => x.status)) !== 429; n++) await new Promise((res) => setTimeout(res, 20));
    log.length = 0;
    const results = await answeredWhileMainThreadBlocked(r.url, [call(100), call(101), call(102)]);
    assert.deepEqual(results, Array(3).fill({ status: 429, text: 'The service is overloaded.' }));
    const path = `/api/v3/canister/${id.toText()}/call`;
    for (let i = 0; i < 100 && log.length < 3; i++) await new Promise((res) => setTimeout(res, 20)); // lines come by message
    assert.deepEqual(log, Array(3).fill(`http  429 POST ${path}: The service is overloaded.`), 'refusals at the door are logged');
    await r.replica.runRound();
    assert.equal((await inSlot).status, 200);
  });
});
