/**
 * The in-memory ingress history: pruning in expiry order (a heap, not a scan) drops exactly the
 * entries a scan would, and the change feed for the certified tree reports every put and every
 * removal since it was last taken.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ReplicatedState } from '../../src/state/replicated-state.ts';
import type { IngressRecord } from '../../src/store/ingress-repository.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const record = (id: number, expiry: bigint, status: IngressRecord['status']): IngressRecord => ({
  requestId: Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? id : 0)),
  sender: new Uint8Array([4]),
  canisterId: new Uint8Array(),
  methodName: 'm',
  status,
  expiryNanos: expiry,
  updatedNanos: 0n,
});

test('ingress history: expiry-ordered pruning matches a scan; the tree feed sees puts and removals', () => {
  const op = fc.oneof(
    fc.record({ kind: fc.constant('put' as const), id: fc.integer({ min: 0, max: 40 }), expiry: fc.bigInt({ min: 0n, max: 100n }), replied: fc.boolean() }),
    fc.record({ kind: fc.constant('prune' as const), before: fc.bigInt({ min: 0n, max: 110n }) }),
    fc.record({ kind: fc.constant('take' as const) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const s = new ReplicatedState();
      const model = new Map<string, IngressRecord>();
      let changed = new Set<string>();
      for (const o of ops) {
        if (o.kind === 'put') {
          // A request id fixes its expiry: a later status of the same id keeps the first expiry.
          const k = hex(record(o.id, 0n, 'received').requestId);
          const e = record(o.id, model.get(k)?.expiryNanos ?? o.expiry, o.replied ? 'replied' : 'received');
          s.putIngress(e);
          model.set(k, e);
          changed.add(k);
        } else if (o.kind === 'prune') {
          let n = 0;
          for (const [k, e] of model) {
            if (e.expiryNanos < o.before) {
              model.delete(k);
              changed.add(k);
              n++;
            }
          }
          assert.equal(s.pruneIngress(o.before), n);
        } else {
          const { put, removed } = s.takeIngressTreeChanges();
          const seen = [...put.map((e) => hex(e.requestId)), ...removed.map(hex)].sort();
          assert.deepEqual(seen, [...changed].sort());
          for (const e of put) assert.equal(model.get(hex(e.requestId)), e);
          for (const r of removed) assert.ok(!model.has(hex(r)));
          changed = new Set();
        }
        assert.equal(s.ingressSize, model.size);
      }
    }),
    { numRuns: 300 },
  );
});
