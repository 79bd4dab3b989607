/**
 * vetKD off the main thread (src/consensus/vetkd-worker.ts): the worker's encrypted key decrypts
 * with @dfinity/vetkeys and verifies under the derived key, a 2-of-3 sharing combines there too,
 * an invalid transport key comes back as the error text (alone, also inside a batch of jobs sent
 * together), and closing rejects what is pending.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mod } from '@noble/curves/abstract/modular.js';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { Principal } from '@icp-sdk/core/principal';
import { vetkeys } from '../clients/agent-js-3/index.ts';
import { VetKdWorker } from '../../src/consensus/vetkd-worker.ts';
import { deriveVetKdPublicKey } from '../../src/crypto/derivation/index.ts';
import { dealSingleNodeKey, groupOrder } from '../../src/crypto/threshold/key-transcript.ts';
import { KeyAlgorithm } from '../../src/routing/key-id.ts';

test('vetKD worker: answers decrypt and verify (1 node, 2 of 3); errors and close reject', async () => {
  let results = 0;
  const worker = new VetKdWorker(() => results++);
  try {
    const { share } = dealSingleNodeKey({ algorithm: KeyAlgorithm.vetkdBls12381G2, name: 'k' }, new Uint8Array(64).fill(5));
    const mpk = bls12_381.G2.Point.BASE.multiply(share.value).toBytes(true);
    const d = deriveVetKdPublicKey(mpk, Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai').toUint8Array(), new TextEncoder().encode('ctx'));
    const tsk = vetkeys.TransportSecretKey.random();
    const input = new TextEncoder().encode('user 7');
    const inputs = { derivedPublicKey: d.publicKey, derivationTweak: d.tweak, input, transportPublicKey: tsk.publicKeyBytes() };
    const check = (ek: Uint8Array) =>
      vetkeys.EncryptedVetKey.deserialize(ek).decryptAndVerify(tsk, vetkeys.DerivedPublicKey.deserialize(d.publicKey), input).signatureBytes();
    const one = check(await worker.encryptedKey(inputs, [share], 1));
    // 2 of 3: f(x) = msk + a·x at x = 1, 2, 3; the worker combines the first two.
    const R = groupOrder('bls12_381_g2');
    const shares = [1n, 2n, 3n].map((x, i) => ({ ...share, receiver: i, value: mod(share.value + 12345n * x, R) }));
    assert.deepEqual(check(await worker.encryptedKey(inputs, shares, 2)), one);
    await assert.rejects(worker.encryptedKey({ ...inputs, transportPublicKey: new Uint8Array(48) }, [share], 1), /invalid transport public key/);
    assert.equal(results, 3);
    // Jobs of one turn go together (one batch, checked at once); the invalid one fails alone.
    const batch = [0, 1, 2, 3].map((i) => worker.encryptedKey(i === 2 ? { ...inputs, transportPublicKey: new Uint8Array(48) } : inputs, i === 1 ? shares : [share], i === 1 ? 2 : 1));
    const settled = await Promise.allSettled(batch);
    settled.forEach((r, i) => {
      if (i === 2) assert.ok(r.status === 'rejected' && /invalid transport public key/.test(String(r.reason)));
      else assert.deepEqual(check((r as PromiseFulfilledResult<Uint8Array>).value), one);
    });
    const pending = assert.rejects(worker.encryptedKey(inputs, [share], 1), /closed/);
    await worker.close();
    await pending;
    await assert.rejects(worker.encryptedKey(inputs, [share], 1), /closed/);
  } finally {
    await worker.close();
  }
});
