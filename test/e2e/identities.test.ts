/**
 * End to end: every kind of sender identity against a running replica.
 *
 * - Real @icp-sdk/core HttpAgents with Ed25519, secp256k1, P-256 and delegation identities
 *   (with and without delegation targets) create a canister and read its status; the controller
 *   is the identity's principal.
 * - Raw HTTP refusals (envelopes built and signed here): tampered signature, wrong sender,
 *   expired delegation, delegation targets without `aaaaa-aa`, ingress_expiry too far in the
 *   future and in the past — HTTP 400 with the validator's exact texts.
 * - An anonymous request (sender 0x04, no key, no signature) to provisional create is accepted.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeWithSelfDescribedTag, decode } from '@dfinity/cbor';
import { Actor, HttpAgent, lookup_path, requestIdOf, type SignIdentity, type HashTree } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { DelegationChain, DelegationIdentity, ECDSAKeyIdentity, Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Secp256k1KeyIdentity } from '@icp-sdk/core/identity/secp256k1';
import { Principal } from '@icp-sdk/core/principal';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

const IC_REQUEST = new TextEncoder().encode('\x0Aic-request');
const MGMT = Principal.managementCanister();

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const concat = (a: Uint8Array, b: Uint8Array): Uint8Array => {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
};

const createArgType = IDL.Record({
  amount: IDL.Opt(IDL.Nat),
  settings: IDL.Opt(IDL.Reserved),
  specified_id: IDL.Opt(IDL.Principal),
  sender_canister_version: IDL.Opt(IDL.Nat64),
});
const createResultType = IDL.Record({ canister_id: IDL.Principal });
const createArg = (): Uint8Array =>
  new Uint8Array(IDL.encode([createArgType], [{ amount: [], settings: [], specified_id: [], sender_canister_version: [] }]));

/** Formats ns since the epoch as the replica prints `Time` (chrono): `YYYY-MM-DD HH:MM:SS[.fff] UTC`, ms precision only. */
function formatMs(ms: number): string {
  const iso = new Date(ms).toISOString(); // 2025-05-01T23:55:18.005Z
  const [date, timeZ] = iso.split('T') as [string, string];
  const [hms, frac] = timeZ.slice(0, -1).split('.') as [string, string];
  return `${date} ${hms}${frac === '000' ? '' : `.${frac}`} UTC`;
}

/** Parses a replica time text back to ns (for the non-deterministic replica-side values). */
function parseReplicaTime(s: string): bigint {
  const m = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})(?:\.(\d{3}|\d{6}|\d{9}))? UTC$/.exec(s);
  assert.ok(m, `not a replica time: ${JSON.stringify(s)}`);
  const secs = BigInt(Date.parse(`${m[1]}T${m[2]}Z`)) / 1000n;
  const frac = BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return secs * 1_000_000_000n + frac;
}

/** A millisecond time whose fraction is a fixed non-zero value, so its text is fully known. */
const msWithFraction = (approxMs: number, fracMs: number): number => Math.floor(approxMs / 1000) * 1000 + fracMs;

interface Signer {
  identity: SignIdentity;
  /** DER key put in `sender_pubkey` (the delegation chain's root key for delegations). */
  pubkeyDer: Uint8Array;
  delegation?: DelegationChain;
}

interface BuildOptions {
  sender?: Principal;
  ingressExpiry?: bigint;
  canisterId?: Principal;
  methodName?: string;
  arg?: Uint8Array;
}

/** Builds and signs a call envelope (returns the content too, for the request id). */
async function signedCall(signer: Signer | null, o: BuildOptions = {}) {
  const content: Record<string, unknown> = {
    request_type: 'call',
    sender: (o.sender ?? (signer ? signer.identity.getPrincipal() : Principal.anonymous())).toUint8Array(),
    canister_id: (o.canisterId ?? MGMT).toUint8Array(),
    method_name: o.methodName ?? 'provisional_create_canister_with_cycles',
    arg: o.arg ?? createArg(),
    ingress_expiry: o.ingressExpiry ?? BigInt(Date.now() + 120_000) * 1_000_000n,
    nonce: crypto.getRandomValues(new Uint8Array(16)),
  };
  const requestId = requestIdOf(content);
  const envelope: Record<string, unknown> = { content };
  if (signer) {
    envelope['sender_pubkey'] = signer.pubkeyDer;
    envelope['sender_sig'] = new Uint8Array(await signer.identity.sign(concat(IC_REQUEST, requestId)));
    if (signer.delegation) {
      envelope['sender_delegation'] = signer.delegation.delegations.map((sd) => ({
        delegation: {
          pubkey: new Uint8Array(sd.delegation.pubkey),
          expiration: sd.delegation.expiration,
          ...(sd.delegation.targets && { targets: sd.delegation.targets.map((t) => t.toUint8Array()) }),
        },
        signature: new Uint8Array(sd.signature),
      }));
    }
  }
  return { envelope, requestId };
}

