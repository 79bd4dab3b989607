/**
 * Test fixture: the replica as a real child process (`node <Wasm stack flags> src/cli.ts start --port 0`), for
 * restart and kill -9 tests. Resolves once the single `listening on <url>` line is printed.
 * `CHAINKEY_TEST_NODES=N` passes `--nodes N` (see replica-fixture.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import assert from 'node:assert/strict';
import { WASM_STACK_NODE_FLAGS } from '../../src/execution/wasm/wasm-stack.ts';

/** Starts `chainkey-replica start` on `stateDir` and waits for its listening line. */
export async function spawnReplica(stateDir: string, extraArgs: readonly string[] = []): Promise<{ child: ChildProcess; url: string }> {
  const nodes = process.env.CHAINKEY_TEST_NODES ? ['--nodes', process.env.CHAINKEY_TEST_NODES] : [];
  const child = spawn(process.execPath, [...WASM_STACK_NODE_FLAGS, 'src/cli.ts', 'start', '--port', '0', '--state-dir', stateDir, '--no-request-log', ...nodes, ...extraArgs], {
    cwd: new URL('../..', import.meta.url).pathname,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const { url, out } = await listeningUrl(child);
  assert.match(out, /^listening on http:\/\/127\.0\.0\.1:\d+\n$/, 'exactly one listening line');
  return { child, url };
}

/**
 * Waits for a started replica's `listening on <url>` line on its stdout.
 * @returns the URL and the stdout read so far.
 * @throws if the process exits first (with its exit code and stdout).
 */
export function listeningUrl(child: ChildProcess): Promise<{ url: string; out: string }> {
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^listening on (http:\/\/\S+)\n/m.exec(out);
      if (m) resolve({ url: m[1]!, out });
    });
    child.once('exit', (code) => reject(new Error(`replica exited with ${code} before listening; stdout: ${out}`)));
  });
}
