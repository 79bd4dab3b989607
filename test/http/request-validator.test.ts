/**
 * Request validation against envelopes built the way agents build them: real identities of
 * `@icp-sdk/core` (Ed25519, ECDSA P-256, secp256k1, delegation chains) sign through their
 * `transformRequest`, the body goes through the agent's CBOR encoder and back through
 * `@dfinity/cbor`, as the HTTP layer receives it. Rejections assert the replica's exact texts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { decode, encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { sha256 } from '@noble/hashes/sha2.js';
import { p256 } from '@noble/curves/nist.js';
import { Cbor, requestIdOf as agentRequestIdOf, type SignIdentity } from '@icp-sdk/core/agent';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { Principal } from '@icp-sdk/core/principal';
import {
  RequestValidationError,
  delegationHash,
  formatReplicaTime,
  validateRequest,
  type Envelope,
  type RequestType,
} from '../../src/http/request-validator.ts';
import { requestIdOf, type HashableMap } from '../../src/crypto/request-id.ts';
import { IC_REQUEST, IC_REQUEST_AUTH_DELEGATION, concatBytes } from '../../src/crypto/domain-separator.ts';
import { selfAuthenticatingPrincipal } from '../../src/crypto/public-key.ts';
import { canisterSignaturePublicKeyDer } from '../../src/crypto/canister-signature.ts';
import { certifyTree, generateRootKey } from '../../src/crypto/certificate.ts';
import { reconstruct } from '../../src/crypto/hash-tree.ts';
import { buildHashTree, witness, type LabeledTree } from '../../src/crypto/labeled-tree.ts';
import { nanos, type Nanos } from '../../src/types/units.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const texts = JSON.parse(readFileSync(new URL('../vectors/replica-texts.json', import.meta.url), 'utf8'));
const NOW: Nanos = nanos(BigInt(texts.invalidExpiry.nowNanos));
const NOW_MS = Number(NOW / 1_000_000n);
const EXPIRY = NOW + 240_000_000_000n; // 4 minutes ahead, as agents send
const CANISTER = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');
const OTHER = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
const root = generateRootKey(new Uint8Array(32).fill(9));

interface Built {
  envelope: Envelope;
  requestId: Uint8Array;
}

function content(sender: Principal, over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    request_type: 'call',
    canister_id: CANISTER,
    method_name: 'greet',
    arg: Uint8Array.from(Buffer.from('4449444c0001710568656c6c6f', 'hex')),
    sender,
    ingress_expiry: EXPIRY,
    ...over,
  };
}

/** Signs like the agent (identity.transformRequest), then CBOR-encodes and decodes the body. */
async function build(identity: SignIdentity | null, c: Record<string, unknown>): Promise<Built> {
  const body: unknown =
    identity === null
      ? { content: c }
      : ((await identity.transformRequest({ endpoint: 'call' as never, request: {}, body: c as never })) as { body: unknown }).body;
  const envelope = decode(Cbor.encode(body as never)) as Envelope;
  const requestId = requestIdOf(envelope.content as HashableMap);
  assert.equal(hex(requestId), hex(agentRequestIdOf(c)));
  return { envelope, requestId };
}

function validate(b: Built, requestType: RequestType = 'call', now: Nanos = NOW) {
  return validateRequest(b.envelope, { requestId: b.requestId, nowNanos: now, requestType, rootPublicKey: root.publicKey });
}

function rejection(f: () => unknown): RequestValidationError {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof RequestValidationError, `expected RequestValidationError, got ${String(e)}`);
    assert.equal(e.httpStatus, 400);
    return e;
  }
  return assert.fail('expected a rejection');
}

const ed = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(1));
const edDer = new Uint8Array(ed.getPublicKey().toDer());

test('accepts calls signed by Ed25519, ECDSA P-256 and secp256k1 identities', async () => {
  const ids: SignIdentity[] = [ed, await ECDSAKeyIdentity.generate(), Secp256k1KeyIdentity.generate(new Uint8Array(32).fill(2))];
  for (const id of ids) {
    const v = validate(await build(id, content(id.getPrincipal())));
    assert.equal(v.sender.toText(), id.getPrincipal().toText());
    assert.equal(v.targets, 'all');
  }
});

