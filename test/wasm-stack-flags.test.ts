/**
 * Every command line that runs canisters carries the Wasm stack flags of
 * src/execution/wasm/wasm-stack.ts (they cannot be set later, nor through NODE_OPTIONS): the npm
 * scripts, bin/chainkey-replica.mjs's shebang, bin/pocket-ic; and the flag check reads them as V8 does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { WASM_STACK_NODE_FLAGS, wasmStackFlagsInEffect } from '../src/execution/wasm/wasm-stack.ts';

const ROOT = new URL('..', import.meta.url);
const FLAGS = WASM_STACK_NODE_FLAGS.join(' ');

test('npm start, cli, test and bench, the bin shebang and bin/pocket-ic pass the Wasm stack flags to node', () => {
  const scripts = (JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as { scripts: Record<string, string> }).scripts;
  for (const name of ['start', 'cli', 'test', 'bench']) assert.ok(scripts[name]!.includes(`node ${FLAGS} `), `npm script ${name}: ${scripts[name]}`);
  const shebang = readFileSync(new URL('bin/chainkey-replica.mjs', ROOT), 'utf8').split('\n')[0];
  // Other node flags may follow (the young-generation cap).
  // Environment assignments may precede node (MALLOC_ARENA_MAX), other node flags follow it (the young-generation cap).
  assert.match(shebang!, new RegExp(`^#!/usr/bin/env -S (\\w+=\\S+ )*node ${FLAGS}( |$)`), shebang);
  const execs = readFileSync(new URL('bin/pocket-ic', ROOT), 'utf8').split('\n').filter((l) => /\bexec "?(\$n|node)"? /.test(l));
  assert.equal(execs.length, 2);
  for (const l of execs) assert.ok(l.includes(` ${FLAGS} `), l);
});

test('the flag check: both stacks at least 5 MiB, as V8 spells its flags (- or _)', () => {
  assert.equal(wasmStackFlagsInEffect(['--stack-size=5120', '--wasm-stack-switching-stack-size=5120']), true);
  assert.equal(wasmStackFlagsInEffect(['--stack_size=6000', '--wasm_stack_switching_stack_size=5120']), true);
  assert.equal(wasmStackFlagsInEffect(['--stack-size=5120']), false, 'JSPI stacks keep the default');
  assert.equal(wasmStackFlagsInEffect(['--stack-size=984', '--wasm-stack-switching-stack-size=5120']), false);
  assert.equal(wasmStackFlagsInEffect([]), false);
});

test('an OS stack (ulimit -s) too small for the 5 MiB JavaScript stack is noticed', () => {
  const check = (ulimitKib: number): string => {
    const code = `import('${new URL('../src/execution/wasm/wasm-stack.ts', import.meta.url).pathname}').then((m) => console.log(m.osStackTooSmall(['--stack-size=5120'])))`;
    const r = spawnSync('sh', ['-c', `ulimit -s ${ulimitKib} && exec "$0" -e "$1"`, process.execPath, code], { encoding: 'utf8' });
    return r.stdout.trim();
  };
  assert.equal(check(5120), 'true');
  assert.equal(check(8192), 'false');
});
