/**
 * The fault table of idkg.md §5.5 as tests, each on a 7-node subnet (f = 2) with the faulty
 * nodes named: what must happen, seen in the pool's event log, and signatures that still verify
 * (noble under the ic-pub-key derived key). Bad shares to more than f honest receivers: the
 * dealing never gathers 2f + 1 supports and is never included (the dealer is replaced); to f + 1
 * receivers of which one is faulty, only f honest ones: included, complained about, rebuilt.
 * Then f + 1 nodes down: no new pre-signatures, the pool drains, signing from what is left
 * still works while t holders live.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ThresholdNetwork } from '../../src/consensus/idkg/threshold-network.ts';
import type { FaultBehaviour } from '../../src/consensus/idkg/faults.ts';
import { assertNeverWhole, masterKeyOf, runUntil, signAndVerify } from './idkg-support.ts';

const ECDSA = 'ecdsa:Secp256k1:k';
const ED = 'schnorr:Ed25519:k';

function network(nodeFaults: Record<number, FaultBehaviour[]>, n = 7, preSignatures = 2): ThresholdNetwork {
  const net = new ThresholdNetwork({ subnets: [{ name: 's', nodes: n, faults: [], nodeFaults }], preSignaturesPerKey: preSignatures, maxInFlightPerKey: 2 });
  net.addKey(ECDSA, 'ecdsa', 'secp256k1', 's');
  net.addKey(ED, 'schnorr', 'ed25519', 's');
  net.generateKey(ECDSA);
  net.generateKey(ED);
  return net;
}

const events = (net: ThresholdNetwork, kind: string) => net.pool.events.filter((e) => e.kind === kind);

const rows: [string, Record<number, FaultBehaviour[]>, (net: ThresholdNetwork) => void][] = [
  ['crashed nodes: progress, their dealer slots replaced', { 5: ['crashed'], 6: ['crashed'] }, (net) => assert.ok(events(net, 'dealer-replaced').some((e) => e.node === 's/5' || e.node === 's/6'))],
  ['slow nodes: transcripts complete from what arrives first', { 1: ['slow'], 4: ['slow'] }, () => {}],
  [
    'bad shares to f receivers: dealing included, receivers complain, rebuild from t openings',
    { 2: ['bad-shares'] },
    (net) => {
      assert.ok(events(net, 'complaint').length > 0, 'complaints');
      assert.ok(events(net, 'reconstructed').length > 0, 'openings rebuilt at x_j');
    },
  ],
  ['bad proof / wrong constant: public verification refuses', { 3: ['bad-proof'] }, (net) => assert.ok(events(net, 'dealing-rejected').some((e) => e.node === 's/3' && e.detail === 'proof'))],
  ['equivocating dealer: the second dealing is dropped', { 0: ['equivocating'] }, (net) => assert.ok(events(net, 'duplicate-dealing').some((e) => e.node === 's/0'))],
  ['false complaints: rejected', { 1: ['false-complaint'] }, (net) => {
    assert.ok(events(net, 'complaint-rejected').some((e) => e.node === 's/1'));
    assert.equal(events(net, 'complaint').filter((e) => e.node === 's/1').length, 0);
  }],
  ['liar supporters with a bad-proof dealer: a bad dealing never gets in', { 4: ['liar-supporter'], 5: ['liar-supporter', 'bad-proof'] }, () => {}],
  ['bad signature shares: detected, excluded, combined from others', { 0: ['bad-signature-share'], 6: ['bad-signature-share'] }, (net) => assert.ok(events(net, 'signature-share-rejected').length > 0)],
];

for (const [name, faults, check] of rows) {
  test(`fault table (n = 7): ${name}`, () => {
    const net = network(faults);
    signAndVerify(net, ECDSA, 2);
    signAndVerify(net, ED, 2);
    net.reshare(ED);
    runUntil(net, () => net.keyTranscript(ED)!.transcriptId.endsWith('/1'));
    signAndVerify(net, ED, 1);
    check(net);
    assertNeverWhole(net);
  });
}

/** Runs `net` with a check after every round (the pool forgets transcripts after a while). */
function watched(net: ThresholdNetwork, afterRound: () => void): ThresholdNetwork {
  const run = net.runRound.bind(net);
  net.runRound = (now, opts) => {
    run(now, opts);
    afterRound();
  };
  return net;
}

test('fault table (n = 7): bad shares to f + 1 honest receivers — never 2f + 1 supports, never included, the dealer replaced; no complaint needed', () => {
  // Node 2 sends bad shares to receivers 3, 4, 5 (f + 1 = 3, all honest); node 0 supports anything.
  // Supports it can get: receivers 1 and 6, itself and the liar — 4 < 2f + 1 = 5.
  const net = network({ 2: ['bad-shares-beyond-f'], 0: ['liar-supporter'] });
  let seen = 0;
  watched(net, () => {
    for (const t of net.pool.transcripts.values()) assert.ok(!t.dealings.some((d) => d.dealerIndex === 2), `${t.transcriptId} includes the bad dealer's dealing`);
    for (const [tid, byDealer] of net.pool.supports) {
      const s = byDealer.get(2);
      if (!s || !net.pool.dealings.get(tid)?.has(2)) continue;
      seen++;
      for (const victim of [3, 4, 5]) assert.ok(!s.has(victim), `receiver ${victim} supported a bad share of ${tid}`);
      assert.ok(s.size < 5, `${tid}: ${s.size} supports`);
    }
  });
  const master = masterKeyOf(net, ED);
  signAndVerify(net, ECDSA, 2);
  signAndVerify(net, ED, 2);
  net.reshare(ED);
  runUntil(net, () => net.keyTranscript(ED)!.transcriptId.endsWith('/1'));
  signAndVerify(net, ED, 1);
  assert.equal(masterKeyOf(net, ED), master, 'key unchanged by the reshare');
  assert.ok(seen > 0, 'the bad dealer was asked to deal');
  assert.ok(events(net, 'dealer-replaced').some((e) => e.node === 's/2'), 'the bad dealer replaced');
  assert.equal(events(net, 'complaint').filter((e) => e.detail === 'about dealer 2').length, 0, 'nothing to complain about: never included');
  assertNeverWhole(net);
});

