/**
 * The n-node threshold protocol suite (consensus/idkg) as property tests, idkg.md §5.6: for
 * n ∈ {1, 4, 7, 13} with a random fault set of size ≤ f (crashed, slow or byzantine nodes at
 * random positions; the seed is printed), key generation → k signatures → periodic reshare → k
 * signatures, and at n = 13 an XNet reshare 13 → 34 → k signatures. Every signature verifies
 * with noble under the @dfinity/ic-pub-key derived key; the master public key never changes; no
 * node ever holds more than its own share of a transcript.
 * Reproduce a run: `IDKG_SEED=<n> node --test test/consensus/threshold-protocol.test.ts`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { faultsTolerated } from '../../src/crypto/threshold/idkg/params.ts';
import { ThresholdNetwork } from '../../src/consensus/idkg/threshold-network.ts';
import type { FaultKind } from '../../src/routing/topology.ts';
import { assertNeverWhole, masterKeyOf, runUntil, signAndVerify } from './idkg-support.ts';
import { mulberry32 } from '../support/prng.ts';

const SEED = Number(process.env.IDKG_SEED ?? Date.now() % 1_000_000);


/** A random fault set of size ≤ f: kinds and positions. */
function randomFaults(n: number, rand: () => number): { faults: { count: number; kind: FaultKind }[]; faultOrder: number[]; text: string } {
  const f = faultsTolerated(n);
  const size = Math.floor(rand() * (f + 1));
  const positions = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
  const kinds: FaultKind[] = ['crashed', 'slow', 'byzantine'];
  const faults = Array.from({ length: size }, () => ({ count: 1, kind: kinds[Math.floor(rand() * 3)]! }));
  return { faults, faultOrder: positions, text: faults.map((x, i) => `${positions[i]}:${x.kind}`).join(',') || 'none' };
}

for (const n of [1, 4, 7, 13]) {
  test(`n = ${n}: keygen → signatures → reshare → signatures${n === 13 ? ' → XNet 13 → 34 → signatures' : ''}, random faults ≤ f (seed ${SEED})`, () => {
    const rand = mulberry32(SEED + n);
    const fs = randomFaults(n, rand);
    const target = randomFaults(34, rand);
    const subnets = [{ name: 'test-keys', nodes: n, faults: fs.faults, faultOrder: fs.faultOrder }];
    if (n === 13) subnets.push({ name: 'fiduciary', nodes: 34, faults: target.faults.slice(0, 2), faultOrder: target.faultOrder });
    const net = new ThresholdNetwork({ subnets, preSignaturesPerKey: 1, maxInFlightPerKey: 1 });
    const keys = n === 13 ? ['ecdsa:Secp256k1:k', 'schnorr:Ed25519:k'] : ['ecdsa:Secp256k1:k', 'schnorr:Bip340Secp256k1:k', 'schnorr:Ed25519:k'];
    for (const k of keys) net.addKey(k, k.startsWith('ecdsa') ? 'ecdsa' : 'schnorr', k.includes('Ed25519') ? 'ed25519' : 'secp256k1', 'test-keys');
    const masters = new Map(keys.map((k) => [k, (net.generateKey(k), masterKeyOf(net, k))]));
    const context = `faults ${fs.text}`;
    for (const k of keys) signAndVerify(net, k, 2);
    // Periodic reshare within the subnet: the next generation, same public key.
    for (const k of keys) net.reshare(k);
    runUntil(net, () => keys.every((k) => net.keyTranscript(k)!.transcriptId.endsWith('/1')));
    for (const k of keys) {
      assert.equal(masterKeyOf(net, k), masters.get(k), `${k} public key unchanged by the reshare (${context})`);
      signAndVerify(net, k, 2);
    }
    if (n === 13) {
      // XNet: the source forwards 2f+1 = 9 dealings; 34 target nodes build from t_src = 5.
      for (const k of keys) net.reshare(k, 'fiduciary');
      runUntil(net, () => keys.every((k) => net.keyTranscript(k)!.receivers.length === 34));
      for (const k of keys) {
        const t = net.keyTranscript(k)!;
        assert.deepEqual([t.threshold, t.receivers[0]], [12, 'fiduciary/0']);
        assert.equal(masterKeyOf(net, k), masters.get(k), `${k} public key unchanged by the XNet reshare`);
        signAndVerify(net, k, 1);
      }
    }
    assertNeverWhole(net);
  });
}

test('periodic resharing: every interval a new key transcript generation, same public key; signatures keep verifying (n = 4)', () => {
  const ED = 'schnorr:Ed25519:k';
  const net = new ThresholdNetwork({ subnets: [{ name: 's', nodes: 4, faults: [] }], preSignaturesPerKey: 1, reshareIntervalNanos: 1_000n });
  net.addKey(ED, 'schnorr', 'ed25519', 's');
  net.generateKey(ED);
  const pk = masterKeyOf(net, ED);
  let now = 1_000_000n;
  for (let i = 0; i < 6; i++) net.runRound(now);
  assert.equal(net.keyTranscript(ED)!.transcriptId, `${ED}/0`, 'not due yet');
  for (const expected of [1, 2]) {
    now += 1_000n;
    for (let i = 0; i < 12 && !net.keyTranscript(ED)!.transcriptId.endsWith(`/${expected}`); i++) net.runRound(now);
    assert.equal(net.keyTranscript(ED)!.transcriptId, `${ED}/${expected}`);
    assert.equal(masterKeyOf(net, ED), pk);
    assert.equal(net.status()[0]!.lastReshareNanos, now);
    signAndVerify(net, ED, 1);
  }
});
