/**
 * Canister signatures as a canister running on this emulator (e.g. Internet Identity) makes
 * them: a `/sig/H(seed)/H(msg)` entry in a tree whose root is the canister's certified data,
 * plus a certificate of that certified data signed by the root key.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sha256 } from '@noble/hashes/sha2.js';
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';
import { canisterSignaturePublicKeyDer, verifyCanisterSignature } from '../../src/crypto/canister-signature.ts';
import { certifyTree, generateRootKey } from '../../src/crypto/certificate.ts';
import { reconstruct } from '../../src/crypto/hash-tree.ts';
import { buildHashTree, witness, type LabeledTree } from '../../src/crypto/labeled-tree.ts';
import { encodeUleb128 } from '../../src/crypto/leb128.ts';
import { parsePublicKey } from '../../src/crypto/public-key.ts';
import { CryptoError } from '../../src/crypto/crypto-error.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const root = generateRootKey(new Uint8Array(32).fill(3));
const ii = Principal.fromText('rdmx6-jaaaa-aaaaa-aaadq-cai').toUint8Array();
const seed = sha256(new TextEncoder().encode('anchor 10000'));

/** Signs `message` as canister `ii` with `seed`, certified by `rootSecret`. */
function canisterSign(message: Uint8Array, rootSecret: Uint8Array): Uint8Array {
  const sigTree = buildHashTree(
    new Map([['sig', new Map([[sha256(seed), new Map([[sha256(message), new Uint8Array()]])]])]]) as LabeledTree,
  );
  const state: LabeledTree = new Map<string | Uint8Array, LabeledTree | Uint8Array>([
    ['time', encodeUleb128(1_700_000_000_000_000_000n)],
    ['canister', new Map([[ii, new Map([['certified_data', reconstruct(sigTree)]])]])],
  ]);
  const certificate = certifyTree(buildHashTree(state), rootSecret);
  return encodeWithSelfDescribedTag({ certificate, tree: witness(sigTree, [['sig', sha256(seed), sha256(message)]]) as never });
}

const der = canisterSignaturePublicKeyDer(ii, seed);
const key = parsePublicKey(der);

test('public key DER parses back to canister id and seed', () => {
  assert.equal(key.kind, 'canister-signature');
  if (key.kind !== 'canister-signature') return;
  assert.equal(hex(key.canisterId), hex(ii));
  assert.equal(hex(key.seed), hex(seed));
});

test('a canister signature verifies; wrong message, wrong root key, no tag are rejected with replica texts', () => {
  assert.ok(key.kind === 'canister-signature');
  const message = new TextEncoder().encode('\x1Aic-request-auth-delegation' + 'x'.repeat(32));
  const sig = canisterSign(message, root.secretKey);
  verifyCanisterSignature(key, message, sig, root.publicKey);

  const other = new Uint8Array(message.length);
  const text = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      assert.ok(e instanceof CryptoError);
      return e.message;
    }
    return assert.fail('expected a CryptoError');
  };
  assert.equal(
    text(() => verifyCanisterSignature(key, other, sig, root.publicKey)),
    `IcCanisterSignature signature could not be verified: public key ${hex(key.raw)}, signature ${hex(sig)}, ` +
      `error: the signature tree doesn't contain sig/${hex(sha256(seed))}/${hex(sha256(other))} path`,
  );
  const otherRoot = generateRootKey(new Uint8Array(32).fill(4));
  assert.match(
    text(() => verifyCanisterSignature(key, message, sig, otherRoot.publicKey)),
    /error: certificate verification failed: Invalid signature$/,
  );
  assert.equal(
    text(() => verifyCanisterSignature(key, message, sig.subarray(3), root.publicKey)),
    `Malformed IcCanisterSignature signature: [${hex(sig.subarray(3))}] error: 'signature CBOR doesn't have a self-describing tag'`,
  );
});
