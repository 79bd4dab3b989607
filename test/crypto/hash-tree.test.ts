/**
 * Hash trees: the spec's example tree (CBOR, root hash), its pruned form and lookups; the
 * builder and `witness` on random labeled data, checked against `reconstruct` and
 * `lookup_path` of `@icp-sdk/core/agent`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { decode } from '@dfinity/cbor';
import { lookup_path as agentLookupPath, reconstruct as agentReconstruct, type HashTree as AgentHashTree } from '@icp-sdk/core/agent';
import {
  empty,
  encodeHashTree as encode,
  fork,
  hashTreeFromCbor,
  labeled,
  leaf,
  lookupPath,
  reconstruct,
  type HashTree,
} from '../../src/crypto/hash-tree.ts';
import { buildHashTree, witness, type LabeledTree } from '../../src/crypto/labeled-tree.ts';

const spec = JSON.parse(readFileSync(new URL('../vectors/interface-spec.json', import.meta.url), 'utf8')).hashTree;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));

// The spec's example, written with the constructors.
const specTree: HashTree = fork(
  fork(
    labeled('a', fork(fork(labeled('x', leaf('hello')), empty()), labeled('y', leaf('world')))),
    labeled('b', leaf('good')),
  ),
  fork(labeled('c', empty()), labeled('d', leaf('morning'))),
);

test('spec example: CBOR encoding and root hash', () => {
  assert.equal(hex(encode(specTree)), spec.cbor);
  assert.equal(hex(reconstruct(hashTreeFromCbor(decode(unhex(spec.cbor))))), spec.rootHash);
  assert.equal(hex(reconstruct(specTree)), spec.rootHash);
});

test('spec example: witness for /a/y, /ax, /d is the spec\'s pruned tree', () => {
  const w = witness(specTree, spec.prunePaths);
  assert.equal(hex(encode(w)), spec.prunedCbor);
  assert.equal(hex(reconstruct(w)), spec.rootHash);
});

test('spec example: lookup_path in the pruned tree', () => {
  const prunedTree = hashTreeFromCbor(decode(unhex(spec.prunedCbor)));
  for (const [path, status, value] of spec.lookupsInPruned as [string[], string, string?][]) {
    const r = lookupPath(path, prunedTree);
    assert.equal(r.status, status, path.join('/'));
    if (value !== undefined) assert.equal(r.status === 'Found' && Buffer.from(r.value).toString(), value);
    // The agent must find the values; for non-Found answers it departs from the spec (e.g.
    // it answers Absent for /bb, where the spec says Unknown), so only Found is compared.
    if (r.status === 'Found') assert.deepEqual(agentLookupPath(path, prunedTree as AgentHashTree), r);
  }
});

test('lookup_path Error for a path ending at an inner node; Absent in an empty tree', () => {
  assert.equal(lookupPath(['a'], specTree).status, 'Error');
  assert.equal(lookupPath([], specTree).status, 'Error');
  assert.equal(lookupPath(['a'], empty()).status, 'Absent');
  assert.equal(lookupPath(['c'], specTree).status, 'Absent');
});

test('hashTreeFromCbor rejects malformed nodes', () => {
  assert.throws(() => hashTreeFromCbor([5]), TypeError);
  assert.throws(() => hashTreeFromCbor([4, new Uint8Array(31)]), TypeError);
  assert.throws(() => hashTreeFromCbor([1, [0]]), TypeError);
  assert.throws(() => hashTreeFromCbor([2, 'a', [0]]), TypeError);
});

test('builder: sorted labels, any key type, and the same hash as the agent', async () => {
  const t: LabeledTree = new Map<string | Uint8Array, LabeledTree | Uint8Array>([
    ['time', Uint8Array.of(1)],
    [Uint8Array.of(0xff), new Map()],
    ['canister', new Map([['abc', Uint8Array.of(2, 3)]])],
  ]);
  const h = buildHashTree(t);
  assert.equal(hex(reconstruct(h)), hex(await agentReconstruct(h as AgentHashTree)));
  assert.deepEqual(lookupPath(['canister', 'abc'], h), { status: 'Found', value: Uint8Array.of(2, 3) });
  assert.equal(lookupPath([Uint8Array.of(0xff)], h).status, 'Absent');
  const clash: LabeledTree = new Map<string | Uint8Array, Uint8Array>([['a', Uint8Array.of(1)], [Uint8Array.of(0x61), Uint8Array.of(2)]]);
  assert.throws(() => buildHashTree(clash), RangeError);
});

test('builder: an unchanged subtree is reused (same node), so it is not rehashed', () => {
  const big: LabeledTree = new Map(Array.from({ length: 50 }, (_, i) => [`k${i}`, Uint8Array.of(i)] as const));
  const v1 = buildHashTree(new Map<string, LabeledTree | Uint8Array>([['big', big], ['time', Uint8Array.of(1)]]));
  const v2 = buildHashTree(new Map<string, LabeledTree | Uint8Array>([['big', big], ['time', Uint8Array.of(2)]]));
  const bigNode = (t: HashTree): HashTree => {
    const r = t[0] === 1 ? t[1] : t;
    assert.equal(r[0], 2);
    return (r as readonly [2, Uint8Array, HashTree])[2];
  };
  assert.equal(bigNode(v1), bigNode(v2));
  assert.notEqual(hex(reconstruct(v1)), hex(reconstruct(v2)));
});

// Random labeled trees with two-letter labels from a small alphabet, so that absent labels
// fall before, between and after present ones. Labels are prefix-free: the agent's label
// comparison (isBufferGreaterThan) cannot find a label whose proper prefix is also present.
const label = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 2, maxLength: 2 });
const labeledTreeArb: fc.Arbitrary<LabeledTree> = fc.letrec((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.uint8Array({ maxLength: 4 }),
    fc.uniqueArray(fc.tuple(label, tie('node')), { selector: (e) => e[0], maxLength: 5 }).map((es) => new Map(es)),
  ),
})).node.filter((n: unknown) => n instanceof Map) as unknown as fc.Arbitrary<LabeledTree>;
const pathArb = fc.array(label, { minLength: 1, maxLength: 3 });

test('witness keeps the root hash and answers lookups like the full tree (ours and the agent\'s)', async () => {
  await fc.assert(
    fc.asyncProperty(labeledTreeArb, fc.array(pathArb, { maxLength: 4 }), pathArb, async (lt, paths, probe) => {
      const full = buildHashTree(lt);
      const w = witness(full, paths);
      const roundTripped = hashTreeFromCbor(decode(encode(w)));
      assert.equal(hex(reconstruct(roundTripped)), hex(reconstruct(full)));
      assert.equal(hex(await agentReconstruct(roundTripped as AgentHashTree)), hex(reconstruct(full)));
      for (const p of [...paths, probe]) {
        const inFull = lookupPath(p, full);
        const inWitness = lookupPath(p, roundTripped);
        // The agent's find_label is a recursive variant of the spec's; it may say Unknown where
        // the spec proves Absent, but must find every value the witness holds.
        if (inWitness.status === 'Found') {
          assert.deepEqual(agentLookupPath(p, roundTripped as AgentHashTree), inWitness, `agent ${p.join('/')}`);
        }
        if (paths.some((q) => q.length <= p.length && q.every((l, i) => l === p[i]))) {
          // A requested path (or below one): the witness answers exactly as the full tree.
          assert.deepEqual(inWitness, inFull, p.join('/'));
        } else if (inWitness.status !== 'Unknown') {
          assert.deepEqual(inWitness, inFull, p.join('/'));
        }
      }
      for (const p of paths) {
        // Requested paths are never Unknown: found, or provably absent (or an inner node).
        assert.notEqual(lookupPath(p, roundTripped).status, 'Unknown', p.join('/'));
      }
    }),
    { numRuns: 400 },
  );
});

test('witness with prefix labels (a, ab, …): requested paths never Unknown, root hash kept', () => {
  const shortLabel = fc.string({ unit: fc.constantFrom('a', 'b', 'c'), minLength: 1, maxLength: 2 });
  const tree: fc.Arbitrary<LabeledTree> = fc
    .uniqueArray(fc.tuple(shortLabel, fc.oneof(fc.uint8Array({ maxLength: 2 }), fc.constant(new Map()))), {
      selector: (e) => e[0],
      maxLength: 8,
    })
    .map((es) => new Map<string, LabeledTree | Uint8Array>(es));
  fc.assert(
    fc.property(tree, fc.array(fc.array(shortLabel, { minLength: 1, maxLength: 2 }), { maxLength: 4 }), (lt, paths) => {
      const full = buildHashTree(lt);
      const w = witness(full, paths);
      assert.equal(hex(reconstruct(w)), hex(reconstruct(full)));
      for (const p of paths) {
        assert.deepEqual(lookupPath(p, w), lookupPath(p, full), p.join('/'));
        assert.notEqual(lookupPath(p, w).status, 'Unknown');
      }
    }),
    { numRuns: 400 },
  );
});
