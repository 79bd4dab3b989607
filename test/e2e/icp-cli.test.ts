/**
 * Issue 12: the real icp-cli (1.5.0, the pinned `@icp-sdk/icp-cli-linux-x64` devDependency)
 * driven from an icp.yaml with pre-built Motoko Wasm modules against a replica this test starts,
 * as a connected network: deploy (one canister small, one over 2 MiB that icp-cli installs
 * through the chunk store), call, status, logs, top-up, cycles balance, snapshot
 * create/list/restore/download/upload, install --mode upgrade, token balance, cycles mint, delete
 * with cycle recovery. Every step is an `icp` command; the test only reads the replica's state to check
 * what the commands did. The HTTP gateway serves the canister's page to plain HTTP (and to
 * Debian's headless Chromium when it is installed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Principal } from '@icp-sdk/core/principal';
import { compileMotokoFixture } from '../support/motoko.ts';
import { CHROMIUM, SKIP_WITHOUT_CHROMIUM } from '../support/chromium.ts';
import { startTestReplica, tempStateDir } from '../support/replica-fixture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const ICP = join(ROOT, 'node_modules/@icp-sdk/icp-cli-linux-x64/bin/icp');
const run = promisify(execFile);

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const readLeb = (b: Uint8Array, at: number): [number, number] => {
  let v = 0;
  let shift = 0;
  for (;;) {
    const x = b[at++]!;
    v += (x & 0x7f) * 2 ** shift;
    shift += 7;
    if (!(x & 0x80)) return [v, at];
  }
};

/**
 * The module with one more, passive data segment of `size` bytes (never copied into memory, so
 * the canister behaves the same): a Motoko module made larger than an ingress message.
 */
function padded(wasm: Uint8Array, size: number): Uint8Array {
  const parts: Buffer[] = [Buffer.from(wasm.subarray(0, 8))];
  let at = 8;
  let added = false;
  while (at < wasm.length) {
    const id = wasm[at]!;
    const [len, start] = readLeb(wasm, at + 1);
    let content = Buffer.from(wasm.subarray(start, start + len));
    if (id === 11 || id === 12) {
      const [count, rest] = readLeb(content, 0);
      const tail = content.subarray(rest);
      content = Buffer.concat([Buffer.from(leb(count + 1)), tail]);
      if (id === 11) {
        content = Buffer.concat([content, Buffer.from([0x01, ...leb(size)]), Buffer.alloc(size, 0x5a)]);
        added = true;
      }
    }
    parts.push(Buffer.from([id, ...leb(content.length)]), content);
    at = start + len;
  }
  assert.ok(added, 'the module has a data section');
  return new Uint8Array(Buffer.concat(parts));
}

