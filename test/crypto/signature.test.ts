/**
 * Sender keys and signatures: keys and signatures of real `@icp-sdk/core` identities (Ed25519,
 * ECDSA P-256, secp256k1), the replica's acceptance rules (high-s, ZIP-215, canonical DER)
 * and error texts, RSA, WebAuthn vectors of dfinity/ic, and node query signatures checked with
 * the agent's `hashOfMap` and `@noble/curves` (the agent's own verification steps).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { Ed25519KeyIdentity, ECDSAKeyIdentity } from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { hashOfMap as agentHashOfMap, IC_RESPONSE_DOMAIN_SEPARATOR } from '@icp-sdk/core/agent';
import { Principal } from '@icp-sdk/core/principal';
import { parsePublicKey, selfAuthenticatingPrincipal, P256_DER_PREFIX, ED25519_DER_PREFIX } from '../../src/crypto/public-key.ts';
import { verifyBasicSignature } from '../../src/crypto/signature.ts';
import { CryptoError } from '../../src/crypto/crypto-error.ts';
import { verifyWebAuthnSignature, WebAuthnError } from '../../src/crypto/webauthn.ts';
import { IC_REQUEST_AUTH_DELEGATION, concatBytes } from '../../src/crypto/domain-separator.ts';
import { hashOfMap } from '../../src/crypto/request-id.ts';
import { nodeKeyFromSeed, signQueryResponse, verifyQueryResponseSignature } from '../../src/crypto/node-key.ts';
import { nanos } from '../../src/types/units.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const unhex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const msg = new TextEncoder().encode('\x0Aic-request some request id bytes......');

function cryptoErrorText(f: () => void): string {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof CryptoError, `expected CryptoError, got ${String(e)}`);
    return e.message;
  }
  assert.fail('expected a CryptoError');
}

test('Ed25519 identity: key, principal, signature; tampered signature text', async () => {
  const id = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(1));
  const der = new Uint8Array(id.getPublicKey().toDer());
  const key = parsePublicKey(der);
  assert.equal(key.kind, 'ed25519');
  assert.equal(Principal.fromUint8Array(selfAuthenticatingPrincipal(der)).toText(), id.getPrincipal().toText());
  const sig = new Uint8Array(await id.sign(msg));
  verifyBasicSignature(key, msg, sig);
  const bad = sig.slice();
  bad[5]! ^= 1;
  const raw = key.kind === 'ed25519' ? key.raw : new Uint8Array();
  assert.equal(
    cryptoErrorText(() => verifyBasicSignature(key, msg, bad)),
    `Ed25519 signature could not be verified: public key ${hex(raw)}, signature ${hex(bad)}, error: A signature was invalid`,
  );
  assert.equal(
    cryptoErrorText(() => verifyBasicSignature(key, msg, sig.subarray(0, 63))),
    `Malformed Ed25519 signature: [${hex(sig.subarray(0, 63))}] error: 'Incorrect signature length: expected 64, got 63.'`,
  );
});

test('Ed25519 follows ZIP-215 like ic_ed25519: small-order key and identity R accepted', () => {
  const identity = unhex('01' + '00'.repeat(31));
  const der = concatBytes(ED25519_DER_PREFIX, identity);
  const sig = concatBytes(identity, new Uint8Array(32));
  verifyBasicSignature(parsePublicKey(der), msg, sig);
  assert.equal(ed25519.verify(sig, msg, identity, { zip215: true }), true);
});

test('ECDSA P-256 identity (WebCrypto): verified; high-s accepted; tampered text', async () => {
  const id = await ECDSAKeyIdentity.generate();
  const der = new Uint8Array(id.getPublicKey().toDer());
  const key = parsePublicKey(der);
  assert.equal(key.kind, 'ecdsa-p256');
  assert.equal(Principal.fromUint8Array(selfAuthenticatingPrincipal(der)).toText(), id.getPrincipal().toText());
  const sig = new Uint8Array(await id.sign(msg));
  verifyBasicSignature(key, msg, sig);
  const flipped = flipS(sig, p256.Point.CURVE().n);
  verifyBasicSignature(key, msg, flipped);
  const bad = sig.slice();
  bad[40]! ^= 1;
  const sec1 = key.kind === 'ecdsa-p256' ? key.sec1 : new Uint8Array();
  assert.equal(sec1.length, 65);
  assert.equal(
    cryptoErrorText(() => verifyBasicSignature(key, msg, bad)),
    `EcdsaP256 signature could not be verified: public key ${hex(sec1)}, signature ${hex(bad)}, error: verification failed`,
  );
});

test('ECDSA secp256k1 identity: verified; high-s accepted (replica uses the malleable check)', async () => {
  const id = Secp256k1KeyIdentity.generate(new Uint8Array(32).fill(2));
  const der = new Uint8Array(id.getPublicKey().toDer());
  const key = parsePublicKey(der);
  assert.equal(key.kind, 'ecdsa-secp256k1');
  assert.equal(Principal.fromUint8Array(selfAuthenticatingPrincipal(der)).toText(), id.getPrincipal().toText());
  const sig = new Uint8Array(await id.sign(msg));
  verifyBasicSignature(key, msg, sig);
  verifyBasicSignature(key, msg, flipS(sig, secp256k1.Point.CURVE().n));
  const other = new Uint8Array(await id.sign(new Uint8Array([1])));
  assert.match(cryptoErrorText(() => verifyBasicSignature(key, msg, other)), /^EcdsaSecp256k1 signature could not be verified: public key 04[0-9a-f]{128}, signature [0-9a-f]{128}, error: verification failed$/);
});

test('public key parsing errors use the replica texts', () => {
  const sk = p256.utils.randomSecretKey();
  const compressed = p256.getPublicKey(sk, true);
  const nonCanonical = concatBytes(unhex('3039301306072a8648ce3d020106082a8648ce3d030107032200'), compressed);
  assert.equal(
    cryptoErrorText(() => parsePublicKey(nonCanonical)),
    'Malformed EcdsaP256 public key: non-canonical encoding',
  );
  assert.equal(parsePublicKey(concatBytes(P256_DER_PREFIX, p256.getPublicKey(sk, false))).kind, 'ecdsa-p256');
  const unknownOid = unhex('302a300506032b6571032100' + '11'.repeat(32)); // Ed448 OID, 32-byte key
  assert.equal(
    cryptoErrorText(() => parsePublicKey(unknownOid)),
    'Malformed Placeholder public key: Unsupported or unparsable public key',
  );
  assert.match(cryptoErrorText(() => parsePublicKey(Uint8Array.of(0x30, 0x05))), /^Malformed Placeholder public key: /);
});

test('RSA keys: only with allowRsa (delegations); PKCS#1 v1.5 SHA-256', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const der = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }));
  const key = parsePublicKey(der);
  assert.equal(key.kind, 'rsa-sha256');
  const sig = new Uint8Array(nodeSign('sha256', msg, privateKey));
  assert.equal(
    cryptoErrorText(() => verifyBasicSignature(key, msg, sig)),
    'Algorithm RsaSha256 not supported: RSA signatures are not allowed except in webauthn context',
  );
  verifyBasicSignature(key, msg, sig, { allowRsa: true });
  assert.throws(() => verifyBasicSignature(key, new Uint8Array([1]), sig, { allowRsa: true }), CryptoError);
});

test('WebAuthn vectors of dfinity/ic: signature over "hello" and over a delegation', () => {
  const v = JSON.parse(readFileSync(new URL('../vectors/webauthn.json', import.meta.url), 'utf8'));
  const key = parsePublicKey(unhex(v.publicKeyDer));
  assert.equal(key.kind, 'webauthn');
  if (key.kind !== 'webauthn') return;
  const hello = new TextEncoder().encode('hello');
  verifyWebAuthnSignature(key, hello, unhex(v.signatureOverHello));
  const delegationBytes = concatBytes(
    IC_REQUEST_AUTH_DELEGATION,
    hashOfMap({ pubkey: unhex(v.delegation.pubkeyHex), expiration: BigInt(v.delegation.expiration) }),
  );
  verifyWebAuthnSignature(key, delegationBytes, unhex(v.signatureOverDelegation));
  assert.throws(
    () => verifyWebAuthnSignature(key, new Uint8Array(), unhex(v.signatureOverHello)),
    (e: unknown) => e instanceof WebAuthnError && e.message === 'Challenge in webauthn is [104, 101, 108, 108, 111] while it is expected to be []',
  );
  const wrong = parsePublicKey(unhex(v.wrongPublicKeyDer));
  assert.ok(wrong.kind === 'webauthn');
  assert.throws(
    () => verifyWebAuthnSignature(wrong, hello, unhex(v.signatureOverHello)),
    (e: unknown) => e instanceof WebAuthnError && e.message.startsWith('Verifying signature failed. '),
  );
});

test('node key: deterministic, 44-byte DER, node id; query signatures verify as the agent checks them', () => {
  const key = nodeKeyFromSeed(new Uint8Array(32).fill(5));
  assert.equal(key.publicKeyDer.length, 44);
  assert.equal(hex(key.publicKey), hex(ed25519.getPublicKey(new Uint8Array(32).fill(5))));
  assert.equal(hex(key.nodeId), hex(selfAuthenticatingPrincipal(key.publicKeyDer)));
  const requestId = sha256(new Uint8Array([1, 2, 3]));
  const ts = nanos(1_700_000_000_123_456_789n);
  const replied = { status: 'replied', reply: { arg: unhex('4449444c0000') } } as const;
  const rejected = { status: 'rejected', reject_code: 5, reject_message: 'boom', error_code: 'IC0503' } as const;
  for (const response of [replied, rejected]) {
    const s = signQueryResponse(key, response, requestId, ts);
    assert.equal(s.signature.length, 64);
    assert.equal(hex(s.identity), hex(key.nodeId));
    // The agent's steps: hashOfMap({...response, timestamp: BigInt, request_id}), "\x0Bic-response", ed25519.
    const agentHash = agentHashOfMap({ ...response, timestamp: BigInt(s.timestamp), request_id: requestId });
    assert.equal(ed25519.verify(s.signature, concatBytes(IC_RESPONSE_DOMAIN_SEPARATOR, agentHash), key.publicKey), true);
    assert.equal(verifyQueryResponseSignature(key.publicKeyDer, response, requestId, s), true);
    assert.equal(verifyQueryResponseSignature(key.publicKeyDer, response, sha256(requestId), s), false);
  }
  assert.throws(() => nodeKeyFromSeed(new Uint8Array(31)), RangeError);
});

// r ‖ s → r ‖ (n − s): the other valid signature of the same message.
function flipS(sig: Uint8Array, n: bigint): Uint8Array {
  const s = BigInt('0x' + hex(sig.subarray(32)));
  const flipped = (n - s).toString(16).padStart(64, '0');
  return concatBytes(sig.subarray(0, 32), unhex(flipped));
}
