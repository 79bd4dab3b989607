/**
 * Issue 17 (`/_/dashboard`): a real replica on 127.0.0.1:0 running the threshold protocol on
 * 4 nodes per key-holding subnet (one byzantine), a Motoko canister that signs once with
 * `test_key_1`. Plain HTTP: the page is one self-contained HTML document (no external assets) and
 * `/_/dashboard/state` reports the subnets, nodes and their states, keys with transcript and pool,
 * the canister's balance and the signing request with its fee. Headless Chromium (Debian's
 * package; skipped where absent): the page renders after its first refresh (DOM dump names the
 * subnets and keys) and a screenshot is produced and non-trivial.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import type { DashboardState } from '../../src/http/dashboard-state.ts';
import { CHROMIUM, SKIP_WITHOUT_CHROMIUM } from '../support/chromium.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { freeApplicationSubnetTopology, managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

const run = promisify(execFile);
const FEE_13 = 10_000_000_000n;

describe('/_/dashboard', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let canisterId: Principal;
  let balance: bigint;

  before(async () => {
    const wasm = await compileMotokoFixture('ChainKey');
    r = await startTestReplica({ debugPrint: () => {}, topology: freeApplicationSubnetTopology(), threshold: { nodes: 4, faulty: { count: 1, kind: 'byzantine' }, preSignaturesPerKey: 2 } });
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    canisterId = (await mgmt.provisional_create_canister_with_cycles({ amount: [1_000_000_000_000_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
    await mgmt.install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: wasm.wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    const actor = Actor.createActor(idlFactoryFromCandid(wasm.candid), { agent, canisterId }) as any;
    const res = await actor.signEcdsa('test_key_1', [new Uint8Array([1])], new Uint8Array(32).fill(7), FEE_13);
    assert.ok('ok' in res, JSON.stringify(res));
    balance = (await actor.balance()) as bigint;
  });
  after(async () => {
    await r?.cleanup();
  });

  test('the page is one self-contained HTML document that polls /_/dashboard/state', async () => {
    const res = await fetch(`${r.url}/_/dashboard`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /fetch\("\/_\/dashboard\/state"/);
    assert.doesNotMatch(html, /<(script|link|img)[^>]+(src|href)=/i, 'no external scripts, styles or images');
    assert.doesNotMatch(html, /https?:\/\//, 'no absolute URLs (no CDN)');
    assert.equal((await fetch(`${r.url}/_/dashboard/nope`)).status, 404);
  });

  test('/_/dashboard/state: subnets and node states, keys with transcript and pool, the canister, the request and its fee', async () => {
    const res = await fetch(`${r.url}/_/dashboard/state`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
    const s = (await res.json()) as DashboardState;
    assert.deepEqual(s.subnets.map((x) => x.name).sort(), ['application', 'fiduciary', 'nns', 'test-keys']);
    const testKeys = s.subnets.find((x) => x.name === 'test-keys')!;
    assert.equal(testKeys.size, 13, 'the declared size (fees) stays');
    assert.deepEqual(testKeys.nodes.map((n) => n.state), ['live', 'live', 'live', 'byzantine'], 'the last node is the faulty one');
    assert.ok(testKeys.nodes[3]!.behaviours.includes('bad-signature-share'));
    assert.equal(testKeys.stalled, false);
    const key = s.keys.find((k) => k.keyId === 'ecdsa:Secp256k1:test_key_1')!;
    assert.ok(key, JSON.stringify(s.keys.map((k) => k.keyId)));
    assert.equal(key.subnet, 'test-keys');
    assert.equal(key.nodes, 4);
    assert.equal(key.threshold, 2, 'f + 1 with f = 1');
    assert.match(key.transcriptId, /test_key_1/);
    assert.equal(key.pool?.target, 2);
    assert.ok(s.keys.some((k) => k.keyId.startsWith('vetkd:') && k.pool === null), 'vetKD keys have no pool');
    const c = s.canisters.find((x) => x.canisterId === canisterId.toText())!;
    assert.ok(c && c.hasCode && c.status === 'running');
    assert.equal(BigInt(c.cycles), balance);
    assert.equal(s.requests.length, 1);
    const req = s.requests[0]!;
    assert.equal(req.method, 'sign_with_ecdsa');
    assert.equal(req.keyId, 'ecdsa:Secp256k1:test_key_1');
    assert.equal(req.caller, canisterId.toText());
    assert.equal(req.outcome, 'signed');
    assert.equal(req.feeCycles, FEE_13.toString(), 'the fee of a 13-node key subnet');
    assert.equal(s.requestsInFlight, 0);
    assert.ok(s.certifiedHeight > 0);
  });

  test('headless Chromium renders it after the first refresh and takes a screenshot', { skip: SKIP_WITHOUT_CHROMIUM }, async () => {
    const profile = mkdtempSync(join(tmpdir(), 'ckr-chromium-'));
    try {
      // The server runs in this process: chromium must run asynchronously (never execFileSync).
      const flags = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', `--user-data-dir=${profile}`, '--virtual-time-budget=4000'];
      const { stdout: dom } = await run(CHROMIUM!, [...flags, '--dump-dom', `${r.url}/_/dashboard`], { timeout: 60_000, maxBuffer: 16 << 20 });
      const refreshes = Number(/<body[^>]*data-refreshes="(\d+)"/.exec(dom)?.[1] ?? 0);
      assert.ok(refreshes >= 1, `the page refreshed from /_/dashboard/state (data-refreshes=${refreshes})`);
      for (const name of ['test-keys', 'fiduciary', 'application', 'ecdsa:Secp256k1:test_key_1', 'schnorr:Ed25519:key_1', 'sign_with_ecdsa', canisterId.toText()]) {
        assert.ok(dom.includes(name), `the rendered DOM names ${name}`);
      }
      assert.ok(dom.includes('data-state="byzantine"'), 'the byzantine node is drawn');
      const png = join(profile, 'dashboard.png');
      await run(CHROMIUM!, [...flags, '--hide-scrollbars', '--window-size=1400,1100', `--screenshot=${png}`, `${r.url}/_/dashboard`], { timeout: 60_000 });
      const bytes = readFileSync(png);
      assert.deepEqual([...bytes.subarray(1, 4)].map((b) => String.fromCharCode(b)).join(''), 'PNG');
      assert.deepEqual([bytes.readUInt32BE(16), bytes.readUInt32BE(20)], [1400, 1100], 'IHDR: the window size');
      // A blank 1400×1100 page compresses to a few KB; tables, text and node tiles do not.
      assert.ok(statSync(png).size > 30_000, `screenshot of ${statSync(png).size} bytes`);
      // `CHAINKEY_DASHBOARD_PNG=<file>` keeps the screenshot for a look.
      if (process.env.CHAINKEY_DASHBOARD_PNG) copyFileSync(png, process.env.CHAINKEY_DASHBOARD_PNG);
    } finally {
      rmSync(profile, { recursive: true, force: true });
    }
  });
});
