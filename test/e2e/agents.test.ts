/**
 * Acceptance: real @dfinity/agent 3.x and @icp-sdk/core 6.x HttpAgents (root key fetched, query
 * signature verification on) against a running replica: status, provisional creation,
 * canister_status, update_settings, and the exact rejects for canister-only methods by ingress.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Actor as Actor6, HttpAgent as HttpAgent6 } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity as Ed25519KeyIdentity6 } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { agent3, identity3 } from '../clients/agent-js-3/index.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

/** The reject text a call surfaced (agents put it in the error message). */
async function rejectOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return String((e as Error).message);
  }
  assert.fail('expected a reject');
}

const clients = [
  {
    name: '@dfinity/agent 3',
    async make(url: string) {
      const identity = identity3.Ed25519KeyIdentity.generate();
      const agent = await agent3.HttpAgent.create({ host: url, identity, shouldFetchRootKey: true });
      const actor = (ecid?: Principal) =>
        agent3.Actor.createActor(managementIdlFactory, {
          agent,
          canisterId: 'aaaaa-aa',
          ...(ecid && { effectiveCanisterId: ecid as never }),
        }) as any;
      return { agent, principal: identity.getPrincipal().toText(), actor, status: () => agent.status() };
    },
  },
  {
    name: '@icp-sdk/core 6',
    async make(url: string) {
      const identity = Ed25519KeyIdentity6.generate();
      const agent = await HttpAgent6.create({ host: url, identity, shouldFetchRootKey: true });
      const actor = (ecid?: Principal) =>
        Actor6.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', ...(ecid && { effectiveCanisterId: ecid }) }) as any;
      return { agent, principal: identity.getPrincipal().toText(), actor, status: () => agent.status() };
    },
  },
];

for (const client of clients) {
  describe(`management canister through ${client.name}`, () => {
    let r: Running;
    before(async () => {
      r = await startTestReplica({ costSchedule: 'free' }); // exact balances here are about the agents, not fees
    });
    after(async () => {
      await r.cleanup();
    });

    test('status, create, canister_status, update_settings, canister-only rejects', async () => {
      const c = await client.make(r.url);
      const status = (await c.status()) as Record<string, unknown>;
      assert.equal(status['replica_health_status'], 'healthy');
      assert.equal((status['root_key'] as Uint8Array).length, 133);

      const mgmt = c.actor();
      const { canister_id } = await mgmt.provisional_create_canister_with_cycles({
        amount: [1_000_000_000_000n],
        settings: [],
        specified_id: [],
        sender_canister_version: [],
      });
      const id = Principal.from(canister_id);
      assert.equal(id.toText(), 'bnz7o-iuaaa-aaaaa-qaaaa-cai', 'first canister on the application subnet');

      const onCanister = c.actor(id);
      const st = await onCanister.canister_status({ canister_id: id });
      assert.deepEqual(Object.keys(st.status), ['running']);
      assert.equal(st.cycles, 1_000_000_000_000n);
      assert.deepEqual(st.settings.controllers.map((p: Principal) => Principal.from(p).toText()), [c.principal]);
      assert.equal(st.settings.freezing_threshold, 2_592_000n);
      assert.deepEqual(st.module_hash, []);

      const other = Principal.fromText('2vxsx-fae');
      await onCanister.update_settings({
        canister_id: id,
        settings: {
          controllers: [[Principal.fromText(c.principal), other]],
          compute_allocation: [],
          memory_allocation: [],
          freezing_threshold: [1234n],
          reserved_cycles_limit: [],
          wasm_memory_limit: [],
        },
        sender_canister_version: [],
      });
      const st2 = await onCanister.canister_status({ canister_id: id });
      assert.equal(st2.settings.freezing_threshold, 1234n);
      assert.deepEqual(st2.settings.controllers.map((p: Principal) => Principal.from(p).toText()).sort(), [c.principal, other.toText()].sort());
      assert.equal(st2.version, st.version + 1n);

      const signReject = await rejectOf(
        mgmt.sign_with_ecdsa({ message_hash: new Uint8Array(32), derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'test_key_1' } }),
      );
      assert.match(signReject, /ic00 method sign_with_ecdsa can not be called via ingress messages/);
      assert.match(signReject, /IC0406/);
      const randReject = await rejectOf(mgmt.raw_rand());
      assert.match(randReject, /ic00 method raw_rand can not be called via ingress messages/);
      assert.match(randReject, /IC0406/);
    });

    test('a non-controller is refused with the ingress filter text', async () => {
      const owner = await client.make(r.url);
      const { canister_id } = await owner.actor().provisional_create_canister_with_cycles({
        amount: [], settings: [], specified_id: [], sender_canister_version: [],
      });
      const id = Principal.from(canister_id);
      const stranger = await client.make(r.url);
      const msg = await rejectOf(stranger.actor(id).canister_status({ canister_id: id }));
      assert.match(msg, new RegExp(`Only controllers of canister ${id.toText()} can call ic00 method canister_status`));
      assert.match(msg, /IC0512/);
    });
  });
}
