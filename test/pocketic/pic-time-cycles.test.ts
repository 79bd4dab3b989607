/**
 * PocketIC semantics under PicJS (issue 14), through PicJS's public API only against bin/pocket-ic:
 * manual time (genesis start, set_time rules, queries at the last round's time, set_certified_time),
 * ticks (nothing runs until asked; one round per tick, 1 ns apart when time stands still; timers
 * fire on virtual time), cycles (u128 amounts both ways, unknown canisters), instances (isolated,
 * deleted), stable memory get / set through the blobstore, and chunked install of a module above
 * PicJS's 1.85 MB limit (clear_chunk_store, upload_chunk, install_chunked_code).
 */
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { createHash, randomBytes } from 'node:crypto';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { PocketIc, type Actor, type DeferredActor } from '@dfinity/pic';
import { compileMotokoFixture } from '../support/motoko.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';
import { compileWat } from '../support/wat.ts';

interface Probe {
  now: () => Promise<bigint>;
  inc: () => Promise<bigint>;
  get: () => Promise<bigint>;
  schedule: (seconds: bigint) => Promise<void>;
  firings: () => Promise<bigint>;
}
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL }: { IDL: any }) =>
  IDL.Service({
    now: IDL.Func([], [IDL.Int], ['query']),
    inc: IDL.Func([], [IDL.Nat], []),
    get: IDL.Func([], [IDL.Nat], ['query']),
    schedule: IDL.Func([IDL.Nat], [], []),
    firings: IDL.Func([], [IDL.Nat], ['query']),
  });

/** Raw stable memory: `put` stores its argument bytes (u32 length first), `take` answers them. */
const STABLE_BYTES_WAT = `(module
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "stable64_size" (func $size (result i64)))
  (import "ic0" "stable64_grow" (func $grow (param i64) (result i64)))
  (import "ic0" "stable64_write" (func $write (param i64 i64 i64)))
  (import "ic0" "stable64_read" (func $read (param i64 i64 i64)))
  (memory 2)
  (func (export "canister_update put") (local $n i32)
    (local.set $n (call $arg_size))
    (i32.store (i32.const 0) (local.get $n))
    (call $arg_copy (i32.const 4) (i32.const 0) (local.get $n))
    (if (i64.eqz (call $size)) (then (drop (call $grow (i64.const 1)))))
    (call $write (i64.const 0) (i64.const 0) (i64.extend_i32_u (i32.add (local.get $n) (i32.const 4))))
    (call $reply))
  (func (export "canister_query take")
    (if (i64.eqz (call $size)) (then (call $reply) (return)))
    (call $read (i64.const 0) (i64.const 0) (i64.const 4))
    (call $read (i64.const 4) (i64.const 4) (i64.extend_i32_u (i32.load (i32.const 0))))
    (call $append (i32.const 4) (i32.load (i32.const 0)))
    (call $reply)))`;

/** `wasm` with a custom section appended (section id 0: LEB128 size, LEB128 name length, name, bytes). */
function withCustomSection(wasm: Uint8Array, name: string, payload: Uint8Array): Uint8Array {
  const leb = (n: number): number[] => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n >>>= 7;
      if (n !== 0) b |= 0x80;
      out.push(b);
    } while (n !== 0);
    return out;
  };
  const nameBytes = new TextEncoder().encode(name);
  const body = [...leb(nameBytes.length), ...nameBytes];
  return new Uint8Array([...wasm, 0, ...leb(body.length + payload.length), ...body, ...payload]);
}

const GENESIS_MS = Date.UTC(2021, 4, 6, 19, 17, 10);

