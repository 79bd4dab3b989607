/**
 * Acceptance: state survives a clean restart and a kill -9. The replica runs as a real child process
 * (`node src/cli.ts start`), a real agent creates canisters and tops one up; after the process is
 * killed with SIGKILL right after the last acknowledged reply, a new process on the same state dir
 * has the same root key, the same canisters and the same balances.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { once } from 'node:events';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { spawnReplica } from '../support/replica-process.ts';
import { managementIdlFactory, tempStateDir } from '../support/replica-fixture.ts';

const stateDir = tempStateDir('ckr-restart-');
after(() => rmSync(stateDir, { recursive: true, force: true }));


const identity = Ed25519KeyIdentity.generate();
async function management(url: string, ecid?: Principal) {
  const agent = await HttpAgent.create({ host: url, identity, shouldFetchRootKey: true });
  return {
    rootKey: Buffer.from(agent.rootKey!).toString('hex'),
    mgmt: Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', ...(ecid && { effectiveCanisterId: ecid }) }) as any,
  };
}

// The free cost schedule: these exact balances are about persistence, not fees.
test('clean restart (SIGTERM) and kill -9 keep the root key, canisters and balances', async () => {
  // First run: create two canisters, top one up.
  let { child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']);
  const first = await management(url);
  const a = Principal.from((await first.mgmt.provisional_create_canister_with_cycles({ amount: [5_000n], settings: [], specified_id: [], sender_canister_version: [] })).canister_id);
  const b = Principal.from((await first.mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id);
  await (await management(url, a)).mgmt.provisional_top_up_canister({ canister_id: a, amount: 7n });
  child.kill('SIGTERM');
  const [code] = await once(child, 'exit');
  assert.equal(code, 0, 'clean exit on SIGTERM');

  // Second run: everything is there; one more acknowledged change, then SIGKILL.
  ({ child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']));
  const second = await management(url, a);
  assert.equal(second.rootKey, first.rootKey, 'same root key after restart');
  assert.equal((await second.mgmt.canister_status({ canister_id: a })).cycles, 5_007n);
  assert.equal((await (await management(url, b)).mgmt.canister_status({ canister_id: b })).cycles, 100_000_000_000_000n);
  await second.mgmt.provisional_top_up_canister({ canister_id: a, amount: 1_000n });
  child.kill('SIGKILL');
  await once(child, 'exit');

  // Third run: the acknowledged top-up survived the kill; ids keep counting up.
  ({ child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']));
  try {
    const third = await management(url, a);
    assert.equal(third.rootKey, first.rootKey);
    assert.equal((await third.mgmt.canister_status({ canister_id: a })).cycles, 6_007n);
    const c = Principal.from((await third.mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id);
    assert.notEqual(c.toText(), a.toText());
    assert.notEqual(c.toText(), b.toText());
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
