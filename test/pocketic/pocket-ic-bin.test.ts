/**
 * bin/pocket-ic as PicJS and users start it (issue 14): `--port-file F` gets `<port>\n` once the
 * server listens and is deleted on SIGTERM; a server finding F already there exits at once with
 * status 0 and leaves F alone; `--ttl` and `--hard-ttl` end the process by themselves; canister
 * logs go to stderr; `GET /` answers (users poll it). Request and response JSON keep u64 values
 * exact.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PocketIc } from '@dfinity/pic';
import { POCKET_IC_BIN } from '../support/pocket-ic.ts';
import { compileWat } from '../support/wat.ts';

const dir = mkdtempSync(join(tmpdir(), 'ckr-picbin-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function start(args: string[]): { child: ChildProcess; exited: Promise<number | null>; stderr: () => string } {
  const child = spawn(POCKET_IC_BIN, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, stderr: () => err };
}

async function portOf(file: string): Promise<number> {
  for (let i = 0; i < 300; i++) {
    if (existsSync(file)) {
      const text = readFileSync(file, 'utf8');
      if (/^\d+\n$/.test(text)) return Number(text.trim());
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`no port in ${file}`);
}

describe('bin/pocket-ic', () => {
  it('writes the port once listening, serves PicJS, logs canisters to stderr, deletes the port file on SIGTERM', async () => {
    const file = join(dir, 'a.port');
    const p = start(['--port-file', file]);
    try {
      const port = await portOf(file);
      const url = `http://127.0.0.1:${port}`;
      assert.equal((await fetch(url)).status, 200);
      const pic = await PocketIc.create(url);
      const id = await pic.createCanister();
      await pic.installCode({
        canisterId: id,
        wasm: await compileWat(`(module
          (import "ic0" "debug_print" (func $print (param i32 i32)))
          (memory 1) (data (i32.const 0) "hello from init")
          (func (export "canister_init") (call $print (i32.const 0) (i32.const 15))))`),
      });
      await pic.tearDown();
      assert.match(p.stderr(), new RegExp(`\\[Canister ${id.toText()}\\] hello from init`));
      // Exact u64 both ways: a time above 2^53 comes back digit for digit.
      const created = (await (await fetch(`${url}/instances`, { method: 'POST', body: '{"subnet_config_set":{"application":[{}]}}' })).json()) as { Created: { instance_id: number } };
      const time = `${url}/instances/${created.Created.instance_id}`;
      await fetch(`${time}/update/set_time`, { method: 'POST', body: '{"nanos_since_epoch":1893456000000000001}' });
      assert.equal(await (await fetch(`${time}/read/get_time`)).text(), '{"nanos_since_epoch":1893456000000000001}');
    } finally {
      p.child.kill('SIGTERM');
    }
    assert.equal(await p.exited, 0);
    assert.equal(existsSync(file), false, 'port file deleted');
  });

  it('exits at once with status 0 when the port file exists (another server owns it)', async () => {
    const file = join(dir, 'b.port');
    writeFileSync(file, '12345\n');
    const p = start(['--port-file', file]);
    assert.equal(await p.exited, 0);
    assert.equal(readFileSync(file, 'utf8'), '12345\n');
  });

  it('--ttl ends an idle server and --hard-ttl any server, deleting the port file', async () => {
    const idle = join(dir, 'c.port');
    const hard = join(dir, 'd.port');
    const a = start(['--port-file', idle, '--ttl', '1']);
    const b = start(['--port-file', hard, '--ttl', '600', '--hard-ttl', '1']);
    await Promise.all([portOf(idle), portOf(hard)]);
    assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    assert.equal(existsSync(idle) || existsSync(hard), false);
  });
});
