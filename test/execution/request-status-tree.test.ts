/**
 * `/request_status/<id>` subtrees are built directly (sharing one `status` node per status) and
 * must be exactly what the generic builder makes of the same labels: same root hash, same lookups.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lookupPath, reconstruct } from '../../src/crypto/hash-tree.ts';
import { buildHashTree } from '../../src/crypto/labeled-tree.ts';
import { encodeUleb128 } from '../../src/crypto/leb128.ts';
import { requestStatusOf } from '../../src/execution/state-tree.ts';
import type { IngressRecord } from '../../src/store/ingress-repository.ts';

const enc = new TextEncoder();
const entry = fc.record({
  status: fc.constantFrom('received', 'processing', 'replied', 'rejected', 'done') as fc.Arbitrary<IngressRecord['status']>,
  reply: fc.uint8Array({ maxLength: 40 }),
  rejectCode: fc.integer({ min: 1, max: 6 }),
  rejectMessage: fc.string(),
  errorCode: fc.option(fc.constantFrom('IC0406', 'IC0503'), { nil: undefined }),
});

test('request_status subtrees equal the generic builder\'s, for every status', () => {
  fc.assert(
    fc.property(entry, (x) => {
      const e: IngressRecord = {
        requestId: new Uint8Array(32),
        sender: new Uint8Array([4]),
        canisterId: new Uint8Array(),
        methodName: 'm',
        status: x.status,
        ...(x.status === 'replied' && { reply: x.reply }),
        ...(x.status === 'rejected' && { rejectCode: x.rejectCode, rejectMessage: x.rejectMessage, ...(x.errorCode && { errorCode: x.errorCode }) }),
        expiryNanos: 0n,
        updatedNanos: 0n,
      };
      const m = new Map<string, Uint8Array>([['status', enc.encode(e.status)]]);
      if (e.reply) m.set('reply', e.reply);
      if (e.status === 'rejected') {
        m.set('reject_code', encodeUleb128(e.rejectCode!));
        m.set('reject_message', enc.encode(e.rejectMessage!));
        if (e.errorCode) m.set('error_code', enc.encode(e.errorCode));
      }
      const direct = requestStatusOf(e);
      assert.equal(Buffer.from(reconstruct(direct)).toString('hex'), Buffer.from(reconstruct(buildHashTree(m))).toString('hex'));
      for (const label of ['status', 'reply', 'reject_code', 'reject_message', 'error_code']) {
        assert.deepEqual(lookupPath([label], direct), lookupPath([label], buildHashTree(m)), label);
      }
    }),
    { numRuns: 300 },
  );
});
