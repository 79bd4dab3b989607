/**
 * `/request_status/<id>` subtrees are built directly (sharing one `status` node per status) and
 * must be exactly what the generic builder makes of the same labels: same root hash, same lookups.
 * Certificates reveal entries as they were certified, not as changed since.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { lookupPath, reconstruct, type HashTree } from '../../src/crypto/hash-tree.ts';
import { buildHashTree } from '../../src/crypto/labeled-tree.ts';
import { encodeUleb128 } from '../../src/crypto/leb128.ts';
import { requestStatusOf, StateTreeBuilder, type StateTreeInputs } from '../../src/execution/state-tree.ts';
import { ReplicatedState } from '../../src/state/replicated-state.ts';
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

test('certificates reveal request_status as certified, not as changed since', () => {
  const state = new ReplicatedState();
  const builder = new StateTreeBuilder();
  const inputs = (): StateTreeInputs => ({
    timeNanos: 1n,
    subnets: [],
    rootSubnet: undefined as never,
    rootKeyDer: new Uint8Array(),
    nodeId: undefined as never,
    nodeKeyDer: new Uint8Array(),
    canisters: [],
    certifiedData: () => new Uint8Array(),
    ingressChanges: state.takeIngressTreeChanges(),
  });
  // Only the request_status level is looked at: the hash the certificate signs for it.
  const certify = (): Uint8Array => reconstruct((builder.build(inputs()).get('request_status') as { tree: HashTree }).tree);
  const ids = [1, 2, 3].map((i) => new Uint8Array(32).fill(i));
  const record = (id: Uint8Array, status: IngressRecord['status']): IngressRecord => ({
    requestId: id, sender: new Uint8Array([4]), canisterId: new Uint8Array(), methodName: 'm', status,
    ...(status === 'replied' && { reply: enc.encode('ok') }), expiryNanos: 10n, updatedNanos: 0n,
  });
  state.putIngress(record(ids[0]!, 'processing'));
  state.putIngress(record(ids[1]!, 'replied'));
  const root1 = certify();
  // Changed (and a new entry) after certification: a certificate still shows what was certified.
  state.putIngress(record(ids[0]!, 'replied'));
  state.putIngress(record(ids[2]!, 'received'));
  const w = builder.requestStatusWitness(ids, (id) => state.ingressAsCertified(id));
  assert.equal(Buffer.from(reconstruct(w)).toString('hex'), Buffer.from(root1).toString('hex'));
  assert.deepEqual(lookupPath([ids[0]!, 'status'], w), { status: 'Found', value: enc.encode('processing') });
  assert.deepEqual(lookupPath([ids[1]!, 'reply'], w), { status: 'Found', value: enc.encode('ok') });
  assert.equal(lookupPath([ids[2]!, 'status'], w).status, 'Absent');
  const root2 = certify();
  const w2 = builder.requestStatusWitness(ids, (id) => state.ingressAsCertified(id));
  assert.equal(Buffer.from(reconstruct(w2)).toString('hex'), Buffer.from(root2).toString('hex'));
  assert.deepEqual(lookupPath([ids[0]!, 'status'], w2), { status: 'Found', value: enc.encode('replied') });
  assert.deepEqual(lookupPath([ids[2]!, 'status'], w2), { status: 'Found', value: enc.encode('received') });
  // Pruned after expiry: absent once certified, still shown until then.
  state.pruneIngress(11n);
  assert.deepEqual(lookupPath([ids[1]!, 'reply'], builder.requestStatusWitness([ids[1]!], (id) => state.ingressAsCertified(id))), { status: 'Found', value: enc.encode('ok') });
  certify();
  assert.equal(lookupPath([ids[1]!, 'reply'], builder.requestStatusWitness([ids[1]!], (id) => state.ingressAsCertified(id))).status, 'Absent');
});
