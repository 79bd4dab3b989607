/**
 * Overload (issue 15 item 2), bounded in count and time, loopback only: bursts of ingress calls,
 * each on its own TCP connection, against a real replica with small limits. Every call is
 * answered — accepted, or refused at once with the replica's status and text (429 "The service
 * is overloaded." over the call concurrency limit; 503 "Service is overloaded, try again later."
 * with the ingress pool full) — with no TCP-level failure; status probes and queries, sent from
 * their own thread meanwhile, are all answered (their own headroom); accepted calls all execute.
 * No timing is asserted (speed belongs to `npm run soak` / `npm run bench`).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import type { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { deployTypeScriptCanister } from '../../src/canister-sdk/deploy.ts';
import { overload } from '../support/load.ts';
import { startTestReplica } from '../support/replica-fixture.ts';

// A canister whose update takes a few milliseconds of work, so a burst outruns execution and the
// ingress pool and the call slots fill up (a counter increment alone is cheaper than its HTTP).
const CANDID = 'service : { work : () -> (nat); count : () -> (nat) query }';
const WORKER = `
import { defineCanister, update, query } from 'chainkey-replica/canister';
export default defineCanister({
  candid: '${CANDID}',
  state: () => ({ n: 0n }),
  methods: {
    work: update((ctx) => {
      let x = 0;
      for (let i = 0; i < 300_000; i++) x = (x * 31 + i) | 0;
      ctx.state.n += 1n;
      return ctx.state.n + BigInt(x & 0);
    }),
    count: query((ctx) => ctx.state.n),
  },
});
`;

describe('overload: excess answered at once, no dropped connection', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let canisterId: Principal;
  let counter: { count(): Promise<bigint> };

  before(async () => {
    // Call concurrency 40 and an ingress pool of 10 messages: small enough that a few hundred
    // calls exceed both, far from the defaults (1,000 / 10,000).
    r = await startTestReplica({ debugPrint: () => {}, concurrencyLimits: { call: 40 }, ingressPool: { maxCount: 10 } });
    canisterId = (await deployTypeScriptCanister({ url: r.url, source: WORKER })).canisterId;
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    counter = Actor.createActor(idlFactoryFromCandid(CANDID), { agent, canisterId }) as never;
  });
  after(async () => {
    await r?.cleanup();
  });

  test('300 sync (v3) calls at once: 429 over the call concurrency limit, the rest replied; probes all served', async () => {
    const before = await counter.count();
    const rep = await overload({ url: r.url, canisterId, method: 'work', queryMethod: 'count', calls: 300, version: 3, timeoutMs: 60_000 });
    if (process.env['OVERLOAD_REPORT']) console.log(JSON.stringify(rep));
    assert.deepEqual(rep.tcpErrors, {}, 'no TCP-level failure');
    assert.deepEqual(rep.other, {}, 'only 2xx and the overload answers');
    const refused = rep.refused['429 The service is overloaded.'] ?? 0;
    assert.ok(refused > 0, `some calls refused: ${JSON.stringify(rep)}`);
    assert.equal(rep.served + refused + (rep.refused['503 Service is overloaded, try again later.'] ?? 0), 300);
    assert.ok(rep.statusProbes > 0 && rep.statusFailures === 0, `status answered throughout: ${JSON.stringify(rep)}`);
    assert.equal(rep.queriesOk, rep.queries, 'queries answered throughout');
    // Each served call was executed once: the counter moved by exactly that much.
    assert.equal(await counter.count(), before + BigInt(rep.served));
  });

  test('300 async (v2) calls at once: 503 once the ingress pool is full; accepted ones all execute', async () => {
    const before = await counter.count();
    const rep = await overload({ url: r.url, canisterId, method: 'work', queryMethod: 'count', calls: 300, version: 2, timeoutMs: 60_000 });
    if (process.env['OVERLOAD_REPORT']) console.log(JSON.stringify(rep));
    assert.deepEqual(rep.tcpErrors, {});
    assert.deepEqual(rep.other, {});
    const poolFull = rep.refused['503 Service is overloaded, try again later.'] ?? 0;
    assert.ok(poolFull > 0, `some calls refused with the pool full: ${JSON.stringify(rep)}`);
    assert.equal(rep.served + poolFull + (rep.refused['429 The service is overloaded.'] ?? 0), 300);
    assert.equal(rep.statusFailures, 0);
    // v2 answers 202 before execution: wait for the pool to drain, then count.
    await r.replica.scheduler.idle();
    for (let i = 0; i < 100 && r.replica.scheduler.queuedCount > 0; i++) await r.replica.scheduler.idle();
    assert.equal(await counter.count(), before + BigInt(rep.served));
  });
});
