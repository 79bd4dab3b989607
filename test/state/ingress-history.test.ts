/**
 * The ingress history: pruning drops exactly the entries a scan would, the change feed for the
 * certified tree reports every put and every removal since it was last taken, and lookups see
 * every live entry — in memory only, and with a real SQLite store, where committed final entries
 * leave memory and are read back from the store (also after reopening it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { ReplicatedState } from '../../src/state/replicated-state.ts';
import { StateStore } from '../../src/store/state-store.ts';
import type { IngressRecord } from '../../src/store/ingress-repository.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const record = (id: number, expiry: bigint, status: IngressRecord['status']): IngressRecord => ({
  requestId: Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? id : 0)),
  sender: new Uint8Array([4]),
  canisterId: new Uint8Array(),
  methodName: 'm',
  status,
  ...(status === 'replied' && { reply: Uint8Array.of(id) }),
  expiryNanos: expiry,
  updatedNanos: 0n,
});

const op = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), id: fc.integer({ min: 0, max: 40 }), expiry: fc.bigInt({ min: 0n, max: 100n }), replied: fc.boolean() }),
  fc.record({ kind: fc.constant('prune' as const), before: fc.bigInt({ min: 0n, max: 110n }) }),
  fc.record({ kind: fc.constant('take' as const) }),
  fc.record({ kind: fc.constant('commit' as const) }),
  fc.record({ kind: fc.constant('reopen' as const) }),
);

function run(ops: { kind: string; id?: number; expiry?: bigint; replied?: boolean; before?: bigint }[], dir?: string): void {
  let store = dir ? StateStore.open(dir) : undefined;
  let s = store ? ReplicatedState.load(store) : new ReplicatedState();
  const model = new Map<string, IngressRecord>();
  let changed = new Set<string>();
  let fresh = true; // since load: the first take also streams every stored entry
  try {
    for (const o of ops) {
      if (o.kind === 'put') {
        // A request id fixes its expiry: a later status of the same id keeps the first expiry.
        const k = hex(record(o.id!, 0n, 'received').requestId);
        const e = record(o.id!, model.get(k)?.expiryNanos ?? o.expiry!, o.replied ? 'replied' : 'received');
        s.putIngress(e);
        model.set(k, e);
        changed.add(k);
      } else if (o.kind === 'prune') {
        let n = 0;
        for (const [k, e] of model) {
          if (e.expiryNanos < o.before!) {
            model.delete(k);
            changed.add(k);
            n++;
          }
        }
        assert.equal(s.pruneIngress(o.before!), n);
      } else if (o.kind === 'take') {
        const { put, removed } = s.takeIngressTreeChanges();
        const puts = [...put];
        const seen = new Set([...puts.map((e) => hex(e.requestId)), ...removed.map(hex)]);
        if (!fresh) assert.deepEqual([...seen].sort(), [...changed].sort());
        else for (const k of model.keys()) assert.ok(seen.has(k), 'the first take puts every entry');
        for (const e of puts) assert.deepEqual(model.get(hex(e.requestId)), e);
        for (const r of removed) assert.ok(!model.has(hex(r)));
        changed = new Set();
        fresh = false;
      } else if (store && o.kind === 'commit') {
        store.transaction(() => s.writeChanges(store!));
        s.clearChanges();
      } else if (store && o.kind === 'reopen') {
        store.transaction(() => s.writeChanges(store!));
        s.clearChanges();
        store.close();
        store = StateStore.open(dir!);
        s = ReplicatedState.load(store);
        changed = new Set();
        fresh = true;
      }
      assert.equal(s.ingressSize, model.size);
      for (let id = 0; id <= 40; id++) {
        const rid = record(id, 0n, 'received').requestId;
        assert.deepEqual(s.ingress(rid), model.get(hex(rid)), `lookup ${id}`);
      }
    }
  } finally {
    store?.close();
  }
}

test('ingress history in memory: pruning matches a scan; the tree feed sees puts and removals', () => {
  fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => run(ops)), { numRuns: 200 });
});

test('ingress history with a store: final entries leave memory and are read back, across reopening', () => {
  const root = mkdtempSync(join(tmpdir(), 'ckr-ingress-'));
  let i = 0;
  try {
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => run(ops, join(root, String(i++)))), { numRuns: 25 });
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
