/**
 * MEGa (crypto/threshold/idkg/mega.ts; reference idkg.md §2.2, §2.3, §2.7): real dealings'
 * openings encrypted to K256 node keys round-trip for secp256k1 (Pedersen: value and mask) and
 * Ed25519 (scalars of the signature curve under K256 keys); the PoP holds and fails when bound
 * to another dealer, transcript or ephemeral key; a tampered ciphertext entry is caught by the
 * complaint check (its evidence holds, the opening it reveals fails the commitment), a false
 * complaint (a good entry) and forged evidence (another key's shared secret) are rejected; the
 * DLEQ proof itself accepts exactly its statement. Our own encoding (not the IC's bytes).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mod } from '@noble/curves/abstract/modular.js';
import { createDealing, verifyOpening } from '../../src/crypto/threshold/idkg/dealing.ts';
import { idkgGroup } from '../../src/crypto/threshold/idkg/group.ts';
import { megaComplain, megaDecrypt, megaEncrypt, megaKeyGen, megaOpenComplaint, megaVerifyPop } from '../../src/crypto/threshold/idkg/mega.ts';
import { transcriptParams } from '../../src/crypto/threshold/idkg/params.ts';
import { proveDLogEquivalence, verifyDLogEquivalence } from '../../src/crypto/threshold/idkg/zk-proofs.ts';

const random = (n: number) => new Uint8Array(randomBytes(n));
const ids = (n: number) => Array.from({ length: n }, (_, i) => `s/${i}`);
const keys = Array.from({ length: 4 }, () => megaKeyGen(random));
const pks = keys.map((k) => k.publicKey);

for (const [curve, op] of [['secp256k1', 'Random'], ['ed25519', 'RandomUnmasked']] as const) {
  test(`MEGa round trip and complaint check: ${curve} ${op}`, () => {
    const p = transcriptParams(`mega-${curve}`, curve, { type: op }, ids(4), ids(4));
    const dealt = createDealing(p, 1, { kind: 'none' }, {}, random);
    const ct = megaEncrypt(curve, p.ad, 1, pks, dealt.openings, random);
    assert.equal(ct.ephemeral.length, 33);
    assert.ok(megaVerifyPop(p.ad, 1, 4, ct));
    assert.ok(!megaVerifyPop(p.ad, 2, 4, ct), 'PoP bound to the dealer');
    assert.ok(!megaVerifyPop(new Uint8Array([...p.ad, 0]), 1, 4, ct), 'PoP bound to the transcript');
    assert.ok(!megaVerifyPop(p.ad, 1, 3, ct), 'one entry per receiver');
    assert.ok(!megaVerifyPop(p.ad, 1, 4, { ...ct, ephemeral: megaKeyGen(random).publicKey }), 'PoP bound to V');
    keys.forEach((k, j) => {
      const o = megaDecrypt(curve, p.ad, 1, j, k, ct);
      assert.deepEqual(o, dealt.openings[j]);
      assert.notDeepEqual(ct.ciphertexts[j], dealt.openings[j]);
    });
    // The wrong key decrypts to garbage.
    assert.notDeepEqual(megaDecrypt(curve, p.ad, 1, 0, keys[1]!, ct), dealt.openings[0]);

    // A false complaint: the evidence holds but the revealed opening is good → rejected.
    const honest = megaComplain(p.ad, 1, 2, keys[2]!, ct, random);
    const revealed = megaOpenComplaint(curve, p.ad, 1, 2, pks[2]!, ct, honest);
    assert.ok(revealed && verifyOpening(idkgGroup(curve), dealt.dealing, 2, revealed), 'false complaint: opening is valid');

    // A byzantine dealer's tampered entry for receiver 3: caught by the complaint check.
    const order = idkgGroup(curve).order;
    const bad = { ...ct, ciphertexts: ct.ciphertexts.map((c, j) => (j === 3 ? { ...c, value: mod(c.value + 1n, order) } : c)) };
    assert.ok(megaVerifyPop(p.ad, 1, 4, bad), 'the PoP does not cover the entries');
    const mine = megaDecrypt(curve, p.ad, 1, 3, keys[3]!, bad);
    assert.ok(!verifyOpening(idkgGroup(curve), dealt.dealing, 3, mine));
    const complaint = megaComplain(p.ad, 1, 3, keys[3]!, bad, random);
    const seen = megaOpenComplaint(curve, p.ad, 1, 3, pks[3]!, bad, complaint);
    assert.deepEqual(seen, mine, 'anyone decrypts the same opening from the evidence');
    assert.ok(!verifyOpening(idkgGroup(curve), dealt.dealing, 3, seen!), 'complaint judged correct');

    // Forged evidence: another receiver's shared secret / proof, or a wrong shared secret.
    assert.equal(megaOpenComplaint(curve, p.ad, 1, 3, pks[3]!, bad, honest), null);
    assert.equal(megaOpenComplaint(curve, p.ad, 1, 3, pks[3]!, bad, { ...complaint, sharedSecret: honest.sharedSecret }), null);
    assert.equal(megaOpenComplaint(curve, p.ad, 2, 3, pks[3]!, bad, complaint), null, 'bound to the dealer');
  });
}

test('ProofOfDLogEquivalence accepts exactly its statement', () => {
  const g = idkgGroup('secp256k1');
  const ad = new Uint8Array([1, 2, 3]);
  const x = 0x1234567890abcdefn;
  const b = g.mulG(777n);
  const points = { a: g.mulG(x), b, c: g.mul(b, x) };
  const proof = proveDLogEquivalence(g, ad, points, x, random);
  assert.ok(verifyDLogEquivalence(g, ad, points, proof));
  assert.ok(!verifyDLogEquivalence(g, new Uint8Array([1, 2]), points, proof));
  assert.ok(!verifyDLogEquivalence(g, ad, { ...points, c: g.mul(b, x + 1n) }, proof));
  assert.ok(!verifyDLogEquivalence(g, ad, points, { ...proof, response: proof.response + 1n }));
  // A prover with different logs cannot make a verifying proof with its x.
  const wrong = { ...points, c: g.mul(b, x + 1n) };
  assert.ok(!verifyDLogEquivalence(g, ad, wrong, proveDLogEquivalence(g, ad, wrong, x, random)));
});
