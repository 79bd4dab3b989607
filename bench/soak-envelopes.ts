/**
 * Envelopes for `npm run soak`: valid seeds for every endpoint, mutated at random (fuzzing), and
 * authentication attacks (forged, foreign, expired, mis-targeted). Sent over keep-alive
 * connections (fetch) with a per-request limit; an answer missing past it is a hang.
 */
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import { requestIdOf } from '@icp-sdk/core/agent';
import { DelegationChain, Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { mulberry32 } from '../test/support/prng.ts';

const IC_REQUEST = new TextEncoder().encode('\x0Aic-request');
const EMPTY_ARGS = new Uint8Array([0x44, 0x49, 0x44, 0x4c, 0x00, 0x00]);
const MINUTE_NS = 60_000_000_000n;

type Content = Record<string, unknown>;

function content(kind: 'call' | 'query' | 'read_state', canisterId: Principal, sender: Principal, expiryNs: bigint, nonce: number): Content {
  const c: Content = { request_type: kind, sender: sender.toUint8Array(), ingress_expiry: expiryNs, nonce: new Uint8Array(new BigUint64Array([BigInt(nonce)]).buffer) };
  if (kind === 'read_state') c['paths'] = [[new TextEncoder().encode('time')]];
  else Object.assign(c, { canister_id: canisterId.toUint8Array(), method_name: kind === 'query' ? 'get' : 'inc', arg: EMPTY_ARGS });
  return c;
}

async function signed(c: Content, signer: Ed25519KeyIdentity, pubkeyOf: Ed25519KeyIdentity = signer, extra: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const rid = requestIdOf(c as never);
  const sig = new Uint8Array(await signer.sign(new Uint8Array([...IC_REQUEST, ...rid])));
  return { content: c, sender_pubkey: new Uint8Array(pubkeyOf.getPublicKey().toDer()), sender_sig: sig, ...extra };
}

function now(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

async function post(url: string, path: string, body: Uint8Array, timeoutMs: number): Promise<number | 'hang' | 'tcp'> {
  try {
    const r = await fetch(new URL(path, url), {
      method: 'POST',
      headers: { 'content-type': 'application/cbor' },
      body: Buffer.from(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    await r.arrayBuffer();
    return r.status;
  } catch (e) {
    return (e as Error).name === 'TimeoutError' ? 'hang' : 'tcp';
  }
}


/**
 * Sends `count` mutated envelopes (byte flips, truncations, insertions, random bytes, empty) to
 * every call, query and read_state endpoint, 16 at a time.
 * @returns how many were sent, answered 5xx, left unanswered past `timeoutMs`, failed at TCP level.
 */
export async function fuzzEnvelopes(url: string, canisterId: Principal, count: number, timeoutMs: number): Promise<Record<string, number>> {
  const id = Ed25519KeyIdentity.generate();
  const sender = id.getPrincipal();
  const anon = Principal.anonymous();
  const exp = now() + 4n * MINUTE_NS;
  const seeds: { path: string; body: Uint8Array }[] = [];
  const cid = canisterId.toText();
  for (const [kind, paths] of [
    ['call', [`/api/v2/canister/${cid}/call`, `/api/v3/canister/${cid}/call`, `/api/v4/canister/${cid}/call`]],
    ['query', [`/api/v2/canister/${cid}/query`, `/api/v3/canister/${cid}/query`]],
    ['read_state', [`/api/v2/canister/${cid}/read_state`, `/api/v3/canister/${cid}/read_state`]],
  ] as const) {
    for (const path of paths) {
      seeds.push({ path, body: encodeWithSelfDescribedTag((await signed(content(kind, canisterId, sender, exp, seeds.length), id)) as never) });
      seeds.push({ path, body: encodeWithSelfDescribedTag({ content: content(kind, canisterId, anon, exp, seeds.length) } as never) });
    }
  }
  const random = mulberry32(0x50a1c0de);
  const int = (n: number) => Math.floor(random() * n);
  const mutate = (b: Uint8Array): Uint8Array => {
    const out = Array.from(b);
    for (let k = 1 + int(4); k > 0; k--) {
      switch (int(5)) {
        case 0: if (out.length) { const j = int(out.length); out[j] = out[j]! ^ (1 << int(8)); } break;
        case 1: out.length = int(out.length + 1); break;
        case 2: out.splice(int(out.length + 1), 0, ...Array.from({ length: 1 + int(8) }, () => int(256))); break;
        case 3: if (out.length) out[int(out.length)] = int(256); break;
        default: out.splice(int(out.length + 1), int(4)); break;
      }
    }
    return new Uint8Array(out);
  };
  const tally = { count, http_5xx: 0, hangs: 0, tcp_errors: 0, http_2xx: 0, http_4xx: 0 };
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < count) {
        const i = next++;
        const seed = seeds[i % seeds.length]!;
        const body = i % 50 === 0 ? new Uint8Array(Array.from({ length: int(300) }, () => int(256))) : i % 97 === 0 ? new Uint8Array() : mutate(seed.body);
        const s = await post(url, seed.path, body, timeoutMs);
        if (s === 'hang') tally.hangs++;
        else if (s === 'tcp') tally.tcp_errors++;
        else if (s >= 500) tally.http_5xx++;
        else if (s >= 400) tally.http_4xx++;
        else tally.http_2xx++;
      }
    }),
  );
  return tally;
}

/**
 * Authentication attacks on `inc` (calls v2, v3) and `get` (query): a forged signature, a
 * signature by another key, a sender that is not the key's principal, an expired and a too-late
 * expiry, a delegation signed by a foreign key, an expired delegation, a delegation whose targets
 * exclude the canister, a signature replayed from another request, a signed anonymous sender.
 * @returns attacks sent, how many got a 4xx, and the statuses seen.
 */
export async function attackEnvelopes(url: string, canisterId: Principal): Promise<Record<string, number | string>> {
  const me = Ed25519KeyIdentity.generate();
  const other = Ed25519KeyIdentity.generate();
  const session = Ed25519KeyIdentity.generate();
  const exp = now() + 4n * MINUTE_NS;
  const delegation = async (from: Ed25519KeyIdentity, expiration: Date, targets?: Principal[]) => {
    const chain = await DelegationChain.create(from, session.getPublicKey(), expiration, targets ? { targets } : {});
    return chain.delegations.map((d) => ({ delegation: d.delegation.toCborValue(), signature: new Uint8Array(d.signature) }));
  };
  const soon = new Date(Date.now() + 4 * 60_000);
  const attacks: ((kind: 'call' | 'query', n: number) => Promise<Record<string, unknown>>)[] = [
    async (k, n) => ({ ...(await signed(content(k, canisterId, me.getPrincipal(), exp, n), me)), sender_sig: new Uint8Array(64).fill(7) }),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), exp, n), other, me),
    async (k, n) => signed(content(k, canisterId, other.getPrincipal(), exp, n), me),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), now() - 10n * MINUTE_NS, n), me),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), now() + 60n * MINUTE_NS, n), me),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), exp, n), session, me, { sender_delegation: await delegation(other, soon) }),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), exp, n), session, me, { sender_delegation: await delegation(me, new Date(Date.now() - 60_000)) }),
    async (k, n) => signed(content(k, canisterId, me.getPrincipal(), exp, n), session, me, { sender_delegation: await delegation(me, soon, [Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai')]) }),
    async (k, n) => {
      const real = await signed(content(k, canisterId, me.getPrincipal(), exp, n), me);
      const replayed = await signed(content(k, canisterId, me.getPrincipal(), exp, n + 1_000_000), me);
      return { ...real, sender_sig: replayed['sender_sig'] };
    },
    async (k, n) => signed(content(k, canisterId, Principal.anonymous(), exp, n), me),
  ];
  const statuses = new Map<string, number>();
  let refused = 0;
  let sent = 0;
  for (const [i, attack] of attacks.entries()) {
    for (const [kind, path] of [
      ['call', `/api/v2/canister/${canisterId.toText()}/call`],
      ['call', `/api/v3/canister/${canisterId.toText()}/call`],
      ['query', `/api/v3/canister/${canisterId.toText()}/query`],
    ] as const) {
      const body = encodeWithSelfDescribedTag((await attack(kind, i * 10 + sent)) as never);
      const s = await post(url, path, body, 10_000);
      sent++;
      statuses.set(String(s), (statuses.get(String(s)) ?? 0) + 1);
      if (typeof s === 'number' && s >= 400 && s < 500) refused++;
    }
  }
  return { attacks: sent, refused, statuses: [...statuses].map(([s, n]) => `${n} × ${s}`).join(', ') };
}
