/**
 * `bin/chainkey-replica.mjs` (what `npm start` runs) as a user runs it: its load and resolve hooks
 * (stripped-TypeScript cache, shortcut resolution) start the replica on a new state dir with an
 * empty cache and again with a full one, the second time through its shebang (which sets
 * MALLOC_ARENA_MAX=2 for the process); `status` (which loads its decoder when it runs) reads the
 * running replica; the root public key stored in the state dir (so later starts skip deriving it)
 * is the one derived from the stored secret. And every launcher of the replica sets MALLOC_ARENA_MAX.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from '@dfinity/cbor';
import { rootKeyFromSecretKey } from '../src/crypto/certificate.ts';
import { WASM_STACK_NODE_FLAGS } from '../src/execution/wasm/wasm-stack.ts';
import { StateStore } from '../src/store/state-store.ts';
import { listeningUrl } from './support/replica-process.ts';

const ROOT = new URL('..', import.meta.url).pathname;
/** V8's young-generation cap and old-generation growth (README, "Memory"). */
const HEAP_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=100'];

/**
 * Runs the bin's `start` with TMPDIR `tmp` (with `shebang`, as an executable, this Node first on
 * PATH: as `npx chainkey-replica` runs it); resolves at the listening line.
 */
async function startBin(stateDir: string, tmp: string, shebang = false): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const args = ['start', '--port', '0', '--state-dir', stateDir, '--no-request-log'];
  const env = { ...process.env, TMPDIR: tmp, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
  const child = shebang
    ? spawn(join(ROOT, 'bin/chainkey-replica.mjs'), args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, [...WASM_STACK_NODE_FLAGS, 'bin/chainkey-replica.mjs', ...args], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const { url } = await listeningUrl(child);
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

async function rootKeyOf(url: string): Promise<string> {
  const status = decode(new Uint8Array(await (await fetch(`${url}/api/v2/status`)).arrayBuffer())) as { root_key: Uint8Array };
  return Buffer.from(status.root_key).toString('hex');
}

test('the bin starts with an empty and with a full TypeScript cache; status works; the stored root public key is the derived one', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'ckr-bin-'));
  const stateDir = join(tmp, 'state');
  try {
    const first = await startBin(stateDir, tmp);
    const rootKey = await rootKeyOf(first.url);
    await first.stop();
    const cacheDirs = readdirSync(tmp).filter((d) => d.startsWith('chainkey-replica-ts-cache-'));
    assert.equal(cacheDirs.length, 1);
    assert.equal(readdirSync(join(tmp, cacheDirs[0]!)).filter((f) => f.endsWith('.json')).length, 1, 'one cache file, written after the first start');

    const second = await startBin(stateDir, tmp, true);
    try {
      assert.equal(await rootKeyOf(second.url), rootKey);
      assert.ok(readFileSync(`/proc/${second.pid}/environ`, 'latin1').split('\0').includes('MALLOC_ARENA_MAX=2'), 'the shebang sets MALLOC_ARENA_MAX=2');
      const { stdout } = await promisify(execFile)(process.execPath, ['bin/chainkey-replica.mjs', 'status', '--url', second.url], { cwd: ROOT, env: { ...process.env, TMPDIR: tmp } });
      assert.equal((JSON.parse(stdout) as { root_key: string }).root_key, rootKey);
    } finally {
      await second.stop();
    }

    const store = StateStore.openReadOnly(stateDir);
    try {
      const stored = store.meta.get('root_key_public');
      const derived = rootKeyFromSecretKey(store.meta.get('root_key_secret')!);
      assert.equal(Buffer.from(stored!).toString('hex'), Buffer.from(derived.publicKey).toString('hex'));
      assert.equal(Buffer.from(derived.publicKeyDer).toString('hex'), rootKey);
    } finally {
      store.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});

test('npm start, npm run cli, bin/pocket-ic and the bench\'s replica child launch node with MALLOC_ARENA_MAX=2; they and the shebang with the V8 heap flags', () => {
  const scripts = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts;
  const shebang = readFileSync(join(ROOT, 'bin/chainkey-replica.mjs'), 'utf8').split('\n')[0]!;
  for (const line of [scripts.start!, scripts.cli!, shebang]) for (const flag of HEAP_FLAGS) assert.ok(line.includes(` ${flag}`), `${flag}: ${line}`);
  for (const flag of HEAP_FLAGS) assert.match(readFileSync(join(ROOT, 'bench/replica-child.ts'), 'utf8'), new RegExp(`'${flag}'`));
  for (const name of ['start', 'cli']) assert.match(scripts[name]!, /^MALLOC_ARENA_MAX=2 node /, name);
  assert.match(readFileSync(join(ROOT, 'bin/pocket-ic'), 'utf8'), /^export MALLOC_ARENA_MAX=2$/m);
  assert.match(readFileSync(join(ROOT, 'bench/replica-child.ts'), 'utf8'), /env: \{ \.\.\.process\.env, MALLOC_ARENA_MAX: '2' \}/);
});
