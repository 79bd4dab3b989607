/**
 * The persistent labeled forest behind `/request_status` (src/crypto/labeled-forest.ts): random
 * sequences of additions, replacements and removals of 32-byte labels, checked against a plain
 * map model — labels in bytewise order under `flatten_forks`, lookups (ours and the agent's),
 * witnesses that keep the root hash and prove absence, and earlier versions left unchanged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lookup_path as agentLookupPath, reconstruct as agentReconstruct, type HashTree as AgentHashTree } from '@icp-sdk/core/agent';
import { flattenForks, leaf, lookupPath, NodeKind, reconstruct, type HashTree } from '../../src/crypto/hash-tree.ts';
import { LabeledForest } from '../../src/crypto/labeled-forest.ts';
import { witness } from '../../src/crypto/labeled-tree.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
// Labels sharing long prefixes exercise deep crit bits; a few distinct values make replacements and
// removals of present labels likely.
const labelArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.integer({ min: 0, max: 15 }).map((i) => Uint8Array.from({ length: 32 }, (_, j) => (j === 31 ? i : j === 0 ? i & 1 : 0))),
);
const opArb = fc.tuple(fc.boolean(), labelArb, fc.string({ maxLength: 4 }));

function labelsOf(t: HashTree): string[] {
  return flattenForks(t).map((n) => {
    assert.equal(n[0], NodeKind.Labeled);
    return hex(n[1] as Uint8Array);
  });
}

test('forest: labels sorted, lookups and witnesses as the model says, old versions unchanged', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), labelArb, async (ops, probe) => {
      let forest = LabeledForest.EMPTY;
      const model = new Map<string, string>();
      const versions: [LabeledForest, string[], Uint8Array][] = [];
      for (const [add, label, value] of ops) {
        if (add) {
          forest = forest.with(label, leaf(value));
          model.set(hex(label), value);
        } else {
          forest = forest.without(label);
          model.delete(hex(label));
        }
        versions.push([forest, [...model.keys()].sort(), reconstruct(forest.tree)]);
      }
      assert.equal(forest.size, model.size);
      for (const [f, labels, root] of versions) {
        assert.deepEqual(labelsOf(f.tree), labels);
        assert.equal(hex(reconstruct(f.tree)), hex(root));
      }
      const tree = forest.tree;
      for (const [k, v] of model) {
        assert.deepEqual(lookupPath([Buffer.from(k, 'hex')], tree), { status: 'Found', value: new TextEncoder().encode(v) });
      }
      const expected = model.has(hex(probe)) ? 'Found' : 'Absent';
      assert.equal(lookupPath([probe], tree).status, expected);
      assert.equal(forest.get(probe) !== undefined, model.has(hex(probe)));
      // A witness for the probe: same root hash (ours and the agent's), same answer.
      const w = witness(tree, [[probe]]);
      assert.equal(hex(reconstruct(w)), hex(reconstruct(tree)));
      assert.equal(hex(await agentReconstruct(w as AgentHashTree)), hex(reconstruct(tree)));
      assert.equal(lookupPath([probe], w).status, expected);
      if (expected === 'Found') assert.equal(agentLookupPath([probe], w as AgentHashTree).status, 'Found');
    }),
    { numRuns: 300 },
  );
});

test('forest: labels of another length are refused', () => {
  const f = LabeledForest.EMPTY.with(new Uint8Array(32), leaf('x'));
  assert.throws(() => f.with(new Uint8Array(31).fill(1), leaf('y')), RangeError);
});