test('fault table (n = 7): bad shares to f + 1 receivers of which one is faulty — only f honest victims: included; they complain and rebuild', () => {
  // Node 2's victims are 3, 4, 5; node 4 is a liar supporter, so 2f + 1 supports are reachable.
  const net = network({ 2: ['bad-shares-beyond-f'], 4: ['liar-supporter'] });
  signAndVerify(net, ECDSA, 1);
  signAndVerify(net, ED, 1);
  const about2 = events(net, 'complaint').filter((e) => e.detail === 'about dealer 2');
  assert.ok(about2.length > 0, 'complaints about dealer 2');
  assert.ok(about2.every((e) => ['s/3', 's/4', 's/5'].includes(e.node)), 'only its victims complain');
  assert.ok(about2.some((e) => e.node === 's/3' || e.node === 's/5'), 'the honest victims complain');
  assert.ok(events(net, 'reconstructed').some((e) => e.detail === 'dealer 2'), 'openings rebuilt at x_j');
  assertNeverWhole(net);
});

test('f + 1 nodes down (n = 4): no new pre-signatures; the pool drains; signing from it works while t holders live', () => {
  const net = new ThresholdNetwork({ subnets: [{ name: 's', nodes: 4, faults: [{ count: 2, kind: 'crashed' }] }], preSignaturesPerKey: 2 });
  net.addKey(ED, 'schnorr', 'ed25519', 's');
  assert.throws(() => net.generateKey(ED), /f \+ 1 or more nodes down/);
  // A healthy subnet makes its key and pool; then two of its four nodes crash (f = 1).
  const healthy = network({}, 4, 2);
  runUntil(healthy, () => healthy.preSignatureCount(ED) === 2);
  for (const n of healthy.subnets.get('s')!.nodes.slice(2)) (n.behaviours as Set<FaultBehaviour>).add('crashed');
  assert.equal(healthy.stalled(ED), true);
  for (let i = 0; i < 10; i++) healthy.runRound(0n);
  assert.equal(healthy.preSignatureCount(ED), 2, 'no new pre-signatures, none lost');
  signAndVerify(healthy, ED, 2);
  assert.equal(healthy.takePreSignature(ED), undefined, 'drained');
  for (let i = 0; i < 10; i++) healthy.runRound(0n);
  assert.equal(healthy.preSignatureCount(ED), 0);
});

test('f + 1 nodes down at the payload step: the pool serves first, then requests wait and are rejected with `Signature request expired` (code 5)', async () => {
  const { ChainKeyPayloadBuilder } = await import('../../src/consensus/chain-key-payload.ts');
  const { keyTranscriptOf } = await import('../../src/consensus/idkg/key-transcript-form.ts');
  const { Principal } = await import('@icp-sdk/core/principal');
  const { KeyAlgorithm } = await import('../../src/routing/key-id.ts');
  const net = network({}, 4, 1);
  runUntil(net, () => net.preSignatureCount(ED) === 1);
  const kt = keyTranscriptOf(net.keyTranscript(ED)!, undefined);
  const key = { keyId: { algorithm: KeyAlgorithm.schnorrEd25519, name: 'k' }, subnet: {} as never, transcript: kt, publicKey: kt.commitment[0]!, chainCode: new Uint8Array(32) };
  const builder = new ChainKeyPayloadBuilder(new Map([[ED, key]]), () => [], net, 1_000n);
  for (const n of net.subnets.get('s')!.nodes.slice(2)) (n.behaviours as Set<FaultBehaviour>).add('crashed');
  const ctx = (callbackId: number, batchTimeNanos: bigint) => ({
    callbackId,
    method: 'sign_with_schnorr' as const,
    keyId: ED,
    args: { kind: 'schnorr' as const, message: new Uint8Array([callbackId]), derivationPath: [] },
    origin: { caller: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai'), callbackId, deadlineNanos: 0n },
    refundCycles: 0n,
    batchTimeNanos,
    pseudoRandomId: new Uint8Array(32).fill(callbackId),
  });
  const [a, b] = [ctx(1, 10_000n), ctx(2, 10_000n)];
  const first = builder.build([a, b], 10_500n);
  assert.equal(first.length, 1, 'one answered from the pool, the other waits');
  assert.equal(first[0]!.result.kind, 'signature');
  assert.deepEqual(builder.build([b], 10_900n), [], 'still waiting before the timeout');
  const late = builder.build([b], 11_000n);
  assert.deepEqual(late.map((r) => r.result), [{ kind: 'reject', reject: { code: 5, message: 'Signature request expired' } }]);
});