async function post(url: string, envelope: unknown, path = '/api/v3/canister/aaaaa-aa/call'): Promise<{ status: number; text: string; bytes: Uint8Array }> {
  const res = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/cbor' },
    body: encodeWithSelfDescribedTag(envelope as never),
  });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { status: res.status, text: Buffer.from(bytes).toString('utf8'), bytes };
}

const plain = (identity: SignIdentity): Signer => ({ identity, pubkeyDer: new Uint8Array(identity.getPublicKey().toDer()) });

async function delegated(targets?: Principal[], expiration?: Date): Promise<Signer> {
  const root = Ed25519KeyIdentity.generate();
  const session = Ed25519KeyIdentity.generate();
  const chain = await DelegationChain.create(root, session.getPublicKey(), expiration ?? new Date(Date.now() + 3_600_000), {
    ...(targets && { targets }),
  });
  const identity = DelegationIdentity.fromDelegation(session, chain);
  return { identity, pubkeyDer: new Uint8Array(chain.publicKey), delegation: chain };
}

describe('sender identities end to end', () => {
  let r: Running;
  before(async () => {
    r = await startTestReplica({ costSchedule: 'free' }); // exact balances here are about identities, not fees
  });
  after(async () => {
    await r.cleanup();
  });

  const kinds: { name: string; make(): Promise<SignIdentity> }[] = [
    { name: 'Ed25519', make: async () => Ed25519KeyIdentity.generate() },
    { name: 'secp256k1', make: async () => Secp256k1KeyIdentity.generate() },
    { name: 'P-256 (ECDSAKeyIdentity)', make: async () => ECDSAKeyIdentity.generate() },
    { name: 'delegation without targets', make: async () => (await delegated()).identity },
    { name: 'delegation with targets [aaaaa-aa, other]', make: async () => (await delegated([MGMT, Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai')])).identity },
  ];

  for (const kind of kinds) {
    test(`agent with ${kind.name}: create, then canister_status names it as controller`, async () => {
      const identity = await kind.make();
      const agent = await HttpAgent.create({ host: r.url, identity, shouldFetchRootKey: true });
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: MGMT }) as any;
      const { canister_id } = await mgmt.provisional_create_canister_with_cycles({
        amount: [777_000_000_000n],
        settings: [],
        specified_id: [],
        sender_canister_version: [],
      });
      const id = Principal.from(canister_id);
      assert.match(id.toText(), /-cai$/);
      const onCanister = Actor.createActor(managementIdlFactory, { agent, canisterId: MGMT, effectiveCanisterId: id }) as any;
      const st = await onCanister.canister_status({ canister_id: id });
      assert.deepEqual(Object.keys(st.status), ['running']);
      assert.equal(st.cycles, 777_000_000_000n);
      assert.deepEqual(
        st.settings.controllers.map((p: Principal) => Principal.from(p).toText()),
        [identity.getPrincipal().toText()],
      );
    });
  }

  test('a raw, correctly signed call per identity kind is accepted (baseline for the refusals)', async () => {
    for (const identity of [Ed25519KeyIdentity.generate(), Secp256k1KeyIdentity.generate(), await ECDSAKeyIdentity.generate()]) {
      const { envelope } = await signedCall(plain(identity));
      const res = await post(r.url, envelope);
      assert.equal(res.status, 200, res.text);
      assert.equal((decode(res.bytes) as { status: string }).status, 'replied');
    }
  });

  test('tampered signature: 400 Invalid signature (Ed25519, secp256k1, P-256)', async () => {
    const cases: { identity: SignIdentity; text(sig: Uint8Array): string }[] = [];
    const ed = Ed25519KeyIdentity.generate();
    cases.push({
      identity: ed,
      text: (sig) =>
        `Invalid signature: Invalid basic signature: Ed25519 signature could not be verified: public key ${hex(ed.getPublicKey().rawKey)}, signature ${hex(sig)}, error: A signature was invalid`,
    });
    const k1 = Secp256k1KeyIdentity.generate();
    cases.push({
      identity: k1,
      text: (sig) =>
        `Invalid signature: Invalid basic signature: EcdsaSecp256k1 signature could not be verified: public key ${hex(k1.getPublicKey().rawKey)}, signature ${hex(sig)}, error: verification failed`,
    });
    const p256 = await ECDSAKeyIdentity.generate();
    const p256Sec1 = new Uint8Array(p256.getPublicKey().toDer()).slice(-65);
    cases.push({
      identity: p256,
      text: (sig) =>
        `Invalid signature: Invalid basic signature: EcdsaP256 signature could not be verified: public key ${hex(p256Sec1)}, signature ${hex(sig)}, error: verification failed`,
    });
    assert.equal(p256Sec1[0], 0x04, 'uncompressed SEC1 point');
    for (const c of cases) {
      const { envelope } = await signedCall(plain(c.identity));
      const sig = new Uint8Array(envelope['sender_sig'] as Uint8Array);
      sig[5]! ^= 0x01;
      envelope['sender_sig'] = sig;
      const res = await post(r.url, envelope);
      assert.equal(res.status, 400);
      assert.equal(res.text, c.text(sig));
    }
  });

  test('wrong sender: 400 user id does not match the public key', async () => {
    const a = Ed25519KeyIdentity.generate();
    const b = Ed25519KeyIdentity.generate();
    const signer = plain(a);
    const { envelope } = await signedCall(signer, { sender: b.getPrincipal() });
    const res = await post(r.url, envelope);
    assert.equal(res.status, 400);
    assert.equal(res.text, `The user id '${b.getPrincipal().toText()}' does not match the public key '${hex(signer.pubkeyDer)}'`);
  });

  test('expired delegation: 400 with the provided expiry and the replica time', async () => {
    const expiredMs = msWithFraction(Date.now() - 60_000, 456);
    const signer = await delegated(undefined, new Date(expiredMs));
    assert.equal(signer.delegation!.delegations[0]!.delegation.expiration, BigInt(expiredMs) * 1_000_000n);
    const { envelope } = await signedCall(signer);
    const before = BigInt(Date.now()) * 1_000_000n;
    const res = await post(r.url, envelope);
    const afterNs = BigInt(Date.now()) * 1_000_000n;
    assert.equal(res.status, 400);
    const prefix = `Invalid delegation expiry: Specified sender delegation has expired:\nProvided expiry:    ${formatMs(expiredMs)}\nLocal replica time: `;
    assert.ok(res.text.startsWith(prefix), JSON.stringify(res.text));
    const replicaNow = parseReplicaTime(res.text.slice(prefix.length));
    assert.ok(replicaNow >= before - 1_000_000n && replicaNow <= afterNs + 1_000_000n, `replica time ${replicaNow} outside [${before}, ${afterNs}]`);
  });

  test('delegation targets without aaaaa-aa: 400 not one of the delegation targets', async () => {
    const signer = await delegated([Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai')]);
    const { envelope } = await signedCall(signer);
    const res = await post(r.url, envelope);
    assert.equal(res.status, 400);
    assert.equal(res.text, "Canister 'aaaaa-aa' is not one of the delegation targets.");
  });

  for (const [label, offsetMs] of [
    ['10 minutes in the future', 600_000],
    ['in the past', -60_000],
  ] as const) {
    test(`ingress_expiry ${label}: 400 Invalid request expiry`, async () => {
      const expiryMs = msWithFraction(Date.now() + offsetMs, 123);
      const { envelope } = await signedCall(plain(Ed25519KeyIdentity.generate()), { ingressExpiry: BigInt(expiryMs) * 1_000_000n });
      const before = BigInt(Date.now()) * 1_000_000n;
      const res = await post(r.url, envelope);
      const afterNs = BigInt(Date.now()) * 1_000_000n;
      assert.equal(res.status, 400);
      const m = /^Invalid request expiry: Specified ingress_expiry not within expected range: Minimum allowed expiry: (.+ UTC), Maximum allowed expiry: (.+ UTC), Provided expiry: {8}(.+ UTC)$/.exec(res.text);
      assert.ok(m, JSON.stringify(res.text));
      assert.equal(m[3], formatMs(expiryMs));
      const min = parseReplicaTime(m[1]!);
      const max = parseReplicaTime(m[2]!);
      assert.equal(max - min, 330_000_000_000n, 'MAX_INGRESS_TTL (5 min) + PERMITTED_DRIFT (30 s)');
      assert.ok(min >= before - 1_000_000n && min <= afterNs + 1_000_000n, `minimum ${min} is not the replica's now`);
    });
  }

  test('anonymous (sender 0x04, no key, no signature) provisional create is accepted', async () => {
    const { envelope, requestId } = await signedCall(null);
    assert.deepEqual((envelope['content'] as { sender: Uint8Array }).sender, Uint8Array.of(0x04));
    assert.equal('sender_pubkey' in envelope || 'sender_sig' in envelope, false);
    const res = await post(r.url, envelope);
    assert.equal(res.status, 200, res.text);
    const body = decode(res.bytes) as { status: string; certificate: Uint8Array };
    assert.equal(body.status, 'replied');
    const cert = decode(body.certificate) as { tree: HashTree };
    const status = lookup_path(['request_status', requestId, 'status'], cert.tree);
    assert.equal(new TextDecoder().decode((status as { value: Uint8Array }).value), 'replied');
    const reply = lookup_path(['request_status', requestId, 'reply'], cert.tree) as { value: Uint8Array };
    const [out] = IDL.decode([createResultType], reply.value) as unknown as [{ canister_id: Principal }];
    assert.match(out.canister_id.toText(), /-cai$/);

    // The anonymous principal is the controller.
    const agent = await HttpAgent.create({ host: r.url, shouldFetchRootKey: true });
    const onCanister = Actor.createActor(managementIdlFactory, { agent, canisterId: MGMT, effectiveCanisterId: out.canister_id }) as any;
    const st = await onCanister.canister_status({ canister_id: out.canister_id });
    assert.deepEqual(st.settings.controllers.map((p: Principal) => Principal.from(p).toText()), ['2vxsx-fae']);
  });
});
