/**
 * Issue 5: canisters written in TypeScript, hosted next to Wasm ones. The example signer is
 * deployed from its source and called by @dfinity/agent 3: its signature verifies under the key
 * @dfinity/ic-pub-key derives for its id and it pays exactly the fee. A TypeScript and a Motoko
 * canister call each other both ways with cycles (exact balances, reject codes and texts). A
 * throwing update rolls back, a query's writes are discarded, a handler that never returns is cut
 * off, committed state survives kill -9, a module that does not load is refused with nothing
 * stored, and canister code cannot reach the replica's realm.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Actor, CanisterStatus, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { createBase58check } from '@scure/base';
import { ecdsa as oracleEcdsa } from '@dfinity/ic-pub-key';
import { agent3, identity3 } from '../clients/agent-js-3/index.ts';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { CanisterSourceError, deployTypeScriptCanister } from '../../src/canister-sdk/deploy.ts';
import { encodeTsCanisterModule } from '../../src/execution/typescript/ts-module.ts';
import { compileMotokoFixtures } from '../support/motoko.ts';
import { freeApplicationSubnetTopology, managementIdlFactory, startTestReplica, tempStateDir } from '../support/replica-fixture.ts';
import { spawnReplica } from '../support/replica-process.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const source = (rel: string): string => readFileSync(new URL(`../../${rel}`, import.meta.url), 'utf8');
const candidOf = (src: string): string => /candid: `([\s\S]*?)`/.exec(src)?.[1] ?? /candid: '([^']*)'/.exec(src)![1]!;
type OraclePrincipal = Parameters<typeof oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix>[0];

async function agentFor(url: string): Promise<HttpAgent> {
  return HttpAgent.create({ host: url, identity: Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
}

describe('TypeScript canisters', () => {
  let r: Awaited<ReturnType<typeof startTestReplica>>;
  let agent: HttpAgent;
  const counterSrc = source('test/fixtures/typescript/counter.ts');
  let counterId: Principal;
  let counter: any;

  before(async () => {
    // The canisters' subnet on the free schedule (key subnets normal): these exact balances are
    // about TypeScript canisters moving cycles and paying chain-key fees; execution and call fees
    // are tested in cycles-fees.test.ts.
    r = await startTestReplica({ debugPrint: () => {}, topology: freeApplicationSubnetTopology() });
    agent = await agentFor(r.url);
    counterId = (await deployTypeScriptCanister({ url: r.url, source: counterSrc, identity: agent.config.identity as any })).canisterId;
    counter = Actor.createActor(idlFactoryFromCandid(candidOf(counterSrc)), { agent, canisterId: counterId });
  });
  after(async () => {
    await r?.cleanup();
  });

  test('examples/signer.ts via the deploy command, called by @dfinity/agent 3: the signature verifies; exactly the fee is paid', async () => {
    // Asynchronously: the replica under test runs in this process and must keep answering.
    const out = (await promisify(execFile)(process.execPath, ['src/cli.ts', 'deploy', 'examples/signer.ts', '--url', r.url], { cwd: ROOT })).stdout.trim().split('\n');
    const id = Principal.fromText(out.at(-1)!);
    const a3 = await agent3.HttpAgent.create({ host: r.url, identity: identity3.Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
    const signer = agent3.Actor.createActor(idlFactoryFromCandid(candidOf(source('examples/signer.ts'))), { agent: a3, canisterId: id.toText() }) as any;
    const keys = JSON.parse(execFileSync(process.execPath, ['src/cli.ts', 'keys', '--json', '--state-dir', r.stateDir], { cwd: ROOT }).toString()) as { key_id: string; public_key: string; chain_code: string }[];
    const master = keys.find((k) => k.key_id === 'ecdsa:Secp256k1:test_key_1')!;
    const want = oracleEcdsa.secp256k1.PublicKeyWithChainCode.fromHex(master).deriveSubkeyWithChainCode(
      oracleEcdsa.secp256k1.DerivationPath.withCanisterPrefix(id as unknown as OraclePrincipal, []),
    );
    const pk = await signer.public_key();
    assert.equal(hex(pk.public_key), want.public_key.toHex());
    const hash = sha256(new TextEncoder().encode('signed by a TypeScript canister'));
    const before = (await signer.balance()) as bigint;
    const sig = (await signer.sign(hash)) as Uint8Array;
    assert.equal(sig.length, 64);
    assert.ok(secp256k1.verify(sig, hash, pk.public_key, { prehash: false }));
    assert.equal(before - ((await signer.balance()) as bigint), 10_000_000_000n);
  });

  test('examples/bitcoin-address.ts: a P2PKH address of the signer key, over an inter-canister call', async () => {
    const signer = await deployTypeScriptCanister({ url: r.url, source: source('examples/signer.ts') });
    const btcSrc = source('examples/bitcoin-address.ts');
    const btc = await deployTypeScriptCanister({ url: r.url, source: btcSrc, initArgs: [signer.canisterId.toText(), true] });
    const actor = Actor.createActor(idlFactoryFromCandid(candidOf(btcSrc)), { agent, canisterId: btc.canisterId }) as any;
    const address = (await actor.address()) as string;
    const signerActor = Actor.createActor(idlFactoryFromCandid(candidOf(source('examples/signer.ts'))), { agent, canisterId: signer.canisterId }) as any;
    const { public_key } = await signerActor.public_key();
    // Oracle: @scure/base's base58check over version 0x6f ‖ RIPEMD-160(SHA-256(key)).
    const payload = new Uint8Array([0x6f, ...ripemd160(sha256(public_key))]);
    assert.equal(address, createBase58check(sha256).encode(payload));
    assert.match(address, /^[mn]/);
    const digest = sha256(new TextEncoder().encode('tx'));
    assert.ok(secp256k1.verify(await actor.sign_digest(digest), digest, public_key, { prehash: false }));
  });

  test('examples/icrc1-ledger.ts: balances, transfers, fee, errors, metadata', async () => {
    const src = source('examples/icrc1-ledger.ts');
    const me = (await agent.getPrincipal()).toText();
    const minter = 'aaaaa-aa';
    const { canisterId } = await deployTypeScriptCanister({
      url: r.url,
      source: src,
      initArgs: [{ token_name: 'Test', token_symbol: 'TST', decimals: 8, fee: 10, minting_account: minter, initial_balances: [[{ owner: me, subaccount: [] }, 1000]] }],
    });
    const ledger = Actor.createActor(idlFactoryFromCandid(candidOf(src)), { agent, canisterId }) as any;
    const other = Principal.fromText('2vxsx-fae');
    const acct = (owner: Principal | string) => ({ owner: typeof owner === 'string' ? Principal.fromText(owner) : owner, subaccount: [] });
    assert.equal(await ledger.icrc1_symbol(), 'TST');
    assert.equal(await ledger.icrc1_balance_of(acct(me)), 1000n);
    const transfer = (amount: bigint, fee: [] | [bigint] = []) => ledger.icrc1_transfer({ from_subaccount: [], to: acct(other), amount, fee, memo: [], created_at_time: [] });
    assert.deepEqual(await transfer(100n), { Ok: 0n });
    assert.equal(await ledger.icrc1_balance_of(acct(me)), 890n);
    assert.equal(await ledger.icrc1_balance_of({ owner: other, subaccount: [new Uint8Array(32)] }), 100n, 'the zero subaccount is the default account');
    assert.equal(await ledger.icrc1_total_supply(), 990n);
    assert.deepEqual(await transfer(1n, [1n]), { Err: { BadFee: { expected_fee: 10n } } });
    assert.deepEqual(await transfer(5000n), { Err: { InsufficientFunds: { balance: 890n } } });
    assert.deepEqual(await ledger.icrc1_supported_standards(), [{ name: 'ICRC-1', url: 'https://github.com/dfinity/ICRC-1/tree/main/standards/ICRC-1' }]);
  });

  test('updates commit, a throwing update rolls back (reject 5, IC0503), a query writes nothing', async () => {
    const base = (await counter.get()) as bigint;
    assert.equal(await counter.inc(), base + 1n);
    await assert.rejects(counter.incThenThrow(), (e: any) => {
      assert.match(e.message, /Reject code: 5/);
      assert.match(e.message, /Canister called `ic0.trap` with message: 'boom after writing'/);
      assert.match(e.message, /IC0503/);
      return true;
    });
    assert.equal(await counter.get(), base + 1n, 'the throw rolled the write back');
    assert.equal(await counter.writeInQuery(), base + 1001n, 'the query saw its own write');
    assert.equal(await counter.get(), base + 1n, 'and it was discarded');
    assert.equal(await counter.whoami(), agent.config.identity ? (await agent.getPrincipal()).toText() : '');
  });

  test('raw_rand and the global timer work from TypeScript', async () => {
    const [a, b] = [(await counter.random()) as Uint8Array, (await counter.random()) as Uint8Array];
    assert.equal(a.length, 32);
    assert.notEqual(hex(a), hex(b));
    const fired = (await counter.timerFired()) as bigint;
    await counter.armTimer(50_000_000n);
    const deadline = Date.now() + 5000;
    while (((await counter.timerFired()) as bigint) === fired && Date.now() < deadline) await new Promise((res) => setTimeout(res, 50));
    assert.equal(await counter.timerFired(), fired + 1n);
  });

  test('a handler that never returns is cut off (IC0522) and the canister keeps working', async () => {
    const base = (await counter.get()) as bigint;
    await assert.rejects(counter.spin(), (e: any) => {
      // The 5 s time limit stands for the 40 B instruction limit of an update: the replica's text.
      assert.match(e.message, /Canister exceeded the limit of 40000000000 instructions for single message execution\./);
      assert.match(e.message, /Try optimizing this method to consume fewer instructions or split the work across multiple messages\./);
      assert.match(e.message, /IC0522/);
      return true;
    });
    assert.equal(await counter.inc(), base + 1n);
  });

  test('canister_status and read_state: module hash of the source, controllers, candid:service', async () => {
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: counterId }) as any;
    const status = await mgmt.canister_status({ canister_id: counterId });
    const expected = sha256(new TextEncoder().encode(`// chainkey-replica typescript canister module v1\n${counterSrc}`));
    assert.equal(hex(status.module_hash[0]), hex(expected));
    const paths = await CanisterStatus.request({ canisterId: counterId, agent, paths: ['module_hash', 'controllers', 'candid'] });
    assert.equal(paths.get('module_hash'), hex(expected));
    assert.deepEqual((paths.get('controllers') as Principal[]).map((p) => p.toText()), [(await agent.getPrincipal()).toText()]);
    assert.equal(paths.get('candid'), candidOf(counterSrc));
  });

  test('a TypeScript and a Motoko canister call each other with cycles; balances exact; rejects as for Wasm', async () => {
    const [callee, caller] = await compileMotokoFixtures(['Callee', 'Caller']);
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    const install = async (w: { wasm: Uint8Array; candid: string }) => {
      const id = (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id;
      await mgmt.install_code({ mode: { install: null }, canister_id: id, wasm_module: w.wasm, arg: IDL.encode([], []), sender_canister_version: [] });
      return { id, actor: Actor.createActor(idlFactoryFromCandid(w.candid), { agent, canisterId: id }) as any };
    };
    const mo = await install(callee!);
    const moCaller = await install(caller!);

    // TypeScript → Motoko: 1_000_000 attached, the callee accepts half.
    const tsBefore = (await counter.balance()) as bigint;
    const moBefore = (await mo.actor.balance()) as bigint;
    assert.deepEqual(await counter.callReceive(mo.id, 1_000_000n), { ok: [500_000n, 500_000n] });
    assert.equal(tsBefore - ((await counter.balance()) as bigint), 500_000n);
    assert.equal(((await mo.actor.balance()) as bigint) - moBefore, 500_000n);

    // Motoko → TypeScript.
    const callerBefore = (await moCaller.actor.balance()) as bigint;
    const tsBefore2 = (await counter.balance()) as bigint;
    assert.equal(await moCaller.actor.callReceive(counterId, 2_000_000n), 1_000_000n, 'refund seen by the Motoko caller');
    assert.equal(callerBefore - ((await moCaller.actor.balance()) as bigint), 1_000_000n);
    assert.equal(((await counter.balance()) as bigint) - tsBefore2, 1_000_000n);

    // Rejects and traps, both ways.
    assert.equal(await counter.callMethod(mo.id, 'reject'), '4: nope');
    assert.match(await counter.callMethod(mo.id, 'trap'), /^5: IC0503: Error from Canister .*: Canister called `ic0.trap` with message: 'callee trap'/);
    assert.equal(await moCaller.actor.callReject(counterId), '#canister_reject: nope');
    assert.match(await moCaller.actor.callTrap(counterId), /^#canister_error: IC0503: Error from Canister .*: Canister called `ic0.trap` with message: 'ts trap'/);
    assert.equal(await counter.callMethod(Principal.fromText('qoctq-giaaa-aaaaa-aaaea-cai'), 'nothing'), `3: Canister qoctq-giaaa-aaaaa-aaaea-cai not found`);
  });

  test('canister code cannot reach the replica realm: every probe is blocked', async () => {
    const src = source('test/fixtures/typescript/probe.ts');
    const { canisterId } = await deployTypeScriptCanister({ url: r.url, source: src });
    const probe = Actor.createActor(idlFactoryFromCandid(candidOf(src)), { agent, canisterId }) as any;
    const results = (await probe.probe()) as [string, string][];
    assert.equal(results.length, 8);
    for (const [what, outcome] of results) assert.equal(outcome, 'blocked', what);
  });

  for (const [what, src, reason] of [
    ['an import of node:fs', `import { readFileSync } from 'node:fs';\nexport default { candid: 'service : {}', methods: {} };`, "import of 'node:fs': a TypeScript canister can only import from 'chainkey-replica/canister'"],
    ['a syntax error', `export default defineCanister({ candid: 'service : {}', methods: { ) });`, 'TypeScript: Unexpected token'],
    ['a method without handler', `export default { candid: 'service : { m : () -> () }', methods: {} };`, "the service declares 'm' but the module defines no handler for it"],
    ['a query defined as update', `import { update } from 'chainkey-replica/canister';\nexport default { candid: 'service : { m : () -> () query }', methods: { m: update(() => {}) } };`, "'m' is a query in the service but defined with update()"],
    ['code that throws while loading', `throw new Error('no');\nexport default {};`, 'the module failed to load: Error: no'],
  ] as const) {
    test(`install_code refuses ${what} with its error (and deploy before creating anything); nothing is stored`, async () => {
      const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
      const id = (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
      await assert.rejects(deployTypeScriptCanister({ url: r.url, source: src, canisterId: id.toText(), identity: agent.config.identity as any }), (e: any) => {
        assert.ok(e instanceof CanisterSourceError, String(e));
        assert.ok(e.message.startsWith('<source>'), e.message);
        assert.ok(e.message.includes(reason), e.message);
        return true;
      });
      const install = (Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: id }) as any).install_code({
        mode: { install: null }, canister_id: id, wasm_module: encodeTsCanisterModule(src), arg: new Uint8Array(IDL.encode([], [])), sender_canister_version: [],
      });
      await assert.rejects(install, (e: any) => {
        assert.match(e.message, /IC0505/);
        assert.ok(e.message.includes(`Canister's TypeScript module is not valid: `), e.message);
        assert.ok(e.message.includes(reason), e.message);
        return true;
      });
      const status = await (Actor.createActor(managementIdlFactory, { agent, canisterId: "aaaaa-aa", effectiveCanisterId: id }) as any).canister_status({ canister_id: id });
      assert.deepEqual((status as any).module_hash, []);
    });
  }

  test('deploy of a file with a syntax error: one line FILE:LINE:COL and the message, exit 1, no canister created', async () => {
    const dir = tempStateDir('ckr-bad-ts-');
    const file = `${dir}/bad.ts`;
    writeFileSync(file, [
      `import { defineCanister, update } from 'chainkey-replica/canister';`,
      `export default defineCanister({`,
      `  candid: 'service : { inc : () -> (nat) }',`,
      `  state: { n: 0n },`,
      `  methods: { inc: update((ctx) => { return ctx.state.n +; }) },`,
      `});`,
    ].join('\n'));
    const mgmt = Actor.createActor(managementIdlFactory, { agent, canisterId: 'aaaaa-aa', effectiveCanisterId: Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai') }) as any;
    const create = async () => (await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] })).canister_id as Principal;
    try {
      const before = await create();
      const out = await promisify(execFile)(process.execPath, ['src/cli.ts', 'deploy', file, '--url', r.url], { cwd: ROOT }).then(
        () => assert.fail('deploy succeeded'),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
      assert.equal(out.code, 1);
      assert.equal(out.stdout, '');
      assert.equal(out.stderr, `${file}:5:57: TypeScript: Expression expected\n`);
      // Nothing was created: the next canister gets the very next id.
      const next = await create();
      const index = (p: Principal) => Buffer.from(p.toUint8Array()).readBigUInt64BE(0);
      assert.equal(index(next), index(before) + 1n);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

test('TypeScript canister state survives kill -9 and restarts', async () => {
  const dir = tempStateDir();
  const src = source('test/fixtures/typescript/counter.ts');
  try {
    let p = await spawnReplica(dir);
    const { canisterId } = await deployTypeScriptCanister({ url: p.url, source: src });
    let c = Actor.createActor(idlFactoryFromCandid(candidOf(src)), { agent: await agentFor(p.url), canisterId }) as any;
    for (let i = 0; i < 3; i++) await c.inc();
    p.child.kill('SIGKILL');
    await new Promise((res) => p.child.once('exit', res));
    p = await spawnReplica(dir);
    try {
      c = Actor.createActor(idlFactoryFromCandid(candidOf(src)), { agent: await agentFor(p.url), canisterId }) as any;
      assert.equal(await c.get(), 3n);
      assert.equal(await c.inc(), 4n);
    } finally {
      p.child.kill('SIGTERM');
      await new Promise((res) => p.child.once('exit', res));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
