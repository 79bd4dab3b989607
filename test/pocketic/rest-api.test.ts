/**
 * The PocketIC REST API on the wire (issue 14), without PicJS: the JSON conventions and error
 * shapes PicJS relies on (reference/pocketic-api.md §2–§4) — create errors as `{"Error"}`, other
 * errors as `{"message"}` (400, 404 for an unknown instance), lossless u64/u128 in and out,
 * base64 principals with `""` for aaaaa-aa, reject and error codes by name, PocketIC's texts for
 * time into the past and unknown messages, trailing slashes, and the 100-round await limit.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { IDL } from '@icp-sdk/core/candid';
import { startPocketIcServer, type RunningPocketIcServer } from '../../src/pocket-ic-server.ts';
import { compileWat } from '../support/wat.ts';

const ANON = 'BA==';

describe('PocketIC REST API', () => {
  let server: RunningPocketIcServer;
  let base: string;
  const post = async (path: string, body: string): Promise<{ status: number; text: string; json: any }> => {
    const r = await fetch(`${server.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    const text = await r.text();
    return { status: r.status, text, json: text ? JSON.parse(text) : null };
  };
  const call = async (canister: string, method: string, payload: Uint8Array, ep = '"None"'): Promise<any> => {
    const body = `{"sender":"${ANON}","canister_id":"${canister}","method":"${method}","payload":"${Buffer.from(payload).toString('base64')}","effective_principal":${ep}}`;
    const sub = await post(`${base}/update/submit_ingress_message`, body);
    if (!sub.json.Ok) return sub.json;
    return (await post(`${base}/update/await_ingress_message`, JSON.stringify(sub.json.Ok))).json;
  };

  before(async () => {
    server = await startPocketIcServer({ debugPrint: () => {} });
    const created = await post('/instances', '{"subnet_config_set":{"application":[{"state_config":"New","dts_flag":"Enabled","instruction_config":"Production"}]}}');
    assert.equal(created.status, 201);
    base = `/instances/${created.json.Created.instance_id}`;
  });
  after(async () => {
    await server?.stop();
  });

  it('create errors are {"Error":{"message"}}; other errors {"message"}, 404 for an unknown instance', async () => {
    const bad = await post('/instances', '{"subnet_config_set":{"application":[{"state_config":{"FromPath":"/x"}}]}}');
    assert.equal(bad.status, 400);
    assert.match(bad.json.Error.message, /state_config/);
    const unknown = await fetch(`${server.url}/instances/99/read/get_time`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(await unknown.json(), { message: 'Instance 99 not found' });
    const past = await post(`${base}/update/set_time`, '{"nanos_since_epoch":1}');
    assert.equal(past.status, 400);
    assert.deepEqual(past.json, { message: 'SettingTimeIntoPast((1620328630000000000, 1))' });
    const notJson = await post(`${base}/update/tick`, '{');
    assert.equal(notJson.status, 400);
    assert.match(notJson.json.message, /JSON/);
    const noMessage = await post(`${base}/update/await_ingress_message`, `{"effective_principal":"None","message_id":"${Buffer.alloc(32).toString('base64')}"}`);
    assert.match(noMessage.json.message, /^BadIngressMessage\(/);
    assert.equal((await fetch(`${server.url}/nothing`)).status, 404);
  });

  it('u128 cycles and u64 times are exact both ways; trailing slashes are accepted', async () => {
    const created = await call('', 'provisional_create_canister_with_cycles', new Uint8Array(IDL.encode([IDL.Record({ amount: IDL.Opt(IDL.Nat) })], [{ amount: [] }])));
    assert.ok("Ok" in created, JSON.stringify(created));
    const reply = IDL.decode([IDL.Record({ canister_id: IDL.Principal })], new Uint8Array(Buffer.from(created.Ok, 'base64')))[0] as unknown as { canister_id: { toText(): string; toUint8Array(): Uint8Array } };
    assert.equal(reply.canister_id.toText(), 'lxzze-o7777-77777-aaaaa-cai');
    const id = Buffer.from(reply.canister_id.toUint8Array()).toString('base64');
    const added = await post(`${base}/update/add_cycles/`, `{"canister_id":"${id}","amount":340282366920938463463374607431768211455}`);
    assert.equal(added.text, `{"cycles":${(1n << 128n) - 1n + 100_000_000_000_000n}}`);
    assert.equal((await post(`${base}/read/get_cycles`, `{"canister_id":"${id}"}`)).text, added.text);
    await post(`${base}/update/set_time`, '{"nanos_since_epoch":1893456000000000001}');
    assert.equal(await (await fetch(`${server.url}${base}/read/get_time/`)).text(), '{"nanos_since_epoch":1893456000000000001}');
  });

  it('rejects carry code names; submission rejects are not certified, executed ones are', async () => {
    const wasm = await compileWat(`(module (func (export "canister_update boom") unreachable) (memory 1))`);
    const notFound = await call('gAAAAAEBAQE=', 'x', new Uint8Array());
    assert.deepEqual(Object.keys(notFound.Err).sort(), ['certified', 'error_code', 'reject_code', 'reject_message']);
    assert.equal(notFound.Err.reject_code, 'DestinationInvalid');
    assert.equal(notFound.Err.error_code, 'CanisterNotFound');
    assert.equal(notFound.Err.certified, false);
    const install = await call('', 'install_code', new Uint8Array(IDL.encode([IDL.Record({ mode: IDL.Variant({ install: IDL.Null }), canister_id: IDL.Principal, wasm_module: IDL.Vec(IDL.Nat8), arg: IDL.Vec(IDL.Nat8) })], [{ mode: { install: null }, canister_id: (await import('@icp-sdk/core/principal')).Principal.fromText('lxzze-o7777-77777-aaaaa-cai'), wasm_module: wasm, arg: new Uint8Array() }])));
    assert.ok('Ok' in install, JSON.stringify(install));
    const boom = await call('///////gAAABAQ==', 'boom', new Uint8Array());
    assert.equal(boom.Err.error_code, 'CanisterTrapped');
    assert.equal(boom.Err.reject_code, 'CanisterError');
    assert.equal(boom.Err.certified, true);
    const mgmt = await post(`${base}/read/query`, `{"sender":"${ANON}","canister_id":"","method":"canister_status","payload":"","effective_principal":"None"}`);
    assert.equal(mgmt.json.Err.certified, false);
  });
});