test('tampered signature: the replica text', async () => {
  const b = await build(ed, content(ed.getPrincipal()));
  const sig = (b.envelope.sender_sig as Uint8Array).slice();
  sig[0]! ^= 0xff;
  const e = rejection(() => validate({ ...b, envelope: { ...b.envelope, sender_sig: sig } }));
  assert.equal(
    e.message,
    `Invalid signature: Invalid basic signature: Ed25519 signature could not be verified: public key ${hex(edDer.subarray(12))}, signature ${hex(sig)}, error: A signature was invalid`,
  );
});

test('sender that is not the key\'s principal', async () => {
  const b = await build(ed, content(OTHER));
  const e = rejection(() => validate(b));
  assert.equal(e.message, `The user id '${OTHER.toText()}' does not match the public key '${hex(edDer)}'`);
  assert.equal(e.kind, 'UserIdDoesNotMatchPublicKey');
});

test('ingress expiry too early and too late: the replica text, times as chrono prints them', async () => {
  const min = formatReplicaTime(NOW);
  const max = formatReplicaTime(NOW + 330_000_000_000n);
  assert.equal(min, '2025-05-01 23:55:18.005285297 UTC');
  assert.equal(max, '2025-05-02 00:00:48.005285297 UTC');
  const provided = BigInt(texts.invalidExpiry.providedExpiryNanos);
  const early = await rejectionOf(build(ed, content(ed.getPrincipal(), { ingress_expiry: provided })));
  assert.equal(
    early.message,
    `Invalid request expiry: Specified ingress_expiry not within expected range: Minimum allowed expiry: ${min}, ` +
      `Maximum allowed expiry: ${max}, Provided expiry:        2025-05-01 12:38:00 UTC`,
  );
  assert.equal(early.message.replace(/ {2,}/g, ' '), texts.invalidExpiry.quotedCollapsed);
  const lateExpiry = NOW + 330_000_000_001n;
  const late = await rejectionOf(build(ed, content(ed.getPrincipal(), { ingress_expiry: lateExpiry })));
  assert.match(late.message, /Provided expiry: {8}2025-05-02 00:00:48\.005285298 UTC$/);
  // The bounds themselves are inside the window.
  validate(await build(ed, content(ed.getPrincipal(), { ingress_expiry: NOW + 330_000_000_000n })));
  validate(await build(ed, content(ed.getPrincipal(), { ingress_expiry: BigInt(NOW) })));
});

test('anonymous: no signature allowed; any expiry for query and read_state, not for call', async () => {
  const anon = Principal.anonymous();
  assert.equal(validate(await build(null, content(anon))).sender.toText(), '2vxsx-fae');
  const stale = content(anon, { ingress_expiry: 1n, request_type: 'query' });
  validate(await build(null, stale), 'query');
  const rs = { request_type: 'read_state', sender: anon, paths: [[new TextEncoder().encode('time')]], ingress_expiry: 1n };
  validate(await build(null, rs), 'read_state');
  const call = await rejectionOf(build(null, content(anon, { ingress_expiry: 1n })));
  assert.equal(call.kind, 'InvalidRequestExpiry');
  const signed = await build(ed, content(anon));
  assert.equal(rejection(() => validate(signed)).message, 'Signature is not allowed for the anonymous user.');
  const unsigned = await build(null, content(ed.getPrincipal()));
  assert.equal(rejection(() => validate(unsigned)).message, `Missing signature from user: ${ed.getPrincipal().toText()}`);
});

test('delegation chain: accepted, targets intersected, target mismatch and management canister rejected', async () => {
  const session = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(3));
  const chain = await DelegationChain.create(ed, session.getPublicKey(), new Date(NOW_MS + 3_600_000), {
    targets: [CANISTER, OTHER],
  });
  const narrower = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(4));
  const chain2 = await DelegationChain.create(session, narrower.getPublicKey(), new Date(NOW_MS + 3_600_000), {
    previous: chain,
    targets: [CANISTER],
  });
  const id = DelegationIdentity.fromDelegation(narrower, chain2);
  const ok = validate(await build(id, content(id.getPrincipal())));
  assert.equal(ok.sender.toText(), ed.getPrincipal().toText());
  assert.deepEqual(ok.targets, new Set([CANISTER.toText()]));
  const toOther = await build(id, content(id.getPrincipal(), { canister_id: OTHER }));
  assert.equal(rejection(() => validate(toOther)).message, `Canister '${OTHER.toText()}' is not one of the delegation targets.`);
  const toManagement = await build(id, content(id.getPrincipal(), { canister_id: Principal.managementCanister() }));
  assert.equal(rejection(() => validate(toManagement)).message, "Canister 'aaaaa-aa' is not one of the delegation targets.");
});

