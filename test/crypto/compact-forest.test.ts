/**
 * The compact forest (src/crypto/compact-forest.ts) against the persistent labeled forest it
 * replaces for `/request_status`: random sequences of additions, replacements and removals give
 * the same root hash after every step; witness trees keep the root hash (ours and the agent's
 * reconstruct), reveal present labels with their subtrees, and prove absent ones Absent — also
 * after the generic `witness` prunes them further.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lookup_path as agentLookupPath, reconstruct as agentReconstruct, type HashTree as AgentHashTree } from '@icp-sdk/core/agent';
import { fork, labeled, leaf, lookupPath, reconstruct, type HashTree } from '../../src/crypto/hash-tree.ts';
import { CompactForest } from '../../src/crypto/compact-forest.ts';
import { LabeledForest } from '../../src/crypto/labeled-forest.ts';
import { witness } from '../../src/crypto/labeled-tree.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const labelArb = fc.oneof(
  fc.uint8Array({ minLength: 32, maxLength: 32 }),
  fc.integer({ min: 0, max: 15 }).map((i) => Uint8Array.from({ length: 32 }, (_, j) => (j === 31 ? i : j === 0 ? i & 1 : 0))),
);
const opArb = fc.tuple(fc.boolean(), labelArb, fc.string({ maxLength: 4 }));
const subtree = (v: string): HashTree => fork(labeled('reply', leaf(v)), labeled('status', leaf('replied')));

test('compact forest: same root hash as the labeled forest; witnesses reveal and prove absence', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(opArb, { maxLength: 60 }), fc.array(labelArb, { maxLength: 3 }), async (ops, probes) => {
      let reference = LabeledForest.EMPTY;
      const compact = new CompactForest();
      const model = new Map<string, string>();
      for (const [add, label, value] of ops) {
        if (add) {
          reference = reference.with(label, subtree(value));
          compact.set(label, reconstruct(subtree(value)));
          model.set(hex(label), value);
        } else {
          reference = reference.without(label);
          assert.equal(compact.delete(label), model.delete(hex(label)));
        }
        assert.equal(hex(compact.rootHash()), hex(reconstruct(reference.tree)));
        assert.equal(compact.size, model.size);
      }
      const root = compact.rootHash();
      const asked = [...probes, ...[...model.keys()].slice(0, 2).map((k) => Uint8Array.from(Buffer.from(k, 'hex')))];
      const w = compact.witnessTree(asked, (l) => subtree(model.get(hex(l))!));
      assert.equal(hex(reconstruct(w)), hex(root));
      assert.equal(hex(await agentReconstruct(w as unknown as AgentHashTree)), hex(root));
      const pruned = witness(w, asked.map((l) => [l]));
      assert.equal(hex(reconstruct(pruned)), hex(root));
      for (const l of asked) {
        const v = model.get(hex(l));
        for (const t of [w, pruned]) {
          const r = lookupPath([l, 'reply'], t);
          if (v === undefined) assert.equal(r.status, 'Absent', `absent ${hex(l)}`);
          else {
            assert.deepEqual(r, { status: 'Found', value: new TextEncoder().encode(v) });
            assert.equal(agentLookupPath([l, 'reply'], t as unknown as AgentHashTree).status, 'Found');
          }
        }
      }
      assert.equal(compact.has(probes[0] ?? new Uint8Array(32)), model.has(hex(probes[0] ?? new Uint8Array(32))));
    }),
    { numRuns: 150 },
  );
});

test('compact forest: labels of another length are refused; an empty forest hashes as [0]', () => {
  const f = new CompactForest();
  assert.equal(hex(f.rootHash()), hex(reconstruct([0])));
  f.set(new Uint8Array(32), reconstruct(leaf('x')));
  assert.throws(() => f.set(new Uint8Array(31), reconstruct(leaf('x'))), RangeError);
  assert.equal(f.delete(new Uint8Array(31)), false);
  assert.equal(f.delete(new Uint8Array(32)), true);
  assert.equal(hex(f.rootHash()), hex(reconstruct([0])));
});
