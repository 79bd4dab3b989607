/**
 * Overload (issue 15 item 2), bounded in count and time, loopback only: bursts of 80 ingress
 * calls, each on its own TCP connection, against a real replica with small limits whose rounds
 * run only when the test says (so what is in flight and what is queued does not depend on the
 * machine's speed). Every call is answered — accepted, or refused at once with the replica's
 * status and text (429 "The service is overloaded." over the call concurrency limit; 503
 * "Service is overloaded, try again later." with the ingress pool full) — with no TCP-level
 * failure; status probes and queries, sent from their own thread meanwhile, are all answered;
 * the accepted calls, and only they, execute. No timing is asserted (`npm run soak` measures).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { deployTypeScriptCanister } from '../../src/canister-sdk/deploy.ts';
import { overload, type OverloadReport } from '../support/load.ts';
import { compileWat } from '../support/wat.ts';
import { withRounds } from '../support/manual-rounds.ts';
import { managementIdlFactory } from '../support/replica-fixture.ts';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { startTestReplica } from '../support/replica-fixture.ts';

const COUNTER = readFileSync(new URL('../fixtures/typescript/counter.ts', import.meta.url), 'utf8');
const CANDID = /candid: `([\s\S]*?)`/.exec(COUNTER)![1]!;
const TOO_MANY = '429 The service is overloaded.';
const POOL_FULL = '503 Service is overloaded, try again later.';

/** A replica with the given limits whose rounds run only on `runRound`, and the counter on it. */
async function setup(options: Parameters<typeof startTestReplica>[0]) {
  const r = await startTestReplica({ debugPrint: () => {}, manualRounds: true, ...options });
  const deploying = deployTypeScriptCanister({ url: r.url, source: COUNTER });
  let done = false;
  void deploying.finally(() => (done = true)).catch(() => {});
  while (!done) {
    await r.replica.runRound();
    await new Promise((res) => setTimeout(res, 20));
  }
  const { canisterId } = await deploying;
  const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const counter = Actor.createActor(idlFactoryFromCandid(CANDID), { agent, canisterId }) as unknown as { get(): Promise<bigint> };
  return { r, canisterId, counter };
}

function assertAnsweredCleanly(rep: OverloadReport): void {
  if (process.env['OVERLOAD_REPORT']) console.log(JSON.stringify(rep));
  assert.deepEqual(rep.tcpErrors, {}, `no TCP-level failure: ${JSON.stringify(rep)}`);
  assert.deepEqual(rep.other, {}, 'only 2xx and the overload answers');
  assert.ok(rep.statusProbes > 0 && rep.statusFailures === 0, `status answered throughout: ${JSON.stringify(rep)}`);
  assert.equal(rep.queriesOk, rep.queries, 'queries answered throughout');
}

describe('overload: excess answered at once, no dropped connection', () => {
  test('80 async (v2) calls at once, ingress pool of 3, no round running: 3 accepted, 77 refused with 503; the 3 execute', async () => {
    const log: string[] = [];
    const { r, canisterId, counter } = await setup({ ingressPool: { maxCount: 3 }, requestLog: (line) => log.push(line) });
    try {
      const before = await counter.get();
      log.length = 0;
      const rep = await overload({ url: r.url, canisterId, method: 'inc', queryMethod: 'get', calls: 80, version: 2, timeoutMs: 60_000 });
      assertAnsweredCleanly(rep);
      assert.equal(rep.served, 3);
      assert.deepEqual(rep.refused, { [POOL_FULL]: 77 });
      // Every refusal is logged, whether at arrival or at the call's time slice (after its body was read).
      const refusals = log.filter((l) => l.startsWith('http  503 POST /api/v2/canister/'));
      assert.equal(refusals.length, 77, log.join('\n'));
      assert.ok(refusals.every((l) => l.endsWith(': Service is overloaded, try again later.')), refusals[0]);
      await r.replica.runRound();
      assert.equal(await counter.get(), before + 3n, 'the accepted calls, and only they, executed');
    } finally {
      await r.cleanup();
    }
  });

  test('the pool bound holds while calls wait for a sliced canister_inspect_message: 12 async calls, pool of 3: 3 accepted, 9 refused with 503', async () => {
    // inspect_message runs ~100 M instructions (sliced: it yields), then accepts; every call to
    // the canister waits for the one before it, so all 12 pass the HTTP-level pool check first.
    const wasm = await compileWat(`(module
      (import "ic0" "accept_message" (func $accept)) (import "ic0" "msg_reply" (func $reply))
      (func (export "canister_inspect_message") (local $i i32)
        (local.set $i (i32.const 15000000))
        (loop $l (br_if $l (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))
        (call $accept))
      (func (export "canister_update inc") (call $reply))
      (func (export "canister_query get") (call $reply)))`);
    const r = await startTestReplica({ debugPrint: () => {}, manualRounds: true, ingressPool: { maxCount: 3 } });
    try {
      const agent = await HttpAgent.create({ host: r.url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
      const run = <T>(p: Promise<T>): Promise<T> => withRounds(r.replica, p);
      const created = await run(mgmt.provisional_create_canister_with_cycles({ amount: [10n ** 15n], settings: [], specified_id: [], sender_canister_version: [] }));
      const canisterId = (created as { canister_id: Principal }).canister_id;
      await run((Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: canisterId }) as any).install_code({ mode: { install: null }, canister_id: canisterId, wasm_module: wasm, arg: IDL.encode([], []), sender_canister_version: [] }) as Promise<unknown>);
      const rep = await overload({ url: r.url, canisterId, method: 'inc', queryMethod: 'get', calls: 12, version: 2, timeoutMs: 60_000 });
      assert.deepEqual(rep.tcpErrors, {}, JSON.stringify(rep));
      assert.equal(rep.served, 3, JSON.stringify(rep));
      assert.deepEqual(rep.refused, { [POOL_FULL]: 9 });
    } finally {
      await r.cleanup();
    }
  });

  test('80 sync (v3) calls at once, 10 call slots, no round running: 10 in flight (202 when the sync wait ends), 70 refused with 429', async () => {
    const { r, canisterId, counter } = await setup({ concurrencyLimits: { call: 10 } });
    try {
      const before = await counter.get();
      const rep = await overload({ url: r.url, canisterId, method: 'inc', queryMethod: 'get', calls: 80, version: 3, timeoutMs: 60_000 });
      assertAnsweredCleanly(rep);
      assert.equal(rep.served, 10);
      assert.deepEqual(rep.refused, { [TOO_MANY]: 70 });
      await r.replica.runRound();
      assert.equal(await counter.get(), before + 10n);
    } finally {
      await r.cleanup();
    }
  });
});
