/**
 * IDKG building blocks (crypto/threshold/idkg), against the reference's facts (idkg.md §1–§2):
 * the threshold table of §1.1 (UTM collection threshold included), the secp256k1 generator H of
 * the IC, each of the five operations dealt by real dealers and publicly / privately verified,
 * each rejection reason (shape, proof, constant), interpolation of the product with too few
 * dealings giving a wrong key×λ (the §5.7 pitfall the threshold prevents), the batched support
 * check's beacon (colluding errors that cancel under known weights are caught), the complaint path
 * rebuilding a receiver's opening at x_j, the lazily combined product commitment (stored as its
 * dealings, restored to the same commitment), and the never-whole guard of the share holder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { invert, mod } from '@noble/curves/abstract/modular.js';
import { ed25519_hasher } from '@noble/curves/ed25519.js';
import { secp256k1_hasher } from '@noble/curves/secp256k1.js';
import { batchWeights, createDealing, verifyDealingPublicly, verifyOpening, verifyOpeningsBatched, type Dealing, type DealtShares } from '../../src/crypto/threshold/idkg/dealing.ts';
import { GENERATOR_H_HEX, idkgGroup } from '../../src/crypto/threshold/idkg/group.ts';
import { transcriptParams, type TranscriptOp } from '../../src/crypto/threshold/idkg/params.ts';
import { openingMatches, type Opening } from '../../src/crypto/threshold/idkg/polynomial.ts';
import { ShareHolder, WholeSecretError } from '../../src/crypto/threshold/idkg/share-guard.ts';
import { combineOpenings, createTranscript, reconstructOpening, transcriptFromJson, transcriptToJson, type Transcript, type TranscriptJson } from '../../src/crypto/threshold/idkg/transcript.ts';
import { lagrangeWeightsAtZero } from '../../src/crypto/threshold/lagrange.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const ids = (n: number) => Array.from({ length: n }, (_, i) => `s/${i}`);
const g = idkgGroup('secp256k1');

test('thresholds exactly as idkg.md §1.1 (n, f, t, verification, collection Random/Reshare/UTM, XNet dealers)', () => {
  for (const [n, f, t, v, cr, cu] of [[1, 0, 1, 1, 1, 1], [4, 1, 2, 3, 2, 3], [13, 4, 5, 9, 5, 9], [34, 11, 12, 23, 12, 23]] as const) {
    const r = transcriptParams('r', 'secp256k1', { type: 'Random' }, ids(n), ids(n));
    assert.deepEqual([r.threshold - 1, r.threshold, r.verificationThreshold, r.collectionThreshold], [f, t, v, cr], `n=${n}`);
    const input = { receivers: ids(n), threshold: t };
    assert.equal(transcriptParams('x', 'secp256k1', { type: 'ReshareOfUnmasked', input: 'k' }, ids(n), ids(n), { input }).collectionThreshold, cr);
    assert.equal(transcriptParams('u', 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: 'a', rhs: 'b' }, ids(n), ids(n), { lhs: input, rhs: input }).collectionThreshold, cu);
  }
  // XNet 13 → 34: the target builds from t_src = 5 dealings; receivers' t = 12, verification 23.
  const x = transcriptParams('x', 'secp256k1', { type: 'ReshareOfUnmasked', input: 'k' }, ids(13), ids(34).map((s) => `f${s}`), { input: { receivers: ids(13), threshold: 5 } });
  assert.deepEqual([x.collectionThreshold, x.threshold, x.verificationThreshold], [5, 12, 23]);
  // Dealer-set check: a product needs |dealers| ≥ collection + f.
  assert.throws(() => transcriptParams('u', 'secp256k1', { type: 'UnmaskedTimesMasked', lhs: 'a', rhs: 'b' }, [], ids(4), { lhs: { receivers: ids(4), threshold: 3 }, rhs: { receivers: ids(4), threshold: 3 } }), /cannot reach collection threshold/);
});

test("secp256k1 H is the IC's generator_h (037bdcfc…2f59); both stored H equal noble's hash-to-curve of 'h'", () => {
  assert.equal(Buffer.from(g.encode(g.H)).toString('hex'), '037bdcfc024cf697a41fd3cda2436c843af5669e50042be3314a532d5b70572f59');
  const h = new TextEncoder().encode('h');
  const k1 = secp256k1_hasher.hashToCurve(h, { DST: 'ic-crypto-tecdsa-secp256k1-generator-h' });
  const ed = ed25519_hasher.hashToCurve(h, { DST: 'ic-crypto-tecdsa-ed25519-generator-h' });
  assert.equal(Buffer.from(k1.toBytes(true)).toString('hex'), GENERATOR_H_HEX.secp256k1);
  assert.equal(Buffer.from(ed.toBytes()).toString('hex'), GENERATOR_H_HEX.ed25519);
  assert.ok(g.H.equals(k1 as never));
  assert.ok(idkgGroup('ed25519').H.equals(ed as never));
});

/** Deals every dealer's dealing of a transcript and returns them with each receiver's openings. */
function dealAll(op: TranscriptOp, n: number, secrets: (i: number) => Parameters<typeof createDealing>[2], inputs: { input?: Transcript; lhs?: Transcript; rhs?: Transcript } = {}, curve: 'secp256k1' | 'ed25519' = 'secp256k1') {
  const facts = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, { receivers: t!.receivers, threshold: t!.threshold }]));
  const p = transcriptParams(`t-${Math.random()}`, curve, op, ids(n), ids(n), facts);
  const commitments = Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t!.combined]));
  const dealt = p.dealers.map((_, i) => createDealing(p, i, secrets(i), commitments, random));
  return { p, dealt, commitments };
}

