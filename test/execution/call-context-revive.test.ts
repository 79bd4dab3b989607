/**
 * Call contexts keep principals and request ids as values in memory; the store's JSON keeps them
 * as `$p` / `$b`. State dirs written before that hold them as text and hex: both read back as the
 * same in-memory values (src/execution/call-context.ts `fromJSON`).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Principal } from '@icp-sdk/core/principal';
import { CallContextManager } from '../../src/execution/call-context.ts';
import { fromJson, toJson } from '../../src/store/execution-repository.ts';

const caller = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
const sender = Principal.fromUint8Array(new Uint8Array([...new Uint8Array(28).fill(7), 0x02]));
const requestId = new Uint8Array(32).fill(0xab);
const closure = { fn: 1n, env: 2n };

test('call contexts and callbacks round-trip through the store JSON, and old text forms are revived', () => {
  const m = new CallContextManager();
  m.open({ kind: 'ingress', requestId, sender }, 'go', 0n);
  const cc = m.open({ kind: 'canister', caller, callbackId: 4, deadlineNanos: 0n }, 'go', 5n);
  m.register({ callContextId: cc.id, respondent: caller, cyclesSent: 1n, onReply: closure, onReject: closure, deadlineNanos: 0n });
  const again = CallContextManager.fromJSON(fromJson(toJson(m.toJSON())));
  assert.deepEqual(again.toJSON(), m.toJSON());

  const old = {
    nextContextId: 3,
    nextCallbackId: 2,
    contexts: [
      { id: 1, origin: { kind: 'ingress', requestId: Buffer.from(requestId).toString('hex'), sender: sender.toText() }, methodName: 'go', availableCycles: 0n, responded: false, deleted: false },
      { id: 2, origin: { kind: 'canister', caller: caller.toText(), callbackId: 4, deadlineNanos: 0n }, methodName: 'go', availableCycles: 5n, responded: false, deleted: false },
    ],
    callbacks: [{ id: 1, callContextId: 2, respondent: caller.toText(), cyclesSent: 1n, onReply: closure, onReject: closure, deadlineNanos: 0n }],
  };
  const revived = CallContextManager.fromJSON(old);
  assert.deepEqual(revived.toJSON(), m.toJSON());
  const origin = revived.contexts.get(1)!.origin;
  assert.ok(origin.kind === 'ingress' && origin.sender instanceof Principal && origin.requestId instanceof Uint8Array);
});

test('call contexts are stored one row each: a round writes only the entries it changed, and the rows read back the same', () => {
  const rows = new Map<string, string>();
  let header = '';
  const save = (m: CallContextManager): { put: number; removed: number } => {
    const c = m.takeStoreChanges();
    if (c.replaceAll) rows.clear();
    for (const r of c.removed) rows.delete(`${r.kind}:${r.id}`);
    for (const r of c.put) rows.set(`${r.kind}:${r.id}`, r.text);
    header = c.header;
    return { put: c.put.length, removed: c.removed.length };
  };
  const load = (): CallContextManager =>
    CallContextManager.fromStore(
      fromJson(header),
      [...rows].map(([k, text]) => ({ kind: Number(k.split(':')[0]) as 0 | 1, id: Number(k.split(':')[1]), text, value: fromJson(text) })).sort((a, b) => a.kind - b.kind || a.id - b.id),
    );
  const m = new CallContextManager();
  const a = m.open({ kind: 'ingress', requestId, sender }, 'go', 0n);
  const b = m.open({ kind: 'canister', caller, callbackId: 4, deadlineNanos: 0n }, 'go', 5n);
  const cb = m.register({ callContextId: b.id, respondent: caller, cyclesSent: 1n, onReply: closure, onReject: closure, deadlineNanos: 0n });
  assert.deepEqual(save(m), { put: 3, removed: 0 });
  assert.deepEqual(save(m), { put: 0, removed: 0 }, 'nothing changed: nothing written');
  // The fields rounds change in place are seen.
  b.availableCycles -= 2n;
  cb.timedOut = true;
  assert.deepEqual(save(m), { put: 2, removed: 0 });
  a.responded = true;
  a.instructions = 7n;
  m.closeIfDone(a.id);
  m.open({ kind: 'system' }, 'canister_global_timer', 0n);
  assert.deepEqual(save(m), { put: 1, removed: 1 });
  const again = load();
  assert.deepEqual(again.toJSON(), m.toJSON());
  // Ids go on where they left off, and the loaded manager diffs against the stored rows.
  assert.equal(again.open({ kind: 'system' }, 'x', 0n).id, 4);
  assert.deepEqual(save(again), { put: 1, removed: 0 });

  // A header of an older state dir (every entry in it) is rewritten as rows on the first save.
  const old = CallContextManager.fromStore(fromJson(toJson(m.toJSON())), []);
  assert.deepEqual(old.toJSON(), m.toJSON());
  rows.set('0:99', 'stale');
  const first = old.takeStoreChanges();
  assert.equal(first.replaceAll, true);
  assert.equal(first.put.length, m.contexts.size + m.callbacks.size);
});
