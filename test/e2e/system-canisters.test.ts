/**
 * Issue 12: the system canisters at their mainnet ids (ICP ledger, CMC, cycles ledger), called
 * by @icp-sdk/core with actors built from the real .did files in candid/: the anonymous principal
 * is funded at first start; the legacy ICP interface (account_identifier, transfer,
 * account_balance) and ICRC-1 see the same accounts; the cycles ledger's create_canister honours
 * subnet_selection through the CMC; `chainkey-replica mint` credits both ledgers; balances
 * survive a restart; and the request log shows one line per ingress message and per rejection.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { defaultAccountIdHex, PREFUND, SYSTEM_CANISTER_IDS } from '../../src/system-canisters/system-canisters.ts';
import { startTestReplica } from '../support/replica-fixture.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const did = (f: string): string => readFileSync(new URL(`../../candid/${f}`, import.meta.url), 'utf8');

describe('system canisters', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  const log: string[] = [];
  const alice = Ed25519KeyIdentity.generate();
  let anonymousAgent: HttpAgent;
  let aliceAgent: HttpAgent;
  const actor = (agent: HttpAgent, id: string, file: string): any =>
    Actor.createActor(idlFactoryFromCandid(did(file)), { agent, canisterId: id });

  before(async () => {
    r = await startTestReplica({ debugPrint: () => {}, requestLog: (l) => log.push(l) });
    anonymousAgent = await HttpAgent.create({ host: r.url, shouldFetchRootKey: true });
    aliceAgent = await HttpAgent.create({ host: r.url, identity: alice, shouldFetchRootKey: true });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('the anonymous principal is funded at first start; legacy and ICRC-1 ICP interfaces agree', async () => {
    const anon = Principal.anonymous();
    const icp = actor(anonymousAgent, SYSTEM_CANISTER_IDS.icpLedger, 'ledger.did');
    const cycles = actor(anonymousAgent, SYSTEM_CANISTER_IDS.cyclesLedger, 'cycles-ledger.did');
    assert.equal(await icp.icrc1_balance_of({ owner: anon, subaccount: [] }), PREFUND.icpE8s);
    assert.equal(await cycles.icrc1_balance_of({ owner: anon, subaccount: [] }), PREFUND.cycles);
    const aliceAccount: Uint8Array = await icp.account_identifier({ owner: alice.getPrincipal(), subaccount: [] });
    assert.equal(Buffer.from(aliceAccount).toString('hex'), defaultAccountIdHex(alice.getPrincipal()));
    const sent = await icp.transfer({ memo: 7n, amount: { e8s: 500_000n }, fee: { e8s: 10_000n }, from_subaccount: [], to: aliceAccount, created_at_time: [] });
    assert.ok('Ok' in sent, JSON.stringify(sent, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    assert.deepEqual(await icp.account_balance({ account: aliceAccount }), { e8s: 500_000n });
    assert.equal(await icp.icrc1_balance_of({ owner: alice.getPrincipal(), subaccount: [] }), 500_000n);
    assert.equal(await icp.icrc1_balance_of({ owner: anon, subaccount: [] }), PREFUND.icpE8s - 510_000n);
    const badFee = await icp.transfer({ memo: 0n, amount: { e8s: 1n }, fee: { e8s: 1n }, from_subaccount: [], to: aliceAccount, created_at_time: [] });
    assert.deepEqual(badFee, { Err: { BadFee: { expected_fee: { e8s: 10_000n } } } });
    const blocks = await icp.query_blocks({ start: 0n, length: 10n });
    assert.equal(blocks.chain_length, 2n); // the initial mint and the transfer
    assert.equal(blocks.blocks[1].transaction.memo, 7n);
  });

  test('mint credits both ledgers; the cycles ledger creates a canister on the selected subnet via the CMC', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      ['src/cli.ts', 'mint', '--to', alice.getPrincipal().toText(), '--cycles', '5_000_000_000_000', '--icp', '100000000', '--url', r.url],
      { cwd: ROOT },
    );
    assert.match(stdout, /minted 5000000000000 cycles to .*; balance 5000000000000 cycles/);
    assert.match(stdout, /minted 100000000 e8s to .*; balance 100500000 e8s/);
    const cmc = actor(aliceAgent, SYSTEM_CANISTER_IDS.cmc, 'cmc.did');
    const defaults: Principal[] = await cmc.get_default_subnets();
    assert.deepEqual(defaults.map((p) => p.toText()), [r.replica.routing.defaultSubnet.subnetId.toText()]);
    const fiduciary = r.replica.routing.subnets.find((s) => s.kind === 'fiduciary')!;
    const { data } = await cmc.get_subnet_types_to_subnets();
    assert.deepEqual(data.find(([t]: [string]) => t === 'fiduciary')[1].map((p: Principal) => p.toText()), [fiduciary.subnetId.toText()]);

    const ledger = actor(aliceAgent, SYSTEM_CANISTER_IDS.cyclesLedger, 'cycles-ledger.did');
    const created = await ledger.create_canister({
      from_subaccount: [],
      created_at_time: [],
      amount: 2_000_000_000_000n,
      creation_args: [{ settings: [], subnet_selection: [{ Subnet: { subnet: fiduciary.subnetId } }] }],
    });
    assert.ok('Ok' in created);
    const id: Principal = created.Ok.canister_id;
    assert.equal(r.replica.routing.subnetOfCanister(id)?.name, 'fiduciary');
    const c = r.replica.state.canister(id)!;
    assert.deepEqual(c.controllers.map((p) => p.toText()), [alice.getPrincipal().toText()]);
    // 2T attached, the 34-node creation fee (500B × 34/13) taken by the subnet.
    assert.equal(c.cycles, 2_000_000_000_000n - (500_000_000_000n * 34n) / 13n);
    // Balance: 5T − 2T − the 100M fee.
    assert.equal(await ledger.icrc1_balance_of({ owner: alice.getPrincipal(), subaccount: [] }), 3_000_000_000_000n - 100_000_000n);
    const unknown = await ledger.create_canister({
      from_subaccount: [],
      created_at_time: [],
      amount: 1_000_000_000_000n,
      creation_args: [{ settings: [], subnet_selection: [{ Filter: { subnet_type: ['european'] } }] }],
    });
    assert.match(unknown.Err.FailedToCreate.error, /Provided subnet type european does not exist/);
    assert.deepEqual(unknown.Err.FailedToCreate.refund_block.length, 1);
  });

  test('the request log has one line per ingress message and per rejection', async () => {
    assert.ok(log.some((l) => /^call  um5iw-rqaaa-aaaaq-qaaba-cai create_canister  from \S+  replied$/.test(l)), log.join('\n'));
    const icp = actor(aliceAgent, SYSTEM_CANISTER_IDS.icpLedger, 'ledger.did');
    await assert.rejects(icp.account_balance({ account: new Uint8Array(31) }));
    assert.ok(
      log.some((l) => /^query ryjl3-tyaaa-aaaaa-aaaba-cai account_balance  from \S+  rejected IC0503 \(reject code 5\): .*Invalid account identifier/.test(l)),
      log.join('\n'),
    );
    const res = await fetch(new URL('/api/v2/canister/ryjl3-tyaaa-aaaaa-aaaba-cai/call', r.url), { method: 'POST', body: 'x' });
    assert.equal(res.status, 400);
    assert.ok(log.includes('http  400 POST /api/v2/canister/ryjl3-tyaaa-aaaaa-aaaba-cai/call: Unexpected content-type, expected application/cbor.'), log.join('\n'));
  });

  test('balances are durable: a restart on the same state dir keeps them', async () => {
    const { stateDir } = r;
    await r.stop();
    r = { ...(await startTestReplica({ stateDir, debugPrint: () => {} })), stateDir };
    const agent = await HttpAgent.create({ host: r.url, shouldFetchRootKey: true });
    const icp = actor(agent, SYSTEM_CANISTER_IDS.icpLedger, 'ledger.did');
    assert.equal(await icp.icrc1_balance_of({ owner: alice.getPrincipal(), subaccount: [] }), 100_500_000n);
  });
});