function build(x: ReturnType<typeof dealAll>, use = x.p.collectionThreshold): { t: Transcript; shares: Opening[] } {
  const chosen = x.dealt.slice(0, use);
  const t = createTranscript({ ...x.p, collectionThreshold: use }, chosen.map((d) => d.dealing), x.commitments);
  const shares = x.p.receivers.map((_, j) => combineOpenings(t, j, new Map(chosen.map((d) => [d.dealing.dealerIndex, d.openings[j]!]))));
  return { t, shares };
}

/** The secret behind t shares at receivers 0..t-1 (TEST ONLY: the protocol never does this). */
function testReconstruct(shares: Opening[], t: number, order: bigint): bigint {
  const w = lagrangeWeightsAtZero(Array.from({ length: t }, (_, i) => i), order);
  return shares.slice(0, t).reduce((a, s, i) => mod(a + w[i]! * s.value, order), 0n);
}

for (const curve of ['secp256k1', 'ed25519'] as const) {
  test(`${curve}: Random → ReshareOfMasked → ReshareOfUnmasked keeps the secret; RU × masked product (n = 7)`, () => {
    const G = idkgGroup(curve);
    const n = 7;
    const none = () => ({ kind: 'none' }) as const;
    const random7 = dealAll({ type: 'Random' }, n, none, {}, curve);
    for (const d of random7.dealt) {
      assert.equal(verifyDealingPublicly(random7.p, d.dealing, {}), null);
      random7.p.receivers.forEach((_, j) => assert.ok(verifyOpening(G, d.dealing, j, d.openings[j]!)));
    }
    const masked = build(random7);
    const key = build(dealAll({ type: 'ReshareOfMasked', input: masked.t.transcriptId }, n, (i) => ({ kind: 'reshare', opening: masked.shares[i]! }), { input: masked.t }, curve));
    const x = testReconstruct(masked.shares, masked.t.threshold, G.order);
    assert.ok(key.t.combined.points[0]!.equals(G.mulG(x)), 'the unmasked key commits to the masked secret');
    const again = dealAll({ type: 'ReshareOfUnmasked', input: key.t.transcriptId }, n, (i) => ({ kind: 'reshare', opening: key.shares[i]! }), { input: key.t }, curve);
    for (const d of again.dealt) assert.equal(verifyDealingPublicly(again.p, d.dealing, again.commitments), null);
    const reshared = build(again);
    assert.ok(reshared.t.combined.points[0]!.equals(key.t.combined.points[0]!), 'public key unchanged');
    // A product of the unmasked key and a fresh masked λ.
    const lambda = build(dealAll({ type: 'Random' }, n, none, {}, curve));
    const utm = dealAll({ type: 'UnmaskedTimesMasked', lhs: key.t.transcriptId, rhs: lambda.t.transcriptId }, n, (i) => ({ kind: 'product', lhs: key.shares[i]!, rhs: lambda.shares[i]! }), { lhs: key.t, rhs: lambda.t }, curve);
    for (const d of utm.dealt) assert.equal(verifyDealingPublicly(utm.p, d.dealing, utm.commitments), null);
    const product = build(utm);
    const l = testReconstruct(lambda.shares, lambda.t.threshold, G.order);
    assert.equal(testReconstruct(product.shares, product.t.threshold, G.order), mod(x * l, G.order), 'shares of x·λ');
    // The product combines lazily: stored as its dealings until read; restored, the same commitment, which every share opens.
    const stored = transcriptToJson(product.t);
    assert.ok(stored.uncombined && !stored.combined, 'stored uncombined before anyone read it');
    const restored = transcriptFromJson(JSON.parse(JSON.stringify(stored)) as TranscriptJson);
    product.shares.forEach((s, j) => assert.ok(openingMatches(G, restored.combined, j, s), `receiver ${j} opens the restored product commitment`));
    assert.deepEqual(restored.combined.points.map((p) => G.encode(p)), product.t.combined.points.map((p) => G.encode(p)));
    assert.ok(transcriptToJson(product.t).combined && !transcriptToJson(product.t).uncombined, 'stored combined once combined');
    // The §5.7 pitfall: interpolating the degree-2f product from only t dealings is silently wrong.
    const short = build(utm, utm.p.threshold);
    assert.notEqual(testReconstruct(short.shares, short.t.threshold, G.order), mod(x * l, G.order));
  });
}

