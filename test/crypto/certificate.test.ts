/**
 * Root key and certificates: deterministic key generation, the 133-byte DER root key, and
 * certificates built here accepted by `Certificate.create` of `@icp-sdk/core/agent` (which
 * checks the BLS signature with `@noble/curves` and the certificate's `/time`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Certificate, blsVerify, IC_STATE_ROOT_DOMAIN_SEPARATOR, lookupResultToBuffer } from '@icp-sdk/core/agent';
import { Principal } from '@icp-sdk/core/principal';
import {
  BLS_PUBLIC_KEY_DER_PREFIX,
  blsPublicKeyFromDer,
  certifyTree,
  decodeCertificate,
  encodeCertificate,
  generateRootKey,
  rootKeyFromSecretKey,
  rootKeyFromStored,
  signStateRoot,
  verifyCertificate,
} from '../../src/crypto/certificate.ts';
import { reconstruct } from '../../src/crypto/hash-tree.ts';
import { buildHashTree, witness, type LabeledTree } from '../../src/crypto/labeled-tree.ts';
import { encodeUleb128 } from '../../src/crypto/leb128.ts';
import { concatBytes } from '../../src/crypto/domain-separator.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seed = new Uint8Array(32).fill(7);
const root = generateRootKey(seed);
const canister = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');

function stateTree(nowMs: number): LabeledTree {
  return new Map<string | Uint8Array, LabeledTree | Uint8Array>([
    ['time', encodeUleb128(BigInt(nowMs) * 1_000_000n)],
    ['canister', new Map([[canister.toUint8Array(), new Map([['certified_data', new Uint8Array(32).fill(9)]])]])],
  ]);
}

test('root key: deterministic from a seed, 32-byte secret, 96-byte key, 133-byte DER', () => {
  assert.equal(hex(generateRootKey(seed).publicKey), hex(root.publicKey));
  assert.notEqual(hex(generateRootKey(new Uint8Array(32).fill(8)).publicKey), hex(root.publicKey));
  assert.equal(root.secretKey.length, 32);
  assert.equal(root.publicKey.length, 96);
  assert.equal(root.publicKeyDer.length, 133);
  assert.equal(hex(root.publicKeyDer.subarray(0, 37)), hex(BLS_PUBLIC_KEY_DER_PREFIX));
  assert.equal(hex(blsPublicKeyFromDer(root.publicKeyDer)), hex(root.publicKey));
  assert.equal(hex(rootKeyFromSecretKey(root.secretKey).publicKeyDer), hex(root.publicKeyDer));
  assert.throws(() => generateRootKey(new Uint8Array(31)), RangeError);
  assert.throws(() => blsPublicKeyFromDer(root.publicKeyDer.subarray(1)), RangeError);
});

test('state root signature: 48 bytes, verified by the agent\'s blsVerify', () => {
  const rootHash = new Uint8Array(32).fill(3);
  const sig = signStateRoot(root.secretKey, rootHash);
  assert.equal(sig.length, 48);
  assert.equal(blsVerify(root.publicKey, sig, concatBytes(IC_STATE_ROOT_DOMAIN_SEPARATOR, rootHash)), true);
  assert.equal(blsVerify(root.publicKey, sig, concatBytes(IC_STATE_ROOT_DOMAIN_SEPARATOR, new Uint8Array(32))), false);
});

test('Certificate.create of the agent accepts a certificate of a witness', async () => {
  const tree = witness(buildHashTree(stateTree(Date.now())), [['time'], ['canister', canister.toUint8Array(), 'certified_data']]);
  const bytes = certifyTree(tree, root.secretKey);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xd9, 0xd9, 0xf7]);
  const cert = await Certificate.create({ certificate: bytes, rootKey: root.publicKeyDer, principal: { canisterId: canister } });
  const data = lookupResultToBuffer(cert.lookup_path(['canister', canister.toUint8Array(), 'certified_data']));
  assert.equal(hex(data!), hex(new Uint8Array(32).fill(9)));
});

test('the agent rejects a certificate under another root key, and one with a tampered tree', async () => {
  const tree = buildHashTree(stateTree(Date.now()));
  const bytes = certifyTree(tree, root.secretKey);
  const other = generateRootKey(new Uint8Array(32).fill(1));
  await assert.rejects(
    Certificate.create({ certificate: bytes, rootKey: other.publicKeyDer, principal: { canisterId: canister } }),
  );
  const decoded = decodeCertificate(bytes);
  const tampered = encodeCertificate({ tree: buildHashTree(stateTree(Date.now() + 1)), signature: decoded.signature });
  await assert.rejects(
    Certificate.create({ certificate: tampered, rootKey: root.publicKeyDer, principal: { canisterId: canister } }),
  );
});

test('decode / verify round trip', () => {
  const tree = buildHashTree(stateTree(1_700_000_000_000));
  const cert = decodeCertificate(certifyTree(tree, root.secretKey));
  assert.equal(hex(reconstruct(cert.tree)), hex(reconstruct(tree)));
  assert.equal(cert.delegation, undefined);
  assert.equal(verifyCertificate(cert, root.publicKey), true);
  assert.equal(verifyCertificate({ ...cert, signature: new Uint8Array(48) }, root.publicKey), false);
  assert.throws(() => decodeCertificate(Uint8Array.of(0x01)), TypeError);
});

test('a stored public key gives the same key pair as deriving it', () => {
  const derived = rootKeyFromSecretKey(new Uint8Array(32).fill(5));
  assert.deepEqual(rootKeyFromStored(derived.secretKey, derived.publicKey), derived);
});
