/**
 * The rest of PicJS 0.23's public API against bin/pocket-ic (issue 14), each call once: every
 * subnet kind and its mainnet id, the default effective canister id, specified ids on named
 * subnets, pub_key, canister settings and status, stop / start (the texts suites match on),
 * raw updateCall / queryCall with PicJS's error format, live mode with an agent on the HTTP
 * gateway.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { HttpAgent } from '@icp-sdk/core/agent';
import { Principal } from '@icp-sdk/core/principal';
import { PocketIc, SubnetStateType } from '@dfinity/pic';
import { startPicServer, type PicServer } from '../support/pocket-ic.ts';
import { compileMotokoFixture } from '../support/motoko.ts';
import { compileWat } from '../support/wat.ts';

const NEW = { state: { type: SubnetStateType.New } } as const;
/** `hello` answers `hi` (raw bytes); `fail` rejects with a message. */
const WAT = `(module
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reject" (func $reject (param i32 i32)))
  (memory 1) (data (i32.const 0) "hi") (data (i32.const 16) "not today")
  (func (export "canister_update hello") (call $append (i32.const 0) (i32.const 2)) (call $reply))
  (func (export "canister_query peek") (call $append (i32.const 0) (i32.const 2)) (call $reply))
  (func (export "canister_update fail") (call $reject (i32.const 16) (i32.const 9))))`;

