/**
 * Effective canister id of requests to `aaaaa-aa` (interface spec §"Effective canister id"):
 * which methods take it from `canister_id`, `target_canister`, any principal, or have none, and
 * the replica's reject texts when there is none or the payload does not decode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import {
  effectiveCanisterIdOf,
  effectiveCanisterIdRule,
  noEffectiveCanisterIdError,
} from '../../src/management/effective-canister-id.ts';
import type { EffectiveCanisterIdRule } from '../../src/management/effective-canister-id.ts';
import { encodeManagementArgs } from '../../src/management/codec.ts';
import { managementMethods } from '../../src/management/ic-did.ts';
import { IcError } from '../../src/types/ic-error.ts';

const target = Principal.fromText('rrkah-fqaaa-aaaaa-aaaaq-cai');
const store = Principal.fromText('ryjl3-tyaaa-aaaaa-aaaba-cai');

function rulesByKind(kind: 'call' | 'query'): Record<EffectiveCanisterIdRule, string[]> {
  const out: Record<EffectiveCanisterIdRule, string[]> = { any: [], target_canister: [], canister_id: [], none: [] };
  for (const m of Object.keys(managementMethods)) out[effectiveCanisterIdRule(m, kind)].push(m);
  for (const k of Object.keys(out) as EffectiveCanisterIdRule[]) out[k].sort();
  return out;
}

test('which methods count, per ic.did argument types (update calls)', () => {
  assert.deepEqual(rulesByKind('call'), {
    any: ['provisional_create_canister_with_cycles'],
    target_canister: ['install_chunked_code'],
    canister_id: [
      'canister_info', 'canister_metadata', 'canister_status', 'clear_chunk_store', 'delete_canister',
      'delete_canister_snapshot', 'deposit_cycles', 'fetch_canister_logs', 'install_code',
      'list_canister_snapshots', 'load_canister_snapshot', 'provisional_top_up_canister',
      'read_canister_snapshot_data', 'read_canister_snapshot_metadata', 'start_canister',
      'stop_canister', 'stored_chunks', 'take_canister_snapshot', 'uninstall_code',
      'update_settings', 'upload_canister_snapshot_data', 'upload_canister_snapshot_metadata',
      'upload_chunk',
    ],
    none: [
      'bitcoin_get_balance', 'bitcoin_get_block_headers', 'bitcoin_get_current_fee_percentiles',
      'bitcoin_get_utxos', 'bitcoin_send_transaction', 'create_canister', 'ecdsa_public_key',
      'flexible_http_request', 'http_request', 'node_metrics_history', 'raw_rand',
      'schnorr_public_key', 'sign_with_ecdsa', 'sign_with_schnorr', 'subnet_info',
      'vetkd_derive_key', 'vetkd_public_key',
    ],
  });
  assert.equal(effectiveCanisterIdRule('no_such_method'), 'none');
  assert.equal(effectiveCanisterIdRule('hasOwnProperty'), 'none');
});

test('queries only use the canister_id rule', () => {
  const q = rulesByKind('query');
  assert.deepEqual(q.any, []);
  assert.deepEqual(q.target_canister, []);
  assert.ok(q.none.includes('provisional_create_canister_with_cycles'));
  assert.ok(q.none.includes('install_chunked_code'));
  assert.ok(q.canister_id.includes('fetch_canister_logs'));
});

test('provisional_create_canister_with_cycles: any principal, whatever the payload', () => {
  const arg = encodeManagementArgs('provisional_create_canister_with_cycles', [
    { amount: [], settings: [], specified_id: [target], sender_canister_version: [] },
  ]);
  assert.equal(effectiveCanisterIdOf('provisional_create_canister_with_cycles', arg), 'any');
  assert.equal(effectiveCanisterIdOf('provisional_create_canister_with_cycles', new Uint8Array()), 'any');
  assert.equal(effectiveCanisterIdOf('provisional_create_canister_with_cycles', arg, 'query'), undefined);
});

test('install_chunked_code: target_canister, not store_canister', () => {
  const arg = encodeManagementArgs('install_chunked_code', [{
    mode: { install: null }, target_canister: target, store_canister: [store], chunk_hashes_list: [],
    wasm_module_hash: new Uint8Array(32), arg: new Uint8Array(), sender_canister_version: [],
  }]);
  const id = effectiveCanisterIdOf('install_chunked_code', arg);
  assert.ok(id instanceof Principal);
  assert.equal(id.toText(), target.toText());
});

test('canister_id methods return that principal', () => {
  const cases: [string, Uint8Array][] = [
    ['canister_status', encodeManagementArgs('canister_status', [{ canister_id: target }])],
    ['start_canister', encodeManagementArgs('start_canister', [{ canister_id: target }])],
    ['stop_canister', encodeManagementArgs('stop_canister', [{ canister_id: target }])],
    ['delete_canister', encodeManagementArgs('delete_canister', [{ canister_id: target }])],
    ['deposit_cycles', encodeManagementArgs('deposit_cycles', [{ canister_id: target }])],
    ['uninstall_code', encodeManagementArgs('uninstall_code', [{ canister_id: target, sender_canister_version: [] }])],
    ['canister_info', encodeManagementArgs('canister_info', [{ canister_id: target, num_requested_changes: [3n] }])],
    ['provisional_top_up_canister', encodeManagementArgs('provisional_top_up_canister', [{ canister_id: target, amount: 1n }])],
    ['install_code', encodeManagementArgs('install_code', [{ mode: { reinstall: null }, canister_id: target, wasm_module: new Uint8Array([0, 97, 115, 109]), arg: new Uint8Array(), sender_canister_version: [] }])],
    ['update_settings', IDL.encode(
      [IDL.Record({ canister_id: IDL.Principal, settings: IDL.Record({}) })],
      [{ canister_id: target, settings: {} }],
    )],
    ['fetch_canister_logs', IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: target }])],
  ];
  for (const [method, arg] of cases) {
    const id = effectiveCanisterIdOf(method, arg);
    assert.ok(id instanceof Principal, method);
    assert.equal(id.toText(), target.toText(), method);
  }
  const logs = effectiveCanisterIdOf('fetch_canister_logs', cases.at(-1)![1], 'query');
  assert.ok(logs instanceof Principal);
});

test('methods without a canister_id principal field have none (opt canister_id does not count)', () => {
  const withOptId = encodeManagementArgs('ecdsa_public_key', [
    { canister_id: [target], derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'k' } },
  ]);
  assert.equal(effectiveCanisterIdOf('ecdsa_public_key', withOptId), undefined);
  assert.equal(effectiveCanisterIdOf('raw_rand', encodeManagementArgs('raw_rand', [])), undefined);
  assert.equal(effectiveCanisterIdOf('create_canister', encodeManagementArgs('create_canister', [{ settings: [], sender_canister_version: [] }])), undefined);
  // A record with canister_id sent to a method whose type has none still has no effective id.
  const stray = IDL.encode([IDL.Record({ canister_id: IDL.Principal })], [{ canister_id: target }]);
  assert.equal(effectiveCanisterIdOf('raw_rand', stray), undefined);
  assert.equal(effectiveCanisterIdOf('no_such_method', stray), undefined);
});

test('the replica texts when there is no effective canister id', () => {
  const unknown = noEffectiveCanisterIdError('no_such_method');
  assert.equal(unknown.message, 'ic00 interface does not expose method no_such_method');
  assert.equal(unknown.errorCode, 'IC0536');
  assert.equal(unknown.rejectCode, 5);
  const notAllowed = noEffectiveCanisterIdError('raw_rand');
  assert.equal(notAllowed.message, 'ic00 method raw_rand can not be called via ingress messages');
  assert.equal(notAllowed.errorCode, 'IC0406');
  assert.equal(notAllowed.rejectCode, 4);
});

test('an undecodable payload is IC0408 with the replica wording', () => {
  const cases: [string, Uint8Array, string][] = [
    ['canister_status', new Uint8Array(), 'Message length smaller than magic number'],
    ['install_chunked_code', IDL.encode([IDL.Record({ target_canister: IDL.Text })], [{ target_canister: 'x' }]),
      "Cannot find required field 'arg' in record"],
    ['start_canister', IDL.encode([IDL.Record({ canister_id: IDL.Text })], [{ canister_id: 'x' }]),
      'type mismatch: type on the wire text, expect type principal'],
  ];
  for (const [method, arg, inner] of cases) {
    assert.throws(
      () => effectiveCanisterIdOf(method, arg),
      (e: unknown) => {
        assert.ok(e instanceof IcError);
        assert.equal(e.errorCode, 'IC0408');
        assert.equal(e.rejectCode, 4);
        const prefix = `Failed to parse payload for ic00 method ${method}: IC0408: Error decoding candid: `;
        assert.ok(e.message.startsWith(prefix + inner), e.message);
        return true;
      },
    );
  }
});