/** The body of a GET to the replica's port with the given Host header. */
function get(port: number, host: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('icp-cli against chainkey-replica', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  const log: string[] = [];
  const work = tempStateDir('ckr-icp-');
  const home = join(work, 'home');
  const project = join(work, 'project');
  let alice = '';
  let web: Principal;
  /** Runs `icp ARGS -e dev` in the project; resolves with stdout+stderr, rejects on a non-zero exit. */
  const icp = async (...args: string[]): Promise<string> => {
    const withEnv = ['identity', 'cycles', 'token'].includes(args[0]!) && args[1] !== 'balance' && args[1] !== 'mint' ? args : [...args, '-e', 'dev'];
    const out = await run(ICP, withEnv, { cwd: project, env: { ...process.env, HOME: home, DO_NOT_TRACK: '1', NO_COLOR: '1' }, timeout: 120_000 });
    return out.stdout + out.stderr;
  };
  const cyclesBalance = async (): Promise<bigint> => BigInt(/Balance: ([\d_]+) cycles/.exec(await icp('cycles', 'balance'))![1]!.replaceAll('_', ''));

  before(async () => {
    r = await startTestReplica({ debugPrint: () => {}, requestLog: (l) => log.push(l) });
    mkdirSync(home, { recursive: true });
    mkdirSync(project, { recursive: true });
    const { wasm } = await compileMotokoFixture('WebCounter');
    writeFileSync(join(project, 'web.wasm'), wasm);
    writeFileSync(join(project, 'big.wasm'), padded(wasm, 2_600_000));
    writeFileSync(
      join(project, 'icp.yaml'),
      [
        'canisters:',
        '  - name: web',
        '    build:',
        '      steps:',
        '        - type: pre-built',
        '          path: web.wasm',
        '  - name: big',
        '    build:',
        '      steps:',
        '        - type: pre-built',
        '          path: big.wasm',
        'networks:',
        '  - name: local-replica',
        '    mode: connected',
        `    url: ${r.url}`,
        '    root-key: fetch',
        'environments:',
        '  - name: dev',
        '    network: local-replica',
        '',
      ].join('\n'),
    );
    await icp('identity', 'new', 'alice', '--storage', 'plaintext');
    await icp('identity', 'default', 'alice');
    alice = (await icp('identity', 'principal')).trim().split('\n').pop()!.trim();
    // Funds for alice: 100T cycles and 10 ICP, through this replica's own mint command.
    await run(process.execPath, ['src/cli.ts', 'mint', '--to', alice, '--cycles', '100_000_000_000_000', '--icp', '1_000_000_000', '--url', r.url], { cwd: ROOT });
  });
  after(async () => {
    await r?.cleanup();
    rmSync(work, { recursive: true, force: true });
  });

  test('icp deploy creates both canisters through the cycles ledger and installs them; the big one through the chunk store', async () => {
    const out = await icp('deploy');
    web = Principal.fromText(/Created canister web with ID (\S+)/.exec(out)![1]!);
    const big = Principal.fromText(/Created canister big with ID (\S+)/.exec(out)![1]!);
    assert.match(out, new RegExp(`web: http://${web.toText()}\\.localhost:${r.port}/`));
    for (const id of [web, big]) {
      const c = r.replica.state.canister(id)!;
      assert.deepEqual(c.controllers.map((p) => p.toText()), [alice]);
      assert.ok(c.module, `${id.toText()} has code`);
    }
    assert.ok(r.replica.state.canister(big)!.module!.length > 2 * 1024 * 1024);
    assert.ok(log.some((l) => /^call  aaaaa-aa upload_chunk  from \S+  replied$/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => /^call  aaaaa-aa install_chunked_code  from \S+  replied$/.test(l)), log.join('\n'));
    assert.ok(log.some((l) => /^call  um5iw-rqaaa-aaaaq-qaaba-cai create_canister  from \S+  replied$/.test(l)));
  });

  test('canister call, status and logs (debug_print and the trap record)', async () => {
    assert.match(await icp('canister', 'call', 'web', 'inc', '()'), /\(1 : nat\)/);
    await assert.rejects(icp('canister', 'call', 'web', 'boom', '()'), /boom on purpose/);
    const status = await icp('canister', 'status', 'web');
    assert.match(status, /Status: Running/);
    assert.match(status, new RegExp(`controller: ${alice}`));
    const logs = await icp('canister', 'logs', 'web');
    assert.match(logs, /\[0\. [^\]]+\]: count is now 1/);
    assert.match(logs, /\[1\. [^\]]+\]: \[TRAP\]: boom on purpose/);
  });

  test('canister top-up moves exactly 1T from the cycles balance (plus the ledger fee)', async () => {
    const before = await cyclesBalance();
    const cyclesBefore = r.replica.state.canister(web)!.cycles;
    assert.match(await icp('canister', 'top-up', 'web', '--amount', '1t'), /Topped up canister web with 1_000_000_000_000 cycles/);
    assert.equal(r.replica.state.canister(web)!.cycles - cyclesBefore, 1_000_000_000_000n);
    assert.equal(await cyclesBalance(), before - 1_000_000_000_000n - 100_000_000n);
  });

  test('snapshot create / list / restore brings the counter back; install --mode upgrade keeps it; download / upload', async () => {
    await icp('canister', 'stop', 'web');
    const created = await icp('canister', 'snapshot', 'create', 'web');
    const id = /Created snapshot ([0-9a-f]+)/.exec(created)![1]!;
    assert.match(await icp('canister', 'snapshot', 'list', 'web'), new RegExp(id));
    await icp('canister', 'start', 'web');
    assert.match(await icp('canister', 'call', 'web', 'inc', '()'), /\(2 : nat\)/);
    await icp('canister', 'stop', 'web');
    assert.match(await icp('canister', 'snapshot', 'restore', 'web', id), /Restored canister web/);
    await icp('canister', 'start', 'web');
    assert.match(await icp('canister', 'call', 'web', 'get', '()'), /\(1 : nat\)/);
    assert.match(await icp('canister', 'install', 'web', '--mode', 'upgrade'), /installed successfully/);
    assert.match(await icp('canister', 'call', 'web', 'get', '()'), /\(1 : nat\)/);
    // Download the snapshot, delete it, upload it again as a new one, restore that.
    const dir = join(work, 'snapshot');
    assert.match(await icp('canister', 'snapshot', 'download', 'web', id, '--output', dir), /Snapshot downloaded/);
    await icp('canister', 'snapshot', 'delete', 'web', id);
    assert.equal(await icp('canister', 'call', 'web', 'inc', '()').then((o) => /\((\d+) : nat\)/.exec(o)![1]), '2');
    await icp('canister', 'stop', 'web');
    const uploaded = /Snapshot ([0-9a-f]+) uploaded successfully/.exec(await icp('canister', 'snapshot', 'upload', 'web', '--input', dir))![1]!;
    assert.notEqual(uploaded, id);
    await icp('canister', 'snapshot', 'restore', 'web', uploaded);
    await icp('canister', 'start', 'web');
    assert.match(await icp('canister', 'call', 'web', 'get', '()'), /\(1 : nat\)/);
  });

  test('the HTTP gateway serves the page by <id>.localhost and by ?canisterId=, POST upgrades to http_request_update', async () => {
    const byHost = await get(r.port, `${web.toText()}.localhost:${r.port}`, '/hello?x=1');
    assert.equal(byHost.status, 200);
    assert.match(byHost.body, /<h1>count 1<\/h1><p>path \/hello\?x=1<\/p>/);
    const byQuery = await fetch(`${r.url}/index.html?canisterId=${web.toText()}`);
    assert.equal(byQuery.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await byQuery.text(), /<p>path \/index.html<\/p>/);
    const posted = await fetch(`${r.url}/?canisterId=${web.toText()}`, { method: 'POST', body: 'x' });
    assert.equal(await posted.text(), 'posted; count 2');
  });

  test('headless Chromium renders the gateway page', { skip: SKIP_WITHOUT_CHROMIUM }, async () => {
    const { stdout } = await run(CHROMIUM!, ['--headless', '--no-sandbox', '--disable-gpu', '--dump-dom', `${r.url}/?canisterId=${web.toText()}`], { timeout: 60_000 });
    assert.match(stdout, /<h1>count 2<\/h1>/);
  });

  test('token balance, cycles mint (ICP → CMC → cycles ledger), canister delete recovers the cycles', async () => {
    assert.match(await icp('token', 'balance'), /Balance: 10\.00000000 ICP/);
    const before = await cyclesBalance();
    // 1 ICP at 3.5 XDR/ICP is 3.5T cycles, less the cycles ledger's 100M deposit fee.
    assert.match(await icp('cycles', 'mint', '--icp', '1'), /Minted 3_499_900_000_000 cycles/);
    assert.equal(await cyclesBalance(), before + 3_499_900_000_000n);
    assert.match(await icp('token', 'balance'), /Balance: 8\.99990000 ICP/);
    const held = r.replica.state.canister(web)!.cycles;
    await icp('canister', 'stop', 'web');
    const balance = await cyclesBalance();
    const deleted = await icp('canister', 'delete', 'web');
    const recovered = BigInt(/Recovered (\d+) cycles/.exec(deleted)![1]!);
    assert.ok(recovered > 0n && recovered <= held, `${recovered} of ${held}`);
    assert.equal(r.replica.state.canister(web), undefined);
    assert.ok((await cyclesBalance()) > balance);
  });
});
