/**
 * The layer order of src/ (README "Layout", house style): wiring (top-level files, and pocketic/,
 * which wires a replica per PocketIC instance) → http → canister-sdk → consensus → execution → management → state →
 * store → crypto → routing / cycles / candid → types. Every relative import must go to the same
 * folder or down, and the file graph must have no import cycle.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';

const SRC = resolve(import.meta.dirname, '../src');
const RANK: Record<string, number> = {
  '': 0,
  // The PocketIC server API creates and wires a whole replica per instance: it ranks with the wiring.
  pocketic: 0,
  // The system canisters' installer opens canisters in a new replica's state: wiring too.
  'system-canisters': 0,
  http: 1,
  'canister-sdk': 2,
  consensus: 3,
  execution: 4,
  management: 5,
  state: 6,
  store: 7,
  crypto: 8,
  routing: 9,
  cycles: 9,
  candid: 9,
  types: 10,
};

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

/** The top folder of a file under src/ ('' for top-level files). */
const layerOf = (file: string): string => {
  const parts = relative(SRC, file).split('/');
  return parts.length === 1 ? '' : parts[0]!;
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g;
const graph = new Map<string, string[]>();
for (const file of sourceFiles(SRC)) {
  const text = readFileSync(file, 'utf8');
  graph.set(file, [...text.matchAll(IMPORT)].map((m) => resolve(dirname(file), m[1]!)));
}

test('every src/ folder has a rank and no import goes up a layer', () => {
  const up: string[] = [];
  for (const [file, targets] of graph) {
    const from = layerOf(file);
    assert.ok(from in RANK, `src/${from}/ has no place in the layer order`);
    for (const t of targets) {
      const to = layerOf(t);
      if (RANK[to]! < RANK[from]!) up.push(`${relative(SRC, file)} -> ${relative(SRC, t)}`);
    }
  }
  assert.deepEqual(up, []);
});

test('no import cycles between src/ files', () => {
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      cycles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const t of graph.get(file) ?? []) visit(t, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(cycles, []);
});