describe('PicJS public API', () => {
  let server: PicServer;
  let pic: PocketIc;
  let wasm: Uint8Array;

  before(async () => {
    [server, wasm] = await Promise.all([startPicServer(), compileWat(WAT)]);
    pic = await PocketIc.create(server.url, { nns: NEW, sns: NEW, ii: NEW, fiduciary: NEW, bitcoin: NEW, system: [NEW], application: [NEW, NEW] });
  });
  after(async () => {
    await pic?.tearDown();
    await server?.stop();
  });

  it('lists every requested subnet with its kind, mainnet id and size', async () => {
    assert.equal((await pic.getNnsSubnet())?.id.toText(), 'tdb26-jop6k-aogll-7ltgs-eruif-6kk7m-qpktf-gdiqx-mxtrf-vb5e6-eqe');
    assert.equal((await pic.getSnsSubnet())?.id.toText(), 'x33ed-h457x-bsgyx-oqxqf-6pzwv-wkhzr-rm2j3-npodi-purzm-n66cg-gae');
    assert.equal((await pic.getInternetIdentitySubnet())?.id.toText(), 'uzr34-akd3s-xrdag-3ql62-ocgoh-ld2ao-tamcv-54e7j-krwgb-2gm4z-oqe');
    assert.equal((await pic.getBitcoinSubnet())?.id.toText(), 'w4rem-dv5e3-widiz-wbpea-kbttk-mnzfm-tzrc7-svcj3-kbxyb-zamch-hqe');
    assert.equal((await pic.getNnsSubnet())?.size, 40);
    assert.equal((await pic.getSystemSubnets()).length, 1);
    assert.equal((await pic.getApplicationSubnets()).length, 2);
    assert.equal((await pic.getTopology()).length, 8);
  });

  it('creates canisters from the first application subnet, at specified mainnet ids, and answers pub_key', async () => {
    // Named subnets take allocation ranges 1-6 in order; the first application subnet the 8th.
    const ecid = await pic.getDefaultEffectiveCanisterId();
    const app = (await pic.getApplicationSubnets())[0]!;
    assert.equal(app.canisterRanges[0]?.start.toText(), ecid.toText());
    const id = await pic.createCanister();
    assert.equal(id.toText(), ecid.toText());
    const ledger = await pic.createCanister({ targetCanisterId: Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai') as never });
    assert.equal((await pic.getCanisterSubnetId(ledger))?.toText(), (await pic.getNnsSubnet())?.id.toText());
    const key = await pic.getPubKey(app.id);
    assert.equal(key.length, 133);
    await assert.rejects(pic.getPubKey(Principal.fromText('aaaaa-aa') as never), /SubnetNotFound/);
  });

  it('a specified mainnet id on a named subnet nobody asked for creates the canister there, and lists the subnet', async () => {
    const plain = await PocketIc.create(server.url);
    try {
      assert.equal(await plain.getNnsSubnet(), undefined);
      const ledger = await plain.createCanister({ targetCanisterId: Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai') as never });
      assert.equal(ledger.toText(), 'ryjl3-tyaaa-aaaaa-aaaba-cai');
      assert.equal((await plain.getNnsSubnet())?.id.toText(), 'tdb26-jop6k-aogll-7ltgs-eruif-6kk7m-qpktf-gdiqx-mxtrf-vb5e6-eqe');
      assert.equal((await plain.getTopology()).length, 2);
      assert.equal((await plain.createCanister()).toText(), 'lxzze-o7777-77777-aaaaa-cai', 'allocation unchanged');
    } finally {
      await plain.tearDown();
    }
  });

  it('settings, status, stop and start with the texts suites match on', async () => {
    const controller = Principal.fromUint8Array(new Uint8Array([7, 7, 7]));
    const id = await pic.createCanister({ sender: controller as never });
    await pic.installCode({ canisterId: id, wasm, sender: controller as never });
    await pic.updateCanisterSettings({ canisterId: id, sender: controller as never, controllers: [controller as never], freezingThreshold: 1234n });
    const status = await pic.canisterStatus({ canisterId: id, sender: controller as never });
    assert.equal(status.settings.freezingThreshold, 1234n);
    assert.ok('running' in status.status);
    await pic.stopCanister({ canisterId: id, sender: controller as never });
    await assert.rejects(pic.queryCall({ canisterId: id, method: 'peek' }), new RegExp(`Canister ${id.toText()} is stopped`));
    await assert.rejects(pic.updateCall({ canisterId: id, method: 'hello' }), /is stopped.*Certified: false/);
    await pic.startCanister({ canisterId: id, sender: controller as never });
    assert.equal(new TextDecoder().decode(await pic.updateCall({ canisterId: id, method: 'hello' })), 'hi');
    assert.equal(new TextDecoder().decode(await pic.queryCall({ canisterId: id, method: 'peek' })), 'hi');
    await assert.rejects(
      pic.updateCall({ canisterId: id, method: 'fail' }),
      /^Error: Canister call failed: not today\. Reject code: CanisterReject\. Error code: CanisterRejectedMessage\. Certified: true$/,
    );
    await assert.rejects(pic.updateCall({ canisterId: id, method: 'nope' }), /Error code: CanisterMethodNotFound/);
    await assert.rejects(pic.reinstallCode({ canisterId: id, wasm, sender: Principal.anonymous() as never }), /Error code: CanisterInvalidController/);
  });

  it('makeLive: an agent reaches the instance through its HTTP gateway (certificates verified); stopLive ends it', async () => {
    const live = await PocketIc.create(server.url);
    try {
      const id = await live.createCanister();
      await live.installCode({ canisterId: id, wasm });
      const port = await live.makeLive();
      assert.equal(await live.makeLive(), port, 'live already: the same gateway');
      const agent = await HttpAgent.create({ host: `http://127.0.0.1:${port}`, shouldFetchRootKey: true });
      const reply = await agent.call(id.toText(), { methodName: 'hello', arg: new Uint8Array() });
      assert.ok(reply.response.ok);
      const q = await agent.query(id.toText(), { methodName: 'peek', arg: new Uint8Array() });
      assert.equal(q.status, 'replied');
      assert.ok(Math.abs((await live.getTime()) - Date.now()) < 60_000, 'live time follows the wall clock');
      // The gateway also serves canisters' http_request (the HTTP gateway protocol).
      const web = await live.createCanister();
      await live.installCode({ canisterId: web, wasm: (await compileMotokoFixture('WebCounter')).wasm });
      const page = await fetch(`http://127.0.0.1:${port}/?canisterId=${web.toText()}`);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /count/i);
      await live.stopLive();
      await assert.rejects(fetch(`http://127.0.0.1:${port}/api/v2/status`));
    } finally {
      await live.tearDown();
    }
  });
});
