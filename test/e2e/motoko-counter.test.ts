/**
 * Acceptance (issue 3): a Motoko counter actor compiled in the suite runs through @dfinity/agent 3
 * against a real replica: install, update, query, discarded query writes, a trapping update that
 * rolls back with the replica's IC0503 text, the Actor built from the module's `candid:service`
 * metadata read via read_state, raw_rand, upgrades (stable variables kept; main memory kept with
 * `wasm_memory_persistence = keep`), and the same canister with classic persistence (wasm32).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { agent3, identity3, IDL3 } from '../clients/agent-js-3/index.ts';
import { prepareCanisterModule } from '../../src/execution/wasm/canister-module.ts';
import { ic0Signatures } from '../../src/execution/system-api/ic0-table.ts';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';
import { compileMotokoFixture, type MotokoOutput } from '../support/motoko.ts';
import { managementIdlFactory, startTestReplica } from '../support/replica-fixture.ts';

type Running = Awaited<ReturnType<typeof startTestReplica>>;

/** The error text of a rejected promise. */
export async function errorOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    return String((e as Error).message);
  }
  assert.fail('expected a reject');
}

for (const persistence of ['enhanced', 'classic'] as const) {
  describe(`Motoko counter (${persistence} persistence) through @dfinity/agent 3`, () => {
    let r: Running;
    let agent: InstanceType<typeof agent3.HttpAgent>;
    let wasm: MotokoOutput;
    let canisterId: string;
    let counter: any;
    let mgmt: any;

    before(async () => {
      wasm = await compileMotokoFixture('Counter', { persistence, publicMetadata: ['candid:service'] });
      r = await startTestReplica({ debugPrint: () => {} });
      const identity = identity3.Ed25519KeyIdentity.generate();
      agent = await agent3.HttpAgent.create({ host: r.url, identity, shouldFetchRootKey: true });
      mgmt = agent3.Actor.createActor(managementIdlFactory as never, { agent, canisterId: 'aaaaa-aa' });
      const created = await mgmt.provisional_create_canister_with_cycles({ amount: [], settings: [], specified_id: [], sender_canister_version: [] });
      canisterId = created.canister_id.toText();
      await mgmt.install_code({
        mode: { install: null },
        canister_id: created.canister_id,
        wasm_module: wasm.wasm,
        arg: new Uint8Array(IDL3.encode([], [])),
        sender_canister_version: [],
      });
    });
    after(async () => {
      await r?.cleanup();
    });

    test(`the module is ${persistence === 'enhanced' ? 'wasm64 with' : 'wasm32 without'} enhanced orthogonal persistence`, () => {
      const m = new WebAssembly.Module(wasm.wasm);
      const eop = WebAssembly.Module.customSections(m, 'icp:private enhanced-orthogonal-persistence').length > 0;
      assert.equal(eop, persistence === 'enhanced');
      assert.equal(prepareCanisterModule(wasm.wasm, ic0Signatures).memoryType, persistence === 'enhanced' ? 'wasm64' : 'wasm32');
    });

    test('an Actor from the candid:service metadata (read_state) calls inc and get', async () => {
      const text = await agent3.fetchCandid(canisterId, agent);
      assert.match(text, /inc: \(\) -> \(nat\);/);
      counter = agent3.Actor.createActor(idlFactoryFromCandid(text) as never, { agent, canisterId });
      assert.equal(await counter.inc(), 1n);
      assert.equal(await counter.inc(), 2n);
      assert.equal(await counter.get(), 2n);
    });

    test("a query's writes are discarded", async () => {
      assert.equal(await counter.incQuery(), 3n);
      assert.equal(await counter.get(), 2n);
    });

    test('a trapping update rolls back and rejects with IC0503 and the replica text', async () => {
      const msg = await errorOf(counter.incThenTrap());
      assert.match(msg, new RegExp(`Error from Canister ${canisterId}: Canister called \`ic0.trap\` with message: 'boom'`));
      assert.match(msg, /Consider gracefully handling failures from this canister or altering the canister to handle exceptions\. See documentation: .*#trapped-explicitly/);
      assert.match(msg, /IC0503/);
      assert.equal(await counter.get(), 2n);
      assert.equal(await counter.inc(), 3n);
    });

    test('raw_rand through the management canister gives 32 bytes', async () => {
      const a = (await counter.random()) as Uint8Array;
      const b = (await counter.random()) as Uint8Array;
      assert.equal(a.length, 32);
      assert.notDeepEqual([...a], [...b]);
    });

    test('an upgrade keeps stable variables; transient ones start again', async () => {
      assert.equal(await counter.getCalls(), 3n);
      const upgrade =
        persistence === 'enhanced'
          ? { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [{ keep: null }] }] }
          : { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [] }] };
      await mgmt.install_code({
        mode: upgrade as never,
        canister_id: agent3.Actor.canisterIdOf(counter),
        wasm_module: wasm.wasm,
        arg: new Uint8Array(IDL3.encode([], [])),
        sender_canister_version: [],
      });
      assert.equal(await counter.get(), 3n);
      assert.equal(await counter.getUpgrades(), 1n);
      assert.equal(await counter.getCalls(), 0n);
      assert.equal(await counter.inc(), 4n);
    });

    if (persistence === 'enhanced') {
      test('an EOP upgrade without wasm_memory_persistence is refused with the replica text', async () => {
        const msg = await errorOf(
          mgmt.install_code({
            mode: { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [] }] } as never,
            canister_id: agent3.Actor.canisterIdOf(counter),
            wasm_module: wasm.wasm,
            arg: new Uint8Array(IDL3.encode([], [])),
            sender_canister_version: [],
          }),
        );
        assert.match(msg, /Missing upgrade option: Enhanced orthogonal persistence requires the `wasm_memory_persistence` upgrade option\./);
        assert.equal(await counter.get(), 4n);
      });
    }
  });
}