test('public verification refuses wrong shape, bad proofs and a wrong reshared constant; private verification catches a bad opening', () => {
  const n = 4;
  const none = () => ({ kind: 'none' }) as const;
  const masked = build(dealAll({ type: 'Random' }, n, none));
  const rom = dealAll({ type: 'ReshareOfMasked', input: masked.t.transcriptId }, n, (i) => ({ kind: 'reshare', opening: masked.shares[i]! }), { input: masked.t });
  const key = build(rom);
  const d0 = rom.dealt[0]!.dealing;
  const tamper = (d: Dealing, f: (d: Dealing) => void): Dealing => {
    const c = structuredClone({ ...d, commitment: { kind: d.commitment.kind, points: [] as never[] } }) as Dealing;
    c.commitment.points = [...d.commitment.points];
    if (d.proof) c.proof = { ...d.proof };
    f(c);
    return c;
  };
  assert.equal(verifyDealingPublicly(rom.p, tamper(d0, (c) => c.commitment.points.pop()), rom.commitments), 'shape');
  assert.equal(verifyDealingPublicly(rom.p, tamper(d0, (c) => delete c.proof), rom.commitments), 'shape');
  assert.equal(verifyDealingPublicly(rom.p, tamper(d0, (c) => (c.commitment.points[0] = c.commitment.points[0]!.add(g.G))), rom.commitments), 'proof');
  const rou = dealAll({ type: 'ReshareOfUnmasked', input: key.t.transcriptId }, n, (i) => ({ kind: 'reshare', opening: key.shares[i]! }), { input: key.t });
  // A dealer resharing something other than its share: the constant-term check.
  const liar: DealtShares = createDealing(rou.p, 1, { kind: 'reshare', opening: { value: key.shares[1]!.value + 1n } }, rou.commitments, random);
  assert.equal(verifyDealingPublicly(rou.p, liar.dealing, rou.commitments), 'constant');
  const lambda = build(dealAll({ type: 'Random' }, n, none));
  const utm = dealAll({ type: 'UnmaskedTimesMasked', lhs: key.t.transcriptId, rhs: lambda.t.transcriptId }, n, (i) => ({ kind: 'product', lhs: key.shares[i]!, rhs: lambda.shares[i]! }), { lhs: key.t, rhs: lambda.t });
  const wrongProduct = createDealing(utm.p, 2, { kind: 'product', lhs: { value: key.shares[2]!.value + 1n }, rhs: lambda.shares[2]! }, utm.commitments, random);
  assert.equal(verifyDealingPublicly(utm.p, wrongProduct.dealing, utm.commitments), 'proof');
  // Private verification and the batched check.
  const d = utm.dealt[0]!;
  assert.ok(verifyOpening(g, d.dealing, 1, d.openings[1]!));
  assert.ok(!verifyOpening(g, d.dealing, 1, { ...d.openings[1]!, value: d.openings[1]!.value + 1n }));
  const all = utm.dealt.map((x) => x.dealing);
  const beacon = random(32);
  assert.ok(verifyOpeningsBatched(g, all, 3, utm.dealt.map((x) => x.openings[3]!), new Map(), beacon));
  assert.ok(!verifyOpeningsBatched(g, all, 3, utm.dealt.map((x, i) => (i === 2 ? { ...x.openings[3]!, mask: x.openings[3]!.mask! + 1n } : x.openings[3]!)), new Map(), beacon));
});

