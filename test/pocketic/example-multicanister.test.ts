/**
 * Port of PicJS's `multicanister` example suite (dfinity/pic-js examples/multicanister/tests) to
 * node:test: two application subnets, canisters placed with `targetSubnetId`, calls across them,
 * and a composite query into another canister, through PicJS's public API only, against
 * bin/pocket-ic started by PicJS. The canisters are our own Motoko equivalents
 * (test/fixtures/motoko/pocketic/{Directory,PhoneBook,SuperHeroes}.mo).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { IDL } from '@icp-sdk/core/candid';
import type { Principal } from '@icp-sdk/core/principal';
import { PocketIc, SubnetStateType, type Actor } from '@dfinity/pic';
import { compileMotokoFixtures } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';

interface Entry {
  phone: string;
  description: string;
}
interface Hero {
  name: string;
  superpowers: string[];
}
interface DirectoryService {
  insert_phone_book_entry: (name: string, entry: Entry) => Promise<void>;
  lookup_phone_book_entry: (name: string) => Promise<[] | [Entry]>;
  insert_super_hero: (hero: Hero) => Promise<number>;
  lookup_super_hero: (id: number) => Promise<[] | [Hero]>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL }: { IDL: any }) => {
  const entry = IDL.Record({ phone: IDL.Text, description: IDL.Text });
  const hero = IDL.Record({ name: IDL.Text, superpowers: IDL.Vec(IDL.Text) });
  return IDL.Service({
    insert_phone_book_entry: IDL.Func([IDL.Text, entry], [], []),
    lookup_phone_book_entry: IDL.Func([IDL.Text], [IDL.Opt(entry)], ['composite_query']),
    insert_super_hero: IDL.Func([hero], [IDL.Nat32], []),
    lookup_super_hero: IDL.Func([IDL.Nat32], [IDL.Opt(hero)], []),
  });
};

/** The Directory class's init arguments: two actor references (Candid service types). */
function initTypes(): IDL.Type[] {
  const entry = IDL.Record({ phone: IDL.Text, description: IDL.Text });
  const hero = IDL.Record({ name: IDL.Text, superpowers: IDL.Vec(IDL.Text) });
  const phoneBook = IDL.Service({
    insert: IDL.Func([IDL.Text, entry], [], []),
    lookup: IDL.Func([IDL.Text], [IDL.Opt(entry)], ['query']),
  });
  const heroes = IDL.Service({
    insert: IDL.Func([hero], [IDL.Nat32], []),
    lookup: IDL.Func([IDL.Nat32], [IDL.Opt(hero)], ['query']),
  });
  return [phoneBook, heroes];
}

describe('PicJS example: multicanister', () => {
  let server: PicServer;
  let directoryWasm: Uint8Array;
  let phoneBookWasm: Uint8Array;
  let heroesWasm: Uint8Array;
  let pic: PocketIc;
  let actor: Actor<DirectoryService>;

  before(async () => {
    const [s, outs] = await Promise.all([
      startPicServer(),
      compileMotokoFixtures(['pocketic/Directory', 'pocketic/PhoneBook', 'pocketic/SuperHeroes']),
    ]);
    server = s;
    [directoryWasm, phoneBookWasm, heroesWasm] = outs.map((o) => o.wasm) as [Uint8Array, Uint8Array, Uint8Array];
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pic = await PocketIc.create(server.url, {
      application: [{ state: { type: SubnetStateType.New } }, { state: { type: SubnetStateType.New } }],
    });
    const [mainSubnet, heroesSubnet] = await pic.getApplicationSubnets();
    assert.ok(mainSubnet && heroesSubnet);
    const phoneBook = await pic.createCanister({ targetSubnetId: mainSubnet.id });
    await pic.installCode({ wasm: phoneBookWasm, canisterId: phoneBook, targetSubnetId: mainSubnet.id });
    const heroes = await pic.createCanister({ targetSubnetId: heroesSubnet.id });
    await pic.installCode({ wasm: heroesWasm, canisterId: heroes });
    assert.equal((await pic.getCanisterSubnetId(heroes))?.toText(), heroesSubnet.id.toText());
    const fixture = await pic.setupCanister<DirectoryService>({
      idlFactory,
      wasm: directoryWasm,
      targetSubnetId: mainSubnet.id,
      arg: new Uint8Array(IDL.encode(initTypes(), [phoneBook as unknown as Principal, heroes as unknown as Principal])),
    });
    actor = fixture.actor;
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  it('inserts a contact and finds it through a composite query', async () => {
    const entry = { phone: '123-456-7890', description: 'Alice in Wonderland' };
    await actor.insert_phone_book_entry('Alice', entry);
    const result = await actor.lookup_phone_book_entry('Alice');
    assert.deepEqual(result, [entry]);
  });

  it('inserts a super hero on the other subnet and finds it', async () => {
    const hero = { name: 'Superman', superpowers: ['flight', 'super strength', 'heat vision'] };
    const id = await actor.insert_super_hero(hero);
    assert.deepEqual(await actor.lookup_super_hero(id), [hero]);
  });
});

describe('composite queries (beyond the example)', () => {
  let server: PicServer;
  let pic: PocketIc;
  let relay: Actor<{
    viaSelf: (t: string) => Promise<[string, bigint]>;
    hitCount: () => Promise<bigint>;
    catchBoom: () => Promise<string>;
    deep: (n: bigint) => Promise<bigint>;
  }>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const relayIdl = ({ IDL }: { IDL: any }) =>
    IDL.Service({
      viaSelf: IDL.Func([IDL.Text], [IDL.Text, IDL.Nat], ['composite_query']),
      hitCount: IDL.Func([], [IDL.Nat], ['query']),
      catchBoom: IDL.Func([], [IDL.Text], ['composite_query']),
      deep: IDL.Func([IDL.Nat], [IDL.Nat], ['composite_query']),
    });

  before(async () => {
    const [s, outs] = await Promise.all([startPicServer(), compileMotokoFixtures(['pocketic/Relay'])]);
    server = s;
    pic = await PocketIc.create(server.url);
    ({ actor: relay } = await pic.setupCanister({ idlFactory: relayIdl, wasm: outs[0]!.wasm }));
  });
  after(async () => {
    await pic?.tearDown();
    await server?.stop();
  });

  it('a callback sees what the method wrote before calling; the next query does not', async () => {
    assert.deepEqual(await relay.viaSelf('x'), ['x', 1n]);
    assert.deepEqual(await relay.viaSelf('y'), ['y', 1n]);
    assert.equal(await relay.hitCount(), 0n);
  });

  it("a callee's trap reaches the caller as a reject it can catch", async () => {
    assert.match(await relay.catchBoom(), /^caught: .*boom/);
  });

  it('the call graph is at most 6 deep', async () => {
    assert.equal(await relay.deep(5n), 5n);
    await assert.rejects(relay.deep(7n), /maximum call depth of 6/);
  });
});

