/**
 * Acceptance (issue 3): two Motoko canisters on different subnets. The caller attaches cycles to a
 * call; the callee accepts half; both balances are exact afterwards and the refund is what the
 * callee did not accept. A reject and a trap in the callee, a missing method and a missing
 * canister reach the caller's `catch` with the replica's reject codes and texts.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent3, identity3, IDL3, Principal3 } from '../clients/agent-js-3/index.ts';
import { compileMotokoFixtures } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;
type P3 = ReturnType<typeof Principal3.fromText>;

const callerIdl = ({ IDL }: { IDL: typeof IDL3 }) =>
  IDL.Service({
    callReceive: IDL.Func([IDL.Principal, IDL.Nat], [IDL.Nat], []),
    callReject: IDL.Func([IDL.Principal], [IDL.Text], []),
    callTrap: IDL.Func([IDL.Principal], [IDL.Text], []),
    balance: IDL.Func([], [IDL.Nat], []),
  });
const calleeIdl = ({ IDL }: { IDL: typeof IDL3 }) =>
  IDL.Service({ totalReceived: IDL.Func([], [IDL.Nat], ['query']), balance: IDL.Func([], [IDL.Nat], []) });

const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';

describe('inter-canister calls between Motoko canisters', () => {
  let r: Running;
  let agent: InstanceType<typeof agent3.HttpAgent>;
  let caller: any;
  let callee: any;
  let callerId: P3;
  let calleeId: P3;
  let mgmt: (ecid: P3) => any;

  before(async () => {
    const [callerWasm, calleeWasm] = await compileMotokoFixtures(['Caller', 'Callee']);
    // Free cost schedule: these exact balances are about cycles moving with calls, not fees.
    r = await startTestReplica({ debugPrint: () => {}, costSchedule: 'free' });
    const identity = identity3.Ed25519KeyIdentity.generate();
    agent = await agent3.HttpAgent.create({ host: r.url, identity, shouldFetchRootKey: true });
    mgmt = (ecid) => agent3.Actor.createActor(managementIdlFactory as never, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: ecid });
    // The caller on the default (application) subnet, the callee on the fiduciary subnet.
    const fiduciary = r.replica.routing.subnets.find((s) => s.name === 'fiduciary')!;
    const fidStart = Principal3.fromUint8Array(fiduciary.canisterRanges[0]!.start.toUint8Array());
    const create = async (ecid: P3, wasm: Uint8Array) => {
      const { canister_id } = await mgmt(ecid).provisional_create_canister_with_cycles({
        amount: [10_000_000_000_000n],
        settings: [],
        specified_id: [],
        sender_canister_version: [],
      });
      await mgmt(canister_id).install_code({
        mode: { install: null },
        canister_id,
        wasm_module: wasm,
        arg: new Uint8Array(IDL3.encode([], [])),
        sender_canister_version: [],
      });
      return canister_id as P3;
    };
    const appStart = Principal3.fromUint8Array(r.replica.routing.defaultSubnet.canisterRanges[0]!.start.toUint8Array());
    callerId = await create(appStart, callerWasm!.wasm);
    calleeId = await create(fidStart, calleeWasm!.wasm);
    assert.equal(r.replica.routing.subnetOfCanister(calleeId as never)?.name, 'fiduciary');
    assert.equal(r.replica.routing.subnetOfCanister(callerId as never)?.name, r.replica.routing.defaultSubnet.name);
    caller = agent3.Actor.createActor(callerIdl as never, { agent, canisterId: callerId });
    callee = agent3.Actor.createActor(calleeIdl as never, { agent, canisterId: calleeId });
  });
  after(async () => {
    await r?.cleanup();
  });

  const balanceOf = async (id: P3): Promise<bigint> =>
    (await mgmt(id).canister_status({ canister_id: id })).cycles;

  test('cycles attached to a call: the callee keeps what it accepts, the rest is refunded exactly', async () => {
    const callerBefore = await balanceOf(callerId);
    const calleeBefore = await balanceOf(calleeId);
    const amount = 1_000_000_007n;
    const refund = (await caller.callReceive(calleeId, amount)) as bigint;
    const accepted = amount / 2n;
    assert.equal(refund, amount - accepted);
    assert.equal(await callee.totalReceived(), accepted);
    assert.equal(await balanceOf(callerId), callerBefore - accepted);
    assert.equal(await balanceOf(calleeId), calleeBefore + accepted);
  });

  test('an explicit reject in the callee reaches the caller as CANISTER_REJECT with its text', async () => {
    const before = await balanceOf(callerId);
    assert.equal(await caller.callReject(calleeId), '#canister_reject: nope');
    assert.equal(await balanceOf(callerId), before);
  });

  test('a trap in the callee reaches the caller as CANISTER_ERROR with the IC0503 text', async () => {
    assert.equal(
      await caller.callTrap(calleeId),
      `#canister_error: IC0503: Error from Canister ${calleeId.toText()}: Canister called \`ic0.trap\` with message: 'callee trap'.\n` +
        `Consider gracefully handling failures from this canister or altering the canister to handle exceptions. See documentation: ${DOCS}#trapped-explicitly`,
    );
  });

  test('a missing method and a missing canister reject with the replica codes and texts', async () => {
    // The caller has no `reject` method of its own.
    assert.equal(
      await caller.callReject(callerId),
      `#canister_error: IC0536: Error from Canister ${callerId.toText()}: Canister has no update method 'reject'..\n` +
        `Check that the method being called is exported by the target canister. See documentation: ${DOCS}#method-not-found`,
    );
    const fiduciary = r.replica.routing.subnets.find((s) => s.name === 'fiduciary')!;
    const missing = Principal3.fromUint8Array(fiduciary.canisterRanges[0]!.end.toUint8Array());
    assert.equal(await caller.callReject(missing), `#destination_invalid: Canister ${missing.toText()} not found`);
  });
});
