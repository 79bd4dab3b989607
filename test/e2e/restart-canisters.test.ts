/**
 * Acceptance (issue 3): canister state survives restarts. The replica runs as a real child process;
 * a Motoko counter (EOP, wasm64) and a classic one (wasm32, stable memory) are installed, called,
 * and the process is stopped cleanly, then killed with SIGKILL right after an acknowledged update.
 * Each new process on the same state dir has the same counter values (main memory and globals,
 * also after an upgrade through stable memory just before the kill) and the same balances, and
 * keeps executing (a caller/callee pair with cycles).
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { once } from 'node:events';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { compileMotokoBatch, motokoFile } from '../support/motoko.ts';
import { spawnReplica } from '../support/replica-process.ts';
import { managementIdlFactory, tempStateDir } from '../support/replica-fixture.ts';

const stateDir = tempStateDir('ckr-restart-canisters-');
after(() => rmSync(stateDir, { recursive: true, force: true }));


const counterIdl = ({ IDL }: { IDL: any }) =>
  IDL.Service({ inc: IDL.Func([], [IDL.Nat], []), get: IDL.Func([], [IDL.Nat], ['query']) });
const callerIdl = ({ IDL }: { IDL: any }) => IDL.Service({ callReceive: IDL.Func([IDL.Principal, IDL.Nat], [IDL.Nat], []) });

const identity = Ed25519KeyIdentity.generate();
async function connect(url: string) {
  const agent = await HttpAgent.create({ host: url, identity, shouldFetchRootKey: true });
  return {
    mgmt: (ecid: Principal) => Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid }) as any,
    actor: (idl: any, id: Principal) => Actor.createActor(idl, { agent, canisterId: id }) as any,
  };
}

test('canister memory, globals and balances survive SIGTERM and SIGKILL restarts', async () => {
  const [eop, classic, caller, callee] = await compileMotokoBatch([
    { source: motokoFile('Counter.mo') },
    { source: motokoFile('Counter.mo'), options: { persistence: 'classic' } },
    { source: motokoFile('Caller.mo') },
    { source: motokoFile('Callee.mo') },
  ]);
  let { child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']);
  let c = await connect(url);
  const ids: Principal[] = [];
  for (const wasm of [eop!, classic!, caller!, callee!]) {
    const anyId = ids[0] ?? Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai');
    const { canister_id } = await c.mgmt(anyId).provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
    await c.mgmt(canister_id).install_code({ mode: { install: null }, canister_id, wasm_module: wasm.wasm, arg: IDL.encode([], []), sender_canister_version: [] });
    ids.push(canister_id);
  }
  const [a, b, callerId, calleeId] = ids as [Principal, Principal, Principal, Principal];
  for (let i = 0; i < 3; i++) await c.actor(counterIdl, a).inc();
  for (let i = 0; i < 5; i++) await c.actor(counterIdl, b).inc();
  await c.actor(callerIdl, callerId).callReceive(calleeId, 1_000_000n);
  const balances = async () => Promise.all(ids.map(async (id) => (await c.mgmt(id).canister_status({ canister_id: id })).cycles as bigint));
  const before = await balances();
  child.kill('SIGTERM');
  assert.equal((await once(child, 'exit'))[0], 0);

  // Second process: same values; one more acknowledged update each, then SIGKILL.
  ({ child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']));
  c = await connect(url);
  assert.equal(await c.actor(counterIdl, a).get(), 3n);
  assert.equal(await c.actor(counterIdl, b).get(), 5n);
  assert.deepEqual(await balances(), before);
  assert.equal(await c.actor(counterIdl, a).inc(), 4n);
  assert.equal(await c.actor(counterIdl, b).inc(), 6n);
  // Classic persistence goes through stable memory on upgrade (pre_upgrade writes it, post_upgrade reads it).
  await c.mgmt(b).install_code({
    mode: { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [] }] },
    canister_id: b,
    wasm_module: classic!.wasm,
    arg: IDL.encode([], []),
    sender_canister_version: [],
  });
  assert.equal(await c.actor(counterIdl, b).get(), 6n);
  assert.equal(await c.actor(callerIdl, callerId).callReceive(calleeId, 2_000_000n), 1_000_000n);
  const afterKill = await balances();
  child.kill('SIGKILL');
  await once(child, 'exit');

  // Third process: the acknowledged updates survived the kill.
  ({ child, url } = await spawnReplica(stateDir, ['--cost-schedule', 'free']));
  try {
    c = await connect(url);
    assert.equal(await c.actor(counterIdl, a).get(), 4n);
    assert.equal(await c.actor(counterIdl, b).get(), 6n);
    assert.deepEqual(await balances(), afterKill);
    assert.equal(afterKill[2], before[2]! - 1_000_000n);
    assert.equal(afterKill[3], before[3]! + 1_000_000n);
    assert.equal(await c.actor(counterIdl, a).inc(), 5n);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});