test('expired delegation: the replica text', async () => {
  const session = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(5));
  const expiredAt = NOW_MS - 1000;
  const chain = await DelegationChain.create(ed, session.getPublicKey(), new Date(expiredAt));
  const id = DelegationIdentity.fromDelegation(session, chain);
  const e = await rejectionOf(build(id, content(id.getPrincipal())));
  assert.equal(
    e.message,
    'Invalid delegation expiry: Specified sender delegation has expired:\n' +
      `Provided expiry:    ${formatReplicaTime(BigInt(expiredAt) * 1_000_000n)}\n` +
      'Local replica time: 2025-05-01 23:55:18.005285297 UTC',
  );
});

test('delegation chains: 20 accepted, 21 too long, a cycle and a bad delegation signature rejected', async () => {
  const keys = Array.from({ length: 22 }, (_, i) => Ed25519KeyIdentity.generate(new Uint8Array(32).fill(10 + i)));
  let chain: DelegationChain | undefined;
  const exp = new Date(NOW_MS + 3_600_000);
  for (let i = 0; i < 21; i++) {
    chain = await DelegationChain.create(keys[i]!, keys[i + 1]!.getPublicKey(), exp, chain ? { previous: chain } : {});
    if (i === 19) {
      const id20 = DelegationIdentity.fromDelegation(keys[20]!, chain);
      validate(await build(id20, content(id20.getPrincipal())));
    }
  }
  const id21 = DelegationIdentity.fromDelegation(keys[21]!, chain!);
  assert.equal(
    (await rejectionOf(build(id21, content(id21.getPrincipal())))).message,
    'Invalid delegation: Chain of delegations is too long: got 21 delegations, but at most 20 are allowed.',
  );

  const toSelf = await DelegationChain.create(ed, ed.getPublicKey(), exp);
  const selfId = DelegationIdentity.fromDelegation(ed, toSelf);
  assert.equal(
    (await rejectionOf(build(selfId, content(selfId.getPrincipal())))).message,
    `Invalid delegation: Chain of delegations contains at least one cycle: first repeating public key encountered ${hex(edDer)}`,
  );

  const session = keys[1]!;
  const one = DelegationIdentity.fromDelegation(session, await DelegationChain.create(ed, session.getPublicKey(), exp));
  const b = await build(one, content(one.getPrincipal()));
  const dels = b.envelope.sender_delegation as { delegation: unknown; signature: Uint8Array }[];
  const badSig = dels[0]!.signature.slice();
  badSig[63]! ^= 1;
  const tampered = { ...b.envelope, sender_delegation: [{ ...dels[0]!, signature: badSig }] };
  assert.equal(
    rejection(() => validate({ ...b, envelope: tampered })).message,
    `Invalid delegation: Invalid basic signature: Ed25519 signature could not be verified: public key ${hex(edDer.subarray(12))}, signature ${hex(badSig)}, error: A signature was invalid`,
  );
});

test('nonce and read_state limits', async () => {
  const bigNonce = await build(ed, content(ed.getPrincipal(), { nonce: new Uint8Array(33) }));
  assert.equal(rejection(() => validate(bigNonce)).message, 'Nonce in request is too big: got 33 bytes, but at most 32 are allowed.');
  validate(await build(ed, content(ed.getPrincipal(), { nonce: new Uint8Array(32) })));
  const rs = (paths: Uint8Array[][]) => ({ request_type: 'read_state', sender: ed.getPrincipal(), paths, ingress_expiry: EXPIRY });
  const label = new TextEncoder().encode('time');
  const deep = await build(ed, rs([Array.from({ length: 128 }, () => label)]));
  assert.equal(
    rejection(() => validate(deep, 'read_state')).message,
    'At least one path in read state request is too deep: got 128 labels, but at most 127 are allowed.',
  );
  const wide = await build(ed, rs(Array.from({ length: 1001 }, () => [label])));
  assert.equal(
    rejection(() => validate(wide, 'read_state')).message,
    'Too many paths in read state request: got 1001 paths, but at most 1000 are allowed.',
  );
  assert.equal(validate(await build(ed, rs([[label]])), 'read_state').sender.toText(), ed.getPrincipal().toText());
});

