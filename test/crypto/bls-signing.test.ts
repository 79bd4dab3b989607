/**
 * The fast BLS signing path (mcl-wasm) against the reference (@noble/curves): byte-identical
 * min-sig signatures for random keys and messages, under the IC's DST and another one (the DST
 * is passed per call, never set globally); state-root signatures verify under noble.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bls12_381 } from '@noble/curves/bls12-381.js';
import { blsSign, blsSignNoble, fastBlsSigningReady, prepareFastBlsSigning } from '../../src/crypto/bls-signing.ts';
import { BLS_DST, rootKeyFromSecretKey, signStateRoot, verifyStateRootSignature } from '../../src/crypto/certificate.ts';

const scalar = fc.bigInt({ min: 1n, max: bls12_381.fields.Fr.ORDER - 1n }).map((k) => Uint8Array.from(Buffer.from(k.toString(16).padStart(64, '0'), 'hex')));

test('mcl-wasm min-sig signatures equal noble\'s bytes', async () => {
  assert.equal(await prepareFastBlsSigning(), true);
  assert.ok(fastBlsSigningReady());
  fc.assert(
    fc.property(scalar, fc.uint8Array({ maxLength: 200 }), fc.constantFrom(BLS_DST, 'BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_POP_'), (key, msg, dst) => {
      assert.equal(Buffer.from(blsSign(key, msg, dst)).toString('hex'), Buffer.from(blsSignNoble(key, msg, dst)).toString('hex'));
    }),
    { numRuns: 25 },
  );
});

test('state-root signatures from the fast path verify under noble', async () => {
  await prepareFastBlsSigning();
  const key = rootKeyFromSecretKey(new Uint8Array(32).fill(3));
  const root = new Uint8Array(32).fill(9);
  const sig = signStateRoot(key.secretKey, root);
  assert.ok(verifyStateRootSignature(key.publicKey, sig, root));
  assert.ok(!verifyStateRootSignature(key.publicKey, sig, new Uint8Array(32).fill(8)));
});
