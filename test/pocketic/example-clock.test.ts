/**
 * Port of PicJS's `clock` example suite (dfinity/pic-js examples/clock/tests) to node:test: the same
 * scenarios through PicJS's public API only (controllers, getCanisterSubnetId, getControllers,
 * cycles, resetTime / advanceTime / tick against a canister's timers), against bin/pocket-ic
 * started by PicJS. The canister is our own Motoko equivalent (test/fixtures/motoko/pocketic/Clock.mo).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { Principal } from '@icp-sdk/core/principal';
import { generateRandomIdentity, PocketIc, type Actor } from '@dfinity/pic';
import { compileMotokoFixture } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';

interface ClockService {
  get: () => Promise<bigint>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL }: { IDL: any }) => IDL.Service({ get: IDL.Func([], [IDL.Int], ['query']) });

describe('PicJS example: clock', () => {
  let server: PicServer;
  let wasm: Uint8Array;
  let pic: PocketIc;
  let actor: Actor<ClockService>;
  let canisterId: Principal;
  let controller: Principal;
  let otherController: Principal;

  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileMotokoFixture('pocketic/Clock').then((o) => o.wasm)]);
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    controller = generateRandomIdentity().getPrincipal() as unknown as Principal;
    otherController = generateRandomIdentity().getPrincipal() as unknown as Principal;
    pic = await PocketIc.create(server.url);
    const fixture = await pic.setupCanister<ClockService>({
      idlFactory,
      wasm,
      sender: controller as never,
      controllers: [controller, otherController] as never,
    });
    actor = fixture.actor;
    canisterId = fixture.canisterId as unknown as Principal;
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  it('creates the canister on a subnet', async () => {
    assert.ok(await pic.getCanisterSubnetId(canisterId as never));
  });

  it('assigns both controllers', async () => {
    const controllers = (await pic.getControllers(canisterId as never)).map((p) => p.toText());
    assert.ok(controllers.includes(controller.toText()));
    assert.ok(controllers.includes(otherController.toText()));
    assert.equal(controllers.length, 2);
  });

  it('reports no subnet for a canister that does not exist', async () => {
    assert.equal(await pic.getCanisterSubnetId(Principal.fromUint8Array(new Uint8Array([0])) as never), null);
  });

  it('reads and adds cycles', async () => {
    const cycles = await pic.getCyclesBalance(canisterId as never);
    const added = 1_000_000_000n;
    const updated = await pic.addCycles(canisterId as never, added as never);
    assert.equal(BigInt(updated), BigInt(cycles) + added);
    assert.equal(BigInt(await pic.getCyclesBalance(canisterId as never)), BigInt(updated));
  });

  for (const seconds of [1, 10, 1_000, 100_000]) {
    it(`tells the time ${seconds} s later, to the millisecond`, async () => {
      await pic.resetTime();
      await pic.tick();
      const initial = await actor.get();
      await pic.advanceTime(seconds * 1_000);
      await pic.tick();
      assert.equal(await actor.get(), initial + BigInt(seconds * 1_000));
    });
  }
});
