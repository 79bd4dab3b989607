/**
 * The `--mega` test mode (idkg.md §5.2, §2.2, §2.7) on a 4-node subnet (f = 1) whose node 2 is a
 * byzantine dealer (a bad share to the next receiver) that also complains falsely: key
 * generation with every share MEGa-encrypted inside its dealing (the PoP checked publicly), the
 * bad share's receiver complains with DLEQ evidence that anyone can check without its secret key
 * (and that fails once altered), the false complaints are rejected, the receiver rebuilds its
 * opening, and signatures verify with noble under the ic-pub-key derived key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { verifyOpening } from '../../src/crypto/threshold/idkg/dealing.ts';
import { idkgGroup } from '../../src/crypto/threshold/idkg/group.ts';
import { ThresholdNetwork } from '../../src/consensus/idkg/threshold-network.ts';
import { assertNeverWhole, signAndVerify } from './idkg-support.ts';

const ECDSA = 'ecdsa:Secp256k1:k';

test('--mega at n = 4: keygen, a byzantine dealer caught by a DLEQ complaint, signatures verify', () => {
  const net = new ThresholdNetwork({ subnets: [{ name: 's', nodes: 4, faults: [], nodeFaults: { 2: ['bad-shares', 'false-complaint'] } }], preSignaturesPerKey: 1, maxInFlightPerKey: 1, mega: true });
  net.addKey(ECDSA, 'ecdsa', 'secp256k1', 's');
  net.generateKey(ECDSA);
  // Every dealing carries its ciphertext, one entry per receiver.
  const dealings = [...net.pool.dealings.values()].flatMap((m) => [...m.values()]);
  assert.ok(dealings.length > 0 && dealings.every((d) => d.mega?.ciphertexts.length === 4), 'MEGa ciphertexts in the dealings');

  const events = (kind: string) => net.pool.events.filter((e) => e.kind === kind);
  const complaints = [...net.pool.complaints].flatMap(([, byDealer]) => [...byDealer.values()].flatMap((m) => [...m.values()]));
  const aboutBad = complaints.filter((m) => m.from === 's/2');
  assert.ok(aboutBad.length > 0, 'the bad share complained about');
  for (const m of aboutBad) {
    assert.ok(m.evidence, 'complaint carries DLEQ evidence');
    assert.ok(net.channel.wasDelivered(m), 'evidence checks out without the secret key');
    const t = net.pool.transcripts.get(m.transcriptId)!;
    const d = t.dealings.find((x) => x.dealerIndex === m.dealerIndex)!;
    assert.ok(!verifyOpening(idkgGroup(t.curve), d, m.receiverIndex, m.opening), 'the revealed opening fails the commitment');
    // Altered evidence or a different claimed opening: refused.
    assert.ok(!net.channel.wasDelivered({ ...m, opening: { ...m.opening, value: m.opening.value + 1n } }));
    assert.ok(!net.channel.wasDelivered({ ...m, evidence: { ...m.evidence!, proof: { ...m.evidence!.proof, response: m.evidence!.proof.response + 1n } } }));
    assert.ok(!net.channel.wasDelivered({ ...m, evidence: undefined }), 'no evidence, no complaint (no delivery record in this mode)');
  }
  assert.ok(events('complaint-rejected').some((e) => e.node === 's/2'), 'false complaints rejected');
  assert.equal(events('complaint').filter((e) => e.node === 's/2').length, 0);
  signAndVerify(net, ECDSA, 2);
  assert.ok(events('reconstructed').length > 0, 'opening rebuilt at x_j from others');
  assertNeverWhole(net);
});

test('--mega refuses subnets above 13 nodes', () => {
  assert.throws(() => new ThresholdNetwork({ subnets: [{ name: 's', nodes: 14, faults: [] }], mega: true }), /at most 13 nodes/);
});
