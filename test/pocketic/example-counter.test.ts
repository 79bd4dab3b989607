/**
 * Port of PicJS's `counter` example suite (dfinity/pic-js examples/counter/tests) to node:test:
 * the same scenarios through PicJS's public API only (one instance per test, setupCanister, the
 * Actor, upgradeCanister, reinstallCode), against bin/pocket-ic started by PicJS. The canister is
 * our own Motoko equivalent (test/fixtures/motoko/pocketic/Counter.mo).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { IDL } from '@icp-sdk/core/candid';
import { PocketIc, type Actor } from '@dfinity/pic';
import { compileMotokoFixture } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';

interface CounterService {
  get: () => Promise<bigint>;
  set: (n: bigint) => Promise<void>;
  inc: () => Promise<void>;
  dec: () => Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL }: { IDL: any }) =>
  IDL.Service({
    get: IDL.Func([], [IDL.Nat], ['query']),
    set: IDL.Func([IDL.Nat], [], []),
    inc: IDL.Func([], [], []),
    dec: IDL.Func([], [], []),
  });

describe('PicJS example: counter', () => {
  let server: PicServer;
  let wasm: Uint8Array;
  let pic: PocketIc;
  let actor: Actor<CounterService>;
  let canisterId: { toText(): string };
  const initial = 1n;
  const initArg = (): Uint8Array => new Uint8Array(IDL.encode([IDL.Nat], [initial]));

  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileMotokoFixture('pocketic/Counter').then((o) => o.wasm)]);
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pic = await PocketIc.create(server.url);
    const fixture = await pic.setupCanister<CounterService>({ idlFactory, wasm, arg: initArg() });
    actor = fixture.actor;
    canisterId = fixture.canisterId;
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  it('starts at the init argument, on the first PocketIC canister id', async () => {
    assert.equal(await actor.get(), initial);
    assert.equal(canisterId.toText(), 'lxzze-o7777-77777-aaaaa-cai');
  });

  for (const n of [42n, 306n, 7n]) {
    it(`sets, increments and decrements from ${n}`, async () => {
      await actor.set(n);
      assert.equal(await actor.get(), n);
      await actor.inc();
      assert.equal(await actor.get(), n + 1n);
      await actor.inc();
      assert.equal(await actor.get(), n + 2n);
      await actor.dec();
      await actor.dec();
      await actor.dec();
      assert.equal(await actor.get(), n - 1n);
    });
  }

  it('fails to decrement from 0 with the trap text', async () => {
    await actor.set(0n);
    assert.equal(await actor.get(), 0n);
    await assert.rejects(actor.dec(), /Natural subtraction underflow/);
    await assert.rejects(actor.dec(), /Reject code: CanisterError\. Error code: CanisterCalledTrap\. Certified: true/);
  });

  it('keeps the count across an upgrade', async () => {
    await actor.inc();
    const before = await actor.get();
    await pic.upgradeCanister({
      canisterId: canisterId as never,
      wasm,
      arg: initArg(),
      upgradeModeOptions: { skip_pre_upgrade: [], wasm_memory_persistence: [{ keep: null }] },
    });
    assert.equal(await actor.get(), before);
  });

  it('starts over after a reinstall', async () => {
    await actor.inc();
    const before = await actor.get();
    await pic.reinstallCode({ canisterId: canisterId as never, wasm, arg: initArg() });
    assert.notEqual(await actor.get(), before);
    assert.equal(await actor.get(), initial);
  });
});
