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

test('the memoized store text of call contexts equals their full encoding after in-place changes', () => {
  const m = new CallContextManager();
  const a = m.open({ kind: 'ingress', requestId, sender }, 'go', 0n);
  const b = m.open({ kind: 'canister', caller, callbackId: 4, deadlineNanos: 0n }, 'go', 5n);
  const cb = m.register({ callContextId: b.id, respondent: caller, cyclesSent: 1n, onReply: closure, onReject: closure, deadlineNanos: 0n });
  const full = (): string => toJson(m.toJSON());
  assert.equal(m.toJsonText(), full());
  // The fields rounds change in place: each change shows in the next text.
  b.availableCycles -= 2n;
  a.responded = true;
  a.instructions = 7n;
  cb.timedOut = true;
  assert.equal(m.toJsonText(), full());
  m.take(cb.id);
  m.closeIfDone(a.id);
  m.open({ kind: 'system' }, 'canister_global_timer', 0n);
  assert.equal(m.toJsonText(), full());
  assert.deepEqual(CallContextManager.fromJSON(fromJson(m.toJsonText())).toJSON(), m.toJSON());
});