test('malformed envelopes: pubkey without signature, wrong request type', async () => {
  const b = await build(ed, content(ed.getPrincipal()));
  const noSig = { content: b.envelope.content, sender_pubkey: b.envelope.sender_pubkey };
  assert.match(rejection(() => validate({ ...b, envelope: noSig })).message, /^Malformed request: MissingPubkeyOrSignature/);
  assert.match(rejection(() => validate(b, 'query')).message, /^Failed to deserialize cbor request: /);
});

test('WebAuthn sender (simulated authenticator with a COSE P-256 key)', async () => {
  const sk = p256.utils.randomSecretKey();
  const point = p256.getPublicKey(sk, false);
  const cose = concatBytes(Uint8Array.from(Buffer.from('a5010203262001215820', 'hex')), point.subarray(1, 33), Uint8Array.of(0x22, 0x58, 0x20), point.subarray(33));
  const der = concatBytes(Uint8Array.from(Buffer.from('305e300c060a2b0601040183b8430101034e00', 'hex')), cose);
  const sender = Principal.fromUint8Array(selfAuthenticatingPrincipal(der));
  const b = await build(null, content(sender));
  const sign = (challenge: Uint8Array): Uint8Array => {
    const authenticatorData = new Uint8Array(37).fill(1);
    const clientDataJson = new TextEncoder().encode(
      JSON.stringify({ type: 'webauthn.get', challenge: Buffer.from(challenge).toString('base64url'), origin: 'https://example.org' }),
    );
    const signature = p256.sign(concatBytes(authenticatorData, sha256(clientDataJson)), sk, { format: 'der' });
    return encodeWithSelfDescribedTag({ authenticator_data: authenticatorData, client_data_json: clientDataJson, signature });
  };
  const envelope = { ...b.envelope, sender_pubkey: der, sender_sig: sign(concatBytes(IC_REQUEST, b.requestId)) };
  assert.equal(validate({ ...b, envelope }).sender.toText(), sender.toText());
  const wrong = { ...b.envelope, sender_pubkey: der, sender_sig: sign(new Uint8Array(43)) };
  assert.match(rejection(() => validate({ ...b, envelope: wrong })).message, /^Invalid signature: WebAuthn error: Challenge in webauthn is \[0, 0,/);
});

test('canister-signature sender (as Internet Identity on this emulator): delegation certified by the root key', async () => {
  const ii = Principal.fromText('rdmx6-jaaaa-aaaaa-aaadq-cai').toUint8Array();
  const seed = sha256(new TextEncoder().encode('anchor'));
  const der = canisterSignaturePublicKeyDer(ii, seed);
  const session = Ed25519KeyIdentity.generate(new Uint8Array(32).fill(40));
  const delegation = { pubkey: new Uint8Array(session.getPublicKey().toDer()), expiration: NOW + 3_600_000_000_000n };
  const message = concatBytes(IC_REQUEST_AUTH_DELEGATION, delegationHash(delegation));
  const sigTree = buildHashTree(new Map([['sig', new Map([[sha256(seed), new Map([[sha256(message), new Uint8Array()]])]])]]) as LabeledTree);
  const state = new Map([['canister', new Map([[ii, new Map([['certified_data', reconstruct(sigTree)]])]])]]) as LabeledTree;
  const signature = encodeWithSelfDescribedTag({
    certificate: certifyTree(buildHashTree(state), root.secretKey),
    tree: witness(sigTree, [['sig', sha256(seed), sha256(message)]]) as never,
  });
  const sender = Principal.fromUint8Array(selfAuthenticatingPrincipal(der));
  const b = await build(null, content(sender));
  const envelope = {
    ...b.envelope,
    sender_pubkey: der,
    sender_delegation: [{ delegation, signature }],
    sender_sig: new Uint8Array(await session.sign(concatBytes(IC_REQUEST, b.requestId))),
  };
  assert.equal(validate({ ...b, envelope }).sender.toText(), sender.toText());
  const otherRoot = generateRootKey(new Uint8Array(32).fill(10));
  const e = rejection(() =>
    validateRequest(envelope, { requestId: b.requestId, nowNanos: NOW, requestType: 'call', rootPublicKey: otherRoot.publicKey }),
  );
  assert.match(e.message, /^Invalid delegation: Invalid canister signature: IcCanisterSignature signature could not be verified: .*certificate verification failed: Invalid signature$/);
});

async function rejectionOf(p: Promise<Built>): Promise<RequestValidationError> {
  const b = await p;
  return rejection(() => validate(b));
}
