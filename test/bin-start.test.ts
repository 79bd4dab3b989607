/**
 * `bin/chainkey-replica.mjs` (what `npm start` runs) as a user runs it: its load and resolve hooks
 * (stripped-TypeScript cache, shortcut resolution) start the replica on a new state dir with an
 * empty cache and again with a full one; `status` (which loads its decoder when it runs) reads the
 * running replica; the root public key stored in the state dir (so later starts skip deriving it)
 * is the one derived from the stored secret.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { decode } from '@dfinity/cbor';
import { rootKeyFromSecretKey } from '../src/crypto/certificate.ts';
import { WASM_STACK_NODE_FLAGS } from '../src/execution/wasm/wasm-stack.ts';
import { StateStore } from '../src/store/state-store.ts';

const ROOT = new URL('..', import.meta.url).pathname;

/** Runs the bin's `start` with TMPDIR `tmp`; resolves at the listening line. */
async function startBin(stateDir: string, tmp: string): Promise<{ url: string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, [...WASM_STACK_NODE_FLAGS, 'bin/chainkey-replica.mjs', 'start', '--port', '0', '--state-dir', stateDir, '--no-request-log'], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: tmp },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on (http:\/\/\S+)\n/m.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code} before listening: ${out}`)));
  });
  return {
    url,
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

    const second = await startBin(stateDir, tmp);
    try {
      assert.equal(await rootKeyOf(second.url), rootKey);
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