test('batched support check: two colluding dealers whose errors cancel under a known beacon fail under the beacon drawn after they sent', () => {
  const x = dealAll({ type: 'RandomUnmasked' }, 4, () => ({ kind: 'none' }));
  const ds = x.dealt.slice(0, 2).map((d) => d.dealing);
  const known = new Uint8Array(32).fill(1);
  // Errors e0 = 1 and e1 = −ρ0/ρ1: ρ0·e0 + ρ1·e1 = 0 under the known beacon.
  const [r0, r1] = batchWeights(g, ds, known);
  const e1 = mod(-r0! * invert(r1!, g.order), g.order);
  const bad = [{ value: mod(x.dealt[0]!.openings[3]!.value + 1n, g.order) }, { value: mod(x.dealt[1]!.openings[3]!.value + e1, g.order) }];
  bad.forEach((o, i) => assert.ok(!verifyOpening(g, ds[i]!, 3, o), `opening ${i} is bad`));
  assert.ok(verifyOpeningsBatched(g, ds, 3, bad, new Map(), known), 'with ρ known in advance the errors cancel');
  assert.ok(!verifyOpeningsBatched(g, ds, 3, bad, new Map(), new Uint8Array(32).fill(2)), 'a later beacon catches them');
});

test('complaint path: a receiver rebuilds its opening of one dealing from t others at x_j (n = 13)', () => {
  const n = 13;
  const x = dealAll({ type: 'RandomUnmasked' }, n, () => ({ kind: 'none' }));
  const d = x.dealt[4]!;
  const others = [0, 2, 5, 7, 11].map((i) => [i, d.openings[i]!] as const);
  const rebuilt = reconstructOpening(g, d.dealing, 5, 9, others);
  assert.equal(rebuilt.value, d.openings[9]!.value);
  assert.ok(openingMatches(g, d.dealing.commitment, 9, rebuilt));
  assert.throws(() => reconstructOpening(g, d.dealing, 5, 9, others.slice(0, 4)), /need 5 openings/);
});

test('never whole: a share holder refuses t receivers’ shares of one transcript; t − 1, and the n = 1 node’s own share, are fine', () => {
  const h = new ShareHolder();
  for (let r = 0; r < 4; r++) h.add({ transcriptId: 'k/0', receiver: r, opening: { value: 1n } }, 5);
  assert.throws(() => h.add({ transcriptId: 'k/0', receiver: 4, opening: { value: 1n } }, 5), WholeSecretError);
  assert.equal(h.maxReceiversPerTranscript(), 4);
  const single = new ShareHolder();
  single.add({ transcriptId: 'k/0', receiver: 0, opening: { value: 7n } }, 1);
  assert.equal(single.get('k/0', 0)!.opening.value, 7n);
});
