/**
 * ingress_expiry is checked against the replica's clock, not the wall clock: with a virtual clock
 * a day ahead (as after PocketIC's set_time/advance_time), an agent that synced its time to the
 * certified `/time` dates its requests by that clock, and its calls, read_state requests and
 * queries are accepted — as PocketIC's ingress validator does with its subnet's time source. A
 * call dated by the wall clock is refused with the replica's expiry text (HTTP 400); the agent
 * then syncs its time and retries.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { nowNanos } from '../../src/types/units.ts';
import { startTestReplica } from '../support/replica-fixture.ts';

const icDid = readFileSync(new URL('../../candid/ic.did', import.meta.url), 'utf8');
const DAY = 86_400_000_000_000n;
const APP = Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');

describe('ingress_expiry against the replica clock (virtual, a day ahead)', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  before(async () => {
    r = await startTestReplica({ debugPrint: () => {}, clock: { nowNanos: () => nowNanos() + DAY } });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('an agent synced to /time: update calls (call + read_state) and a query are accepted', async () => {
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    await agent.syncTime({ canisterId: APP });
    const ic = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: APP }) as any;
    const { canister_id: id } = await ic.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
    const onIt = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any;
    assert.deepEqual((await onIt.canister_status({ canister_id: id })).status, { running: null });
    const arg = IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: id }]);
    const q = await agent.query('aaaaa-aa', { methodName: 'canister_status', arg, effectiveCanisterId: id });
    assert.equal(q.status, 'replied');
  });

  test('a call dated by the wall clock: HTTP 400 with the expiry text, then the agent syncs and succeeds', async () => {
    const answers: { status: number; text: string }[] = [];
    const recording: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      if (/\/call$/.test(url)) answers.push({ status: res.status, text: res.status === 400 ? await res.clone().text() : '' });
      return res;
    };
    const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true, fetch: recording });
    const ic = Actor.createActor(idlFactoryFromCandid(icDid), { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: APP }) as any;
    await ic.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
    assert.equal(answers[0]?.status, 400);
    assert.match(answers[0]!.text, /^Invalid request expiry: Specified ingress_expiry not within expected range: Minimum allowed expiry: /);
    assert.notEqual(answers.at(-1)?.status, 400, 'the retry after syncing time is accepted');
  });
});