describe('PicJS: time, ticks, cycles, instances', () => {
  let server: PicServer;
  let wasm: Uint8Array;
  let pic: PocketIc;
  let actor: Actor<Probe>;
  let deferred: DeferredActor<Probe>;
  let canisterId: Principal;

  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileMotokoFixture('pocketic/TimeProbe').then((o) => o.wasm)]);
  });
  after(async () => {
    await server?.stop();
  });
  beforeEach(async () => {
    pic = await PocketIc.create(server.url);
    const f = await pic.setupCanister<Probe>({ idlFactory, wasm });
    actor = f.actor;
    canisterId = f.canisterId as unknown as Principal;
    deferred = pic.createDeferredActor<Probe>(idlFactory, f.canisterId);
  });
  afterEach(async () => {
    await pic.tearDown();
  });

  it('starts at PocketIC genesis, and refuses to go back in time', async () => {
    const fresh = await PocketIc.create(server.url);
    try {
      assert.equal(await fresh.getTime(), GENESIS_MS);
      await fresh.setTime(GENESIS_MS);
      await assert.rejects(fresh.setTime(GENESIS_MS - 1), /SettingTimeIntoPast\(\(1620328630000000000, 1620328629999000000\)\)/);
    } finally {
      await fresh.tearDown();
    }
  });

  it('queries see the last round until a tick; certified time at once; 1 ns per tick when time stands still', async () => {
    await pic.tick();
    const t0 = await actor.now();
    await pic.advanceTime(60_000);
    assert.equal(await actor.now(), t0, 'a query after set_time still sees the last round');
    await pic.tick();
    assert.equal(await actor.now(), t0 + 60_000_000_000n);
    await pic.tick();
    assert.equal(await actor.now(), t0 + 60_000_000_001n, 'time bumped by 1 ns');
    await pic.advanceCertifiedTime(5_000);
    assert.equal(await actor.now(), t0 + 65_000_000_001n, 'set_certified_time is seen at once');
  });

  it('submit runs nothing: a deferred update executes on tick, and await returns its reply', async () => {
    const execute = await deferred.inc();
    assert.equal(await actor.get(), 0n, 'not executed before a round');
    await pic.tick();
    assert.equal(await actor.get(), 1n, 'executed by one tick');
    assert.equal(await execute(), 1n);
  });

  it('timers fire on virtual time, only when a round runs', async () => {
    await actor.schedule(3_600n);
    await pic.advanceTime(3_599_000);
    await pic.tick();
    assert.equal(await actor.firings(), 0n);
    await pic.advanceTime(1_000);
    assert.equal(await actor.firings(), 0n, 'no round, no timer');
    await pic.tick();
    assert.equal(await actor.firings(), 1n);
    await pic.tick(3);
    assert.equal(await actor.firings(), 1n, 'one-shot');
  });

  it('cycles: u128 amounts are exact both ways; unknown canisters are errors', async () => {
    const before = BigInt(await pic.getCyclesBalance(canisterId as never));
    const huge = (1n << 100n) + 12_345n;
    assert.equal(BigInt(await pic.addCycles(canisterId as never, huge as never)), before + huge);
    assert.equal(BigInt(await pic.getCyclesBalance(canisterId as never)), before + huge);
    const nobody = Principal.fromText('aaaaa-aa');
    await assert.rejects(pic.getCyclesBalance(nobody as never), /CanisterNotFound/);
  });

  it('instances are isolated, numbered, and gone after tearDown', async () => {
    const other = await PocketIc.create(server.url);
    const otherProbe = await other.setupCanister<Probe>({ idlFactory, wasm });
    assert.equal(otherProbe.canisterId.toText(), canisterId.toText(), 'the same first id in every instance');
    await otherProbe.actor.inc();
    assert.equal(await otherProbe.actor.get(), 1n);
    assert.equal(await actor.get(), 0n);
    const live = async (): Promise<number> => ((await (await fetch(`${server.url}/instances`)).json()) as string[]).filter((x) => x === 'Available').length;
    assert.equal(await live(), 2);
    await other.tearDown();
    assert.equal(await live(), 1, 'the deleted instance is gone from the server');
  });

  it('stable memory: get, then set after a reinstall restores what the canister stored', async () => {
    const wasm = await compileWat(STABLE_BYTES_WAT);
    const id = await pic.createCanister();
    await pic.installCode({ canisterId: id, wasm });
    const data = new TextEncoder().encode('kept through a reinstall by the test, not by the canister');
    await pic.updateCall({ canisterId: id, method: 'put', arg: data });
    const take = async (): Promise<Uint8Array> => new Uint8Array(await pic.queryCall({ canisterId: id, method: 'take', arg: new Uint8Array() }));
    assert.deepEqual(await take(), data);
    const saved = await pic.getStableMemory(id);
    assert.equal(saved.length, 65536, 'whole 64 KiB pages');
    await pic.reinstallCode({ canisterId: id, wasm });
    assert.equal((await take()).length, 0, 'reinstall cleared stable memory');
    await pic.setStableMemory(id, saved);
    assert.deepEqual(await take(), data);
    assert.deepEqual(await pic.getStableMemory(id), saved);
    await assert.rejects(pic.getStableMemory(Principal.fromText('aaaaa-aa') as never), /CanisterNotFound/);
    const empty = await pic.createCanister();
    await assert.rejects(pic.setStableMemory(empty, saved), /CanisterIsEmpty/);
  });

  it('chunked install: a module above the 1.85 MB PicJS limit goes through the chunk store', async () => {
    const counter = await compileMotokoFixture('pocketic/Counter');
    const big = withCustomSection(counter.wasm, 'padding', randomBytes(2_000_000));
    assert.ok(big.length > 1_850_000);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const counterIdl = ({ IDL }: { IDL: any }) => IDL.Service({ get: IDL.Func([], [IDL.Nat], ['query']) });
    const { actor: c, canisterId: id } = await pic.setupCanister<{ get: () => Promise<bigint> }>({
      idlFactory: counterIdl,
      wasm: big,
      arg: new Uint8Array(IDL.encode([IDL.Nat], [41n])),
    });
    assert.equal(await c.get(), 41n);
    const status = await pic.canisterStatus({ canisterId: id });
    assert.equal(Buffer.from(status.moduleHash!).toString('hex'), createHash('sha256').update(big).digest('hex'));
  });

  it('heartbeats: one per tick, none without one', async () => {
    const hb = await compileMotokoFixture('pocketic/Heartbeat');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const hbIdl = ({ IDL }: { IDL: any }) => IDL.Service({ count: IDL.Func([], [IDL.Nat], ['query']) });
    const { actor: h } = await pic.setupCanister<{ count: () => Promise<bigint> }>({ idlFactory: hbIdl, wasm: hb.wasm });
    const before = await h.count();
    assert.equal(await h.count(), before, 'no round, no heartbeat');
    await pic.tick(3);
    assert.equal(await h.count(), before + 3n);
  });
});
