/**
 * HTTPS outcall fees through PicJS: `ic0.cost_http_request` quotes exactly what `http_request`
 * then takes from the attached cycles — the replica's formula
 * `(3 M + 60 K·n + 400·request bytes + 800·max response bytes)·n` on a 13-node subnet, with the
 * request bytes counted as url + header names and values + body — and on an application subnet
 * with PocketIC's `Free` cost schedule both are 0. The fee is read from the refund
 * (`ic0.msg_cycles_refunded128` in the callback: attached − fee), which no other fee touches.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CanisterCyclesCostSchedule, PocketIc, SubnetStateType } from '@dfinity/pic';
import { IDL } from '@icp-sdk/core/candid';
import { managementTypes } from '../../src/management/ic-did.ts';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';
import { compileWat } from '../support/wat.ts';

/**
 * `go(blob)`: the blob is [attach u64][request bytes u64][max response bytes u64][http_request
 * args]; it quotes cost_http_request for the two sizes, calls aaaaa-aa http_request with the
 * args and `attach` cycles, and answers a blob [quote u128][refunded u128][rejected u8]. The
 * argument's Candid header is 11 bytes for a blob of 128..16383 bytes (DIDL 01 6d 7b 01 00 +
 * 2-byte length).
 */
const WAT = `
(module
  (import "ic0" "msg_arg_data_copy" (func $copy (param i32 i32 i32)))
  (import "ic0" "msg_arg_data_size" (func $size (result i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_cycles_refunded128" (func $refunded (param i32)))
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $call_data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $add (param i64 i64)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "cost_http_request" (func $cost (param i64 i64 i32)))
  (memory 1)
  (table 2 funcref)
  (elem (i32.const 0) $on_reply $on_reject)
  (data (i32.const 290) "DIDL\\01\\6d\\7b\\01\\00\\21")
  (data (i32.const 400) "http_request")
  (func $answer (param $rejected i32)
    (call $refunded (i32.const 316))
    (i32.store8 (i32.const 332) (local.get $rejected))
    (call $append (i32.const 290) (i32.const 43))
    (call $reply))
  (func $on_reply (param i32) (call $answer (i32.const 0)))
  (func $on_reject (param i32) (call $answer (i32.const 1)))
  (func (export "canister_update go") (local $n i32)
    (local.set $n (call $size))
    (call $copy (i32.const 1024) (i32.const 0) (local.get $n))
    (call $cost (i64.load (i32.const 1043)) (i64.load (i32.const 1051)) (i32.const 300))
    (call $call_new (i32.const 0) (i32.const 0) (i32.const 400) (i32.const 12) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 0))
    (call $call_data (i32.const 1059) (i32.sub (local.get $n) (i32.const 35)))
    (call $add (i64.const 0) (i64.load (i32.const 1035)))
    (drop (call $perform))))`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const idlFactory = ({ IDL: I }: { IDL: any }) => I.Service({ go: I.Func([I.Vec(I.Nat8)], [I.Vec(I.Nat8)], []) });
interface Service {
  go: (arg: Uint8Array) => Promise<Uint8Array>;
}

const url = 'https://example.org/prices?asset=ICP';
const headers = [{ name: 'Accept', value: 'application/json' }];
const maxResponse = 4_000n;
/** url + header names and values + body (no transform). */
const requestBytes = BigInt(url.length + headers.reduce((n, h) => n + h.name.length + h.value.length, 0));
const args = new Uint8Array(
  IDL.encode(
    [managementTypes.http_request_args],
    [{ url, max_response_bytes: [maxResponse], method: { get: null }, headers, body: [], transform: [], is_replicated: [], pricing_version: [] }],
  ),
);
/** The replica's legacy outcall formula on a subnet of n nodes. */
const fee = (n: bigint): bigint => (3_000_000n + 60_000n * n + 400n * requestBytes + 800n * maxResponse) * n;

function goArg(attach: bigint): Uint8Array {
  const a = new Uint8Array(24 + args.length);
  const v = new DataView(a.buffer);
  v.setBigUint64(0, attach, true);
  v.setBigUint64(8, requestBytes, true);
  v.setBigUint64(16, maxResponse, true);
  a.set(args, 24);
  assert.ok(a.length >= 128 && a.length < 16_384, 'a 2-byte Candid length');
  return a;
}

function parse(out: Uint8Array): { quote: bigint; refunded: bigint; rejected: boolean } {
  const v = new DataView(out.buffer, out.byteOffset, 33);
  const u128 = (o: number) => v.getBigUint64(o, true) + (v.getBigUint64(o + 8, true) << 64n);
  return { quote: u128(0), refunded: u128(16), rejected: out[32] === 1 };
}

describe('HTTPS outcall fees (PicJS)', () => {
  let server: PicServer;
  let wasm: Uint8Array;
  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileWat(WAT)]);
  });
  after(async () => {
    await server?.stop();
  });

  /** Runs go(attach) on a fresh instance, answering the outcall (if one is made) with a small body. */
  async function outcall(pic: PocketIc, attach: bigint) {
    const { canisterId } = await pic.setupCanister<Service>({ idlFactory, wasm });
    const actor = pic.createDeferredActor<Service>(idlFactory, canisterId);
    const execute = await actor.go(goArg(attach));
    await pic.tick(2);
    const pending = await pic.getPendingHttpsOutcalls();
    for (const p of pending) {
      await pic.mockPendingHttpsOutcall({ requestId: p.requestId, subnetId: p.subnetId, response: { type: 'success', body: new Uint8Array([1]), statusCode: 200, headers: [] } });
    }
    return { ...parse(await execute()), outcalls: pending.length };
  }

  it('normal schedule, 13 nodes: the quote is the formula and exactly what is taken; one cycle short is refused, nothing taken', async () => {
    const pic = await PocketIc.create(server.url);
    try {
      const ok = await outcall(pic, fee(13n) + 1_000n);
      assert.deepEqual(ok, { quote: fee(13n), refunded: 1_000n, rejected: false, outcalls: 1 });
      const short = await outcall(pic, fee(13n) - 1n);
      assert.deepEqual(short, { quote: fee(13n), refunded: fee(13n) - 1n, rejected: true, outcalls: 0 });
    } finally {
      await pic.tearDown();
    }
  });

  it('an application subnet on the Free schedule: quoted 0, nothing taken', async () => {
    const pic = await PocketIc.create(server.url, { application: [{ state: { type: SubnetStateType.New }, costSchedule: CanisterCyclesCostSchedule.Free }] });
    try {
      assert.deepEqual(await outcall(pic, 5_000n), { quote: 0n, refunded: 5_000n, rejected: false, outcalls: 1 });
    } finally {
      await pic.tearDown();
    }
  });
});
