/**
 * Tests of src/management/ic-did.ts, shapes.ts and codec.ts against candid/ic.did (the spec's attachment, verbatim):
 * the method table matches the `service ic` block, every named type matches a from-scratch
 * reading of ic.did, and args/replies of the implemented methods round-trip through Candid
 * (fixed samples plus fast-check properties for canister_settings and install_code_args).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import {
  decodeManagementArgs,
  decodeManagementReply,
  encodeManagementArgs,
  encodeManagementReply,
  ManagementDecodeError,
} from '../../src/management/codec.ts';
import { isManagementMethod, managementMethods, managementService, managementTypes, type ManagementMethodName } from '../../src/management/ic-did.ts';
import type {
  CanisterInstallMode,
  CanisterSettings,
  ImplementedManagementArgs,
  ImplementedManagementMethod,
  ImplementedManagementReplies,
  InstallCodeArgs,
  ManagementArgs,
  ManagementResult,
  Opt,
} from '../../src/management/shapes.ts';

const did = readFileSync(new URL('../../candid/ic.did', import.meta.url), 'utf8');
const didBody = did.replace(/\/\/[^\n]*/g, '');

// ---- (a) the service block, read with a regex ------------------------------------------------

interface ServiceEntry {
  name: string;
  args: string[];
  rets: string[];
  query: boolean;
}

function readService(text: string): ServiceEntry[] {
  const block = /service\s+ic\s*:\s*\{([\s\S]*)\}\s*;?\s*$/.exec(text);
  assert.ok(block, 'ic.did has a `service ic : { … }` block');
  const entries: ServiceEntry[] = [];
  const re = /(\w+)\s*:\s*\(([^)]*)\)\s*->\s*\(([^)]*)\)\s*(query)?\s*;/g;
  const list = (s: string) => s.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const m of block[1]!.matchAll(re)) {
    entries.push({ name: m[1]!, args: list(m[2]!), rets: list(m[3]!), query: m[4] === 'query' });
  }
  return entries;
}

const service = readService(didBody);

test('ic.did names its sources on top and the interface below', () => {
  assert.match(did, /^\/\/ The management canister's interface/);
  assert.match(did, /dfinity\/portal docs\/references\/_attachments\/ic\.did at 0484f2cf/);
  assert.match(did, /dfinity\/cdk-rs at c78c1fa5/);
  assert.ok(did.includes('\ntype canister_id = principal;\n'));
  assert.ok(did.endsWith('fetch_canister_logs : (fetch_canister_logs_args) -> (fetch_canister_logs_result) query;\n};\n'));
});

test('managementMethods has exactly the methods of `service ic`, with the right query flag', () => {
  assert.equal(service.length, 42, 'ic.did declares 42 methods');
  const names = service.map((e) => e.name);
  assert.deepEqual([...Object.keys(managementMethods)].sort(), [...names].sort());
  for (const e of service) {
    assert.ok(isManagementMethod(e.name), e.name);
    const m = managementMethods[e.name as keyof typeof managementMethods];
    assert.equal(m.query, e.query, `${e.name} query flag`);
    // Same named types, by identity, in the same order.
    const types = managementTypes as Record<string, IDL.Type>;
    assert.deepEqual(m.argTypes, e.args.map((a) => types[a]), `${e.name} args`);
    assert.deepEqual(m.retTypes, e.rets.map((r) => types[r]), `${e.name} results`);
  }
  assert.equal(isManagementMethod('toString'), false);
  assert.equal(isManagementMethod('list_canisters'), false);
  const funcs = (managementService as unknown as { _fields: [string, IDL.FuncClass][] })._fields;
  assert.deepEqual(
    funcs.filter(([, f]) => f.annotations.includes('query')).map(([n]) => n),
    ['canister_status', 'fetch_canister_logs'],
  );
});

// ---- every named type, against an independent reading of ic.did ------------------------------

type Ast =
  | { k: 'prim'; name: string }
  | { k: 'ref'; name: string }
  | { k: 'opt' | 'vec'; t: Ast }
  | { k: 'record' | 'variant'; fields: [string, Ast | null][] }
  | { k: 'func'; args: Ast[]; rets: Ast[]; ann: string[] };

const PRIMS = new Set([
  'nat', 'nat8', 'nat16', 'nat32', 'nat64', 'int', 'int8', 'int16', 'int32', 'int64', 'float32',
  'float64', 'bool', 'text', 'null', 'reserved', 'empty', 'principal', 'blob',
]);

/** A tiny recursive-descent reader of the Candid type syntax that ic.did uses. */
function parseDid(text: string): { types: Map<string, Ast> } {
  const tokens = text.match(/->|[A-Za-z_][A-Za-z0-9_]*|[{}();:=,]/g) ?? [];
  let i = 0;
  const peek = () => tokens[i];
  const next = () => tokens[i++]!;
  const expect = (t: string) => assert.equal(next(), t);
  function type(): Ast {
    const t = next();
    if (t === 'opt' || t === 'vec') return { k: t, t: type() };
    if (t === 'record' || t === 'variant') {
      expect('{');
      const fields: [string, Ast | null][] = [];
      while (peek() !== '}') {
        const name = next();
        let ft: Ast | null = null;
        if (peek() === ':') { next(); ft = type(); }
        fields.push([name, ft]);
        if (peek() === ';') next();
      }
      expect('}');
      return { k: t, fields };
    }
    if (t === 'func') {
      const list = () => {
        expect('(');
        const xs: Ast[] = [];
        while (peek() !== ')') { xs.push(type()); if (peek() === ',') next(); }
        expect(')');
        return xs;
      };
      const args = list();
      expect('->');
      const rets = list();
      const ann: string[] = [];
      while (peek() === 'query' || peek() === 'composite_query' || peek() === 'oneway') ann.push(next());
      return { k: 'func', args, rets, ann };
    }
    return PRIMS.has(t) ? { k: 'prim', name: t } : { k: 'ref', name: t };
  }
  const types = new Map<string, Ast>();
  while (peek() === 'type') {
    next();
    const name = next();
    expect('=');
    types.set(name, type());
    expect(';');
  }
  assert.equal(peek(), 'service', 'only type definitions precede the service');
  return { types };
}

function toIdl(ast: Ast, types: Map<string, Ast>): IDL.Type {
  const go = (a: Ast): IDL.Type => toIdl(a, types);
  switch (ast.k) {
    case 'prim': {
      const prims: Record<string, IDL.Type> = {
        nat: IDL.Nat, nat8: IDL.Nat8, nat16: IDL.Nat16, nat32: IDL.Nat32, nat64: IDL.Nat64,
        int: IDL.Int, int8: IDL.Int8, int16: IDL.Int16, int32: IDL.Int32, int64: IDL.Int64,
        float32: IDL.Float32, float64: IDL.Float64, bool: IDL.Bool, text: IDL.Text,
        null: IDL.Null, reserved: IDL.Reserved, empty: IDL.Empty, principal: IDL.Principal,
        blob: IDL.Vec(IDL.Nat8),
      };
      return prims[ast.name]!;
    }
    case 'ref': {
      const t = types.get(ast.name);
      assert.ok(t, `type ${ast.name} is defined`);
      return go(t);
    }
    case 'opt': return IDL.Opt(go(ast.t));
    case 'vec': return IDL.Vec(go(ast.t));
    case 'record':
      return IDL.Record(Object.fromEntries(ast.fields.map(([n, t]) => [n, t ? go(t) : IDL.Null])));
    case 'variant':
      return IDL.Variant(Object.fromEntries(ast.fields.map(([n, t]) => [n, t ? go(t) : IDL.Null])));
    case 'func':
      return IDL.Func(ast.args.map(go) as [IDL.Type], ast.rets.map(go) as [IDL.Type], ast.ann);
  }
}

const parsed = parseDid(didBody);

test('managementTypes has every named type of ic.did and no other', () => {
  assert.equal(parsed.types.size, 102);
  assert.deepEqual(Object.keys(managementTypes).sort(), [...parsed.types.keys()].sort());
});

test('every named type has the structure ic.did gives it', () => {
  const ours = managementTypes as Record<string, IDL.Type>;
  for (const [name, ast] of parsed.types) {
    assert.equal(ours[name]!.display(), toIdl(ast, parsed.types).display(), name);
  }
  // Display is not enough for opt/vec of blob vs vec nat8 aliases, so compare the wire type
  // tables too: the Candid encodings of the types must be byte-identical.
  for (const [name, ast] of parsed.types) {
    const typeBytes = (t: IDL.Type) => {
      const bytes = IDL.encode([IDL.Opt(t)], [[]]);
      return Buffer.from(bytes).toString('hex');
    };
    assert.equal(typeBytes(ours[name]!), typeBytes(toIdl(ast, parsed.types)), name);
  }
});

// ---- (b) round trips ----------------------------------------------------------------------------

const p = (text: string) => Principal.fromText(text);
const aliceCanister = p('rrkah-fqaaa-aaaaa-aaaaq-cai');
const bob = p('2vxsx-fae');
const bytes = (...xs: number[]) => new Uint8Array(xs);

const noSettings: CanisterSettings = {
  controllers: [], compute_allocation: [], memory_allocation: [], freezing_threshold: [],
  reserved_cycles_limit: [], log_visibility: [], wasm_memory_limit: [], wasm_memory_threshold: [],
  environment_variables: [], log_memory_limit: [], snapshot_visibility: [], status_visibility: [],
  minimum_incoming_canister_call_cycles: [],
};
const someSettings: CanisterSettings = {
  controllers: [[bob, aliceCanister]], compute_allocation: [50n], memory_allocation: [0n],
  freezing_threshold: [2_592_000n], reserved_cycles_limit: [5_000_000_000_000n],
  log_visibility: [{ allowed_viewers: [bob] }], wasm_memory_limit: [3n * 2n ** 30n],
  log_memory_limit: [4096n], snapshot_visibility: [{ public: null }], status_visibility: [{ controllers: null }],
  minimum_incoming_canister_call_cycles: [1_000n],
  wasm_memory_threshold: [0n], environment_variables: [[{ name: 'ENV', value: 'dev' }]],
};

// Served methods plus two whose shapes were dropped (no handler yet): their args still round-trip.
const samples: { [M in ImplementedManagementMethod | 'install_chunked_code' | 'canister_info']: ManagementArgs<M>[] } = {
  provisional_create_canister_with_cycles: [
    [{ amount: [], settings: [], specified_id: [], sender_canister_version: [] }],
    [{ amount: [10n ** 15n], settings: [someSettings], specified_id: [aliceCanister], sender_canister_version: [7n] }],
  ],
  provisional_top_up_canister: [[{ canister_id: aliceCanister, amount: 2n ** 80n }]],
  create_canister: [
    [{ settings: [], sender_canister_version: [] }],
    [{ settings: [noSettings], sender_canister_version: [2n ** 64n - 1n] }],
  ],
  install_code: [
    [{ mode: { install: null }, canister_id: aliceCanister, wasm_module: bytes(0, 0x61, 0x73, 0x6d), arg: bytes(), sender_canister_version: [] }],
    [{ mode: { upgrade: [] }, canister_id: aliceCanister, wasm_module: bytes(), arg: bytes(1, 2), sender_canister_version: [1n] }],
    [{ mode: { upgrade: [{ skip_pre_upgrade: [true], wasm_memory_persistence: [{ keep: null }] }] }, canister_id: aliceCanister, wasm_module: bytes(9), arg: bytes(), sender_canister_version: [] }],
  ],
  install_chunked_code: [
    [{ mode: { reinstall: null }, target_canister: aliceCanister, store_canister: [bob], chunk_hashes_list: [{ hash: new Uint8Array(32).fill(7) }], wasm_module_hash: new Uint8Array(32), arg: bytes(), sender_canister_version: [] }],
  ],
  uninstall_code: [[{ canister_id: aliceCanister, sender_canister_version: [3n] }]],
  update_settings: [
    [{ canister_id: aliceCanister, settings: someSettings, sender_canister_version: [] }],
    [{ canister_id: aliceCanister, settings: { ...noSettings, log_visibility: [{ public: null }] }, sender_canister_version: [] }],
  ],
  start_canister: [[{ canister_id: aliceCanister }]],
  stop_canister: [[{ canister_id: aliceCanister }]],
  canister_status: [[{ canister_id: aliceCanister }]],
  canister_info: [[{ canister_id: aliceCanister, num_requested_changes: [] }], [{ canister_id: aliceCanister, num_requested_changes: [20n] }]],
  delete_canister: [[{ canister_id: aliceCanister }]],
  deposit_cycles: [[{ canister_id: aliceCanister }]],
  raw_rand: [[]],
  ecdsa_public_key: [
    [{ canister_id: [], derivation_path: [], key_id: { curve: { secp256k1: null }, name: 'dfx_test_key' } }],
    [{ canister_id: [aliceCanister], derivation_path: [bytes(), bytes(0, 0, 0, 1)], key_id: { curve: { secp256k1: null }, name: 'key_1' } }],
  ],
  sign_with_ecdsa: [[{ message_hash: new Uint8Array(32).fill(1), derivation_path: [bytes(1)], key_id: { curve: { secp256k1: null }, name: 'test_key_1' } }]],
  schnorr_public_key: [[{ canister_id: [], derivation_path: [], key_id: { algorithm: { ed25519: null }, name: 'dfx_test_key' } }]],
  sign_with_schnorr: [
    [{ message: bytes(), derivation_path: [], key_id: { algorithm: { bip340secp256k1: null }, name: 'k' }, aux: [] }],
    [{ message: bytes(1, 2, 3), derivation_path: [bytes(9)], key_id: { algorithm: { bip340secp256k1: null }, name: 'k' }, aux: [{ bip341: { merkle_root_hash: new Uint8Array(32) } }] }],
  ],
  vetkd_public_key: [[{ canister_id: [], context: bytes(), key_id: { curve: { bls12_381_g2: null }, name: 'dfx_test_key' } }]],
  vetkd_derive_key: [[{ input: bytes(1), context: bytes(2), transport_public_key: new Uint8Array(48), key_id: { curve: { bls12_381_g2: null }, name: 'key_1' } }]],
  upload_chunk: [[{ canister_id: aliceCanister, chunk: bytes(1, 2, 3) }]],
  stored_chunks: [[{ canister_id: aliceCanister }]],
  clear_chunk_store: [[{ canister_id: aliceCanister }]],
  fetch_canister_logs: [
    [{ canister_id: aliceCanister, filter: [] }],
    [{ canister_id: aliceCanister, filter: [{ by_idx: { start: 2n, end: 5n } }] }],
    [{ canister_id: aliceCanister, filter: [{ by_timestamp_nanos: { start: 0n, end: 2n ** 64n - 1n } }] }],
  ],
  take_canister_snapshot: [
    [{ canister_id: aliceCanister, replace_snapshot: [], uninstall_code: [], sender_canister_version: [] }],
    [{ canister_id: aliceCanister, replace_snapshot: [bytes(0, 1)], uninstall_code: [true], sender_canister_version: [3n] }],
  ],
  load_canister_snapshot: [[{ canister_id: aliceCanister, snapshot_id: bytes(9), sender_canister_version: [] }]],
  list_canister_snapshots: [[{ canister_id: aliceCanister }]],
  delete_canister_snapshot: [[{ canister_id: aliceCanister, snapshot_id: bytes(9) }]],
  read_canister_snapshot_metadata: [[{ canister_id: aliceCanister, snapshot_id: bytes(9) }]],
  read_canister_snapshot_data: [
    [{ canister_id: aliceCanister, snapshot_id: bytes(9), kind: { wasm_memory: { offset: 65_536n, size: 2_000_000n } } }],
    [{ canister_id: aliceCanister, snapshot_id: bytes(9), kind: { wasm_chunk: { hash: new Uint8Array(32) } } }],
  ],
  upload_canister_snapshot_metadata: [[{
    canister_id: aliceCanister, replace_snapshot: [], wasm_module_size: 10n, globals: [{ i32: -1 }, { i64: 2n ** 63n - 1n }, { f64: 0.5 }],
    wasm_memory_size: 65_536n, stable_memory_size: 0n, certified_data: bytes(1), global_timer: [{ active: 5n }], on_low_wasm_memory_hook_status: [],
  }]],
  upload_canister_snapshot_data: [[{ canister_id: aliceCanister, snapshot_id: bytes(9), kind: { stable_memory: { offset: 3n } }, chunk: bytes(1, 2) }]],
};

test('args of every implemented method round-trip through encode/decode', () => {
  for (const [method, cases] of Object.entries(samples)) {
    const m = method as ManagementMethodName;
    for (const args of cases) {
      const wire = encodeManagementArgs(m, args as never);
      assert.deepEqual(decodeManagementArgs(m, wire), args, method);
    }
  }
});

test('replies of implemented methods round-trip; unit replies encode as DIDL\\0\\0', () => {
  const status: ImplementedManagementReplies['canister_status'] = [{
    status: { running: null }, ready_for_migration: false, version: 3n,
    settings: {
      controllers: [bob], compute_allocation: 0n, memory_allocation: 0n, freezing_threshold: 2_592_000n,
      reserved_cycles_limit: 5_000_000_000_000n, log_visibility: { controllers: null },
      log_memory_limit: 4096n, snapshot_visibility: { public: null }, status_visibility: { allowed_viewers: [bob] },
      minimum_incoming_canister_call_cycles: 0n,
      wasm_memory_limit: 3_221_225_472n, wasm_memory_threshold: 0n, environment_variables: [],
    },
    module_hash: [new Uint8Array(32).fill(0xab)], memory_size: 1234n,
    memory_metrics: {
      wasm_memory_size: 1n, stable_memory_size: 2n, global_memory_size: 3n, wasm_binary_size: 4n,
      custom_sections_size: 5n, canister_history_size: 6n, wasm_chunk_store_size: 7n, snapshots_size: 8n,
      log_memory_store_size: 9n,
    },
    cycles: 10n ** 13n, reserved_cycles: 0n, idle_cycles_burned_per_day: 99n,
    query_stats: { num_calls_total: 0n, num_instructions_total: 0n, request_payload_bytes_total: 0n, response_payload_bytes_total: 0n },
  }];
  assert.deepEqual(decodeManagementReply('canister_status', encodeManagementReply('canister_status', status)), status);
  const info: ManagementResult<'canister_info'> = [{
    total_num_changes: 2n,
    recent_changes: [
      { timestamp_nanos: 1n, canister_version: 0n, origin: { from_user: { user_id: bob } }, details: [{ creation: { controllers: [bob], environment_variables_hash: [] } }] },
      { timestamp_nanos: 2n, canister_version: 1n, origin: { from_canister: { canister_id: aliceCanister, canister_version: [4n] } }, details: [{ code_deployment: { mode: { install: null }, module_hash: new Uint8Array(32) } }] },
      { timestamp_nanos: 3n, canister_version: 2n, origin: { from_user: { user_id: bob } }, details: [{ load_snapshot: { from_canister_id: [], canister_version: 1n, snapshot_id: bytes(1), taken_at_timestamp: 5n, source: { taken_from_canister: null } } }] },
    ],
    module_hash: [], controllers: [bob],
  }];
  assert.deepEqual(decodeManagementReply('canister_info', encodeManagementReply('canister_info', info)), info);
  const rand: ImplementedManagementReplies['raw_rand'] = [new Uint8Array(32).fill(3)];
  assert.deepEqual(decodeManagementReply('raw_rand', encodeManagementReply('raw_rand', rand)), rand);
  const created: ImplementedManagementReplies['create_canister'] = [{ canister_id: aliceCanister }];
  assert.deepEqual(decodeManagementReply('create_canister', encodeManagementReply('create_canister', created)), created);
  assert.deepEqual([...encodeManagementReply('install_code', [])], [0x44, 0x49, 0x44, 0x4c, 0, 0]);
  assert.throws(() => encodeManagementReply('install_code', [1] as never), TypeError);
  assert.throws(() => encodeManagementReply('raw_rand', ['nope'] as never), /ic00 method raw_rand: cannot encode value/);
});

test('decoding is strict and names the method', () => {
  const good = encodeManagementArgs('canister_status', [{ canister_id: aliceCanister }]);
  const cases: [Uint8Array, string][] = [
    [bytes(), 'Message length smaller than magic number'],
    [bytes(0, 0, 0, 0, 0), 'Wrong magic number: "\\u0000\\u0000\\u0000\\u0000"'],
    [new TextEncoder().encode('DIDL\x00\x00'), 'Wrong number of return values'],
    [IDL.encode([IDL.Text], ['x']), 'type mismatch: type on the wire text, expect type record {canister_id:principal}'],
    [IDL.encode([IDL.Record({ canister_id: IDL.Text })], [{ canister_id: 'x' }]), 'type mismatch: type on the wire text, expect type principal'],
    [IDL.encode([IDL.Record({ foo: IDL.Nat })], [{ foo: 1n }]), "Cannot find required field 'canister_id' in record, expected fields: [canister_id], received fields: [_5097222_]"],
    [new Uint8Array([...good, 0]), 'decode: Left-over bytes'],
    [good.slice(0, -2), 'unexpected end of buffer'],
  ];
  for (const [wire, text] of cases) {
    assert.throws(
      () => decodeManagementArgs('canister_status', wire),
      (e: unknown) => {
        assert.ok(e instanceof ManagementDecodeError);
        assert.equal(e.method, 'canister_status');
        assert.equal(e.candidMessage, text);
        assert.equal(e.message, `Failed to decode the Candid payload of ic00 method canister_status: ${text}`);
        return true;
      },
    );
  }
  // Subtyping stays allowed: extra wire fields and trailing extra arguments are skipped.
  const extra = IDL.encode(
    [IDL.Record({ canister_id: IDL.Principal, zzz: IDL.Nat }), IDL.Text],
    [{ canister_id: aliceCanister, zzz: 5n }, 'extra'],
  );
  assert.deepEqual(decodeManagementArgs('canister_status', extra), [{ canister_id: aliceCanister }]);
  // A wrong key variant is a decode error, not a silent default.
  const wrongCurve = IDL.encode(
    [IDL.Record({ message_hash: IDL.Vec(IDL.Nat8), derivation_path: IDL.Vec(IDL.Vec(IDL.Nat8)), key_id: IDL.Record({ curve: IDL.Variant({ secp256r1: IDL.Null }), name: IDL.Text }) })],
    [{ message_hash: new Uint8Array(32), derivation_path: [], key_id: { curve: { secp256r1: null }, name: 'k' } }],
  );
  assert.throws(() => decodeManagementArgs('sign_with_ecdsa', wrongCurve), /Cannot find field hash _492385587_ in variant, expected fields: \[secp256k1\]/);
  assert.throws(() => decodeManagementArgs('no_such_method' as never, good), TypeError);
});

test('derivation_path decodes at any length (the 255 bound is checked elsewhere)', () => {
  for (const n of [0, 255, 256, 1000]) {
    const args = [{ message_hash: new Uint8Array(32), derivation_path: Array.from({ length: n }, (_, i) => bytes(i & 0xff)), key_id: { curve: { secp256k1: null }, name: 'k' } }] as ImplementedManagementArgs['sign_with_ecdsa'];
    const [decoded] = decodeManagementArgs('sign_with_ecdsa', encodeManagementArgs('sign_with_ecdsa', args));
    assert.equal(decoded.derivation_path.length, n);
  }
});

// ---- properties ---------------------------------------------------------------------------------

const arbPrincipal = fc.uint8Array({ maxLength: 29 }).map((b) => Principal.fromUint8Array(b));
const arbNat = fc.bigInt({ min: 0n, max: 2n ** 130n });
const arbNat64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n });
const arbBlob = fc.uint8Array({ maxLength: 64 });
// The Candid encoder calls `x.hasOwnProperty`, so records must not have a null prototype.
const rec = <T>(model: { [K in keyof T]: fc.Arbitrary<T[K]> }): fc.Arbitrary<T> =>
  fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<T>;
const opt = <T>(a: fc.Arbitrary<T>): fc.Arbitrary<Opt<T>> =>
  fc.option(a, { nil: undefined }).map((v) => (v === undefined ? [] : [v]) as Opt<T>);

const arbSettings: fc.Arbitrary<CanisterSettings> = rec({
  controllers: opt(fc.array(arbPrincipal, { maxLength: 10 })),
  compute_allocation: opt(arbNat),
  memory_allocation: opt(arbNat),
  freezing_threshold: opt(arbNat),
  reserved_cycles_limit: opt(arbNat),
  log_visibility: opt(
    fc.oneof(
      fc.constant({ controllers: null } as const),
      fc.constant({ public: null } as const),
      fc.array(arbPrincipal, { maxLength: 4 }).map((v) => ({ allowed_viewers: v })),
    ),
  ),
  wasm_memory_limit: opt(arbNat),
  wasm_memory_threshold: opt(arbNat),
  environment_variables: opt(fc.array(rec<{ name: string; value: string }>({ name: fc.string(), value: fc.string() }), { maxLength: 5 })),
  log_memory_limit: opt(arbNat),
  snapshot_visibility: opt(fc.constant({ public: null } as const)),
  status_visibility: opt(fc.array(arbPrincipal, { maxLength: 2 }).map((v) => ({ allowed_viewers: v }))),
  minimum_incoming_canister_call_cycles: opt(arbNat),
});

const arbMode: fc.Arbitrary<CanisterInstallMode> = fc.oneof(
  fc.constant({ install: null } as const),
  fc.constant({ reinstall: null } as const),
  opt(
    rec({
      skip_pre_upgrade: opt(fc.boolean()),
      wasm_memory_persistence: opt(fc.constantFrom({ keep: null } as const, { replace: null } as const)),
    }),
  ).map((u) => ({ upgrade: u })),
);

const arbInstallCode: fc.Arbitrary<InstallCodeArgs> = rec({
  mode: arbMode,
  canister_id: arbPrincipal,
  wasm_module: fc.uint8Array({ maxLength: 512 }),
  arg: arbBlob,
  sender_canister_version: opt(arbNat64),
});

test('property: canister_settings round-trips (update_settings, create_canister, provisional create)', () => {
  fc.assert(
    fc.property(arbSettings, arbPrincipal, opt(arbNat64), opt(arbNat), (settings, id, version, amount) => {
      const u: ImplementedManagementArgs['update_settings'] = [{ canister_id: id, settings, sender_canister_version: version }];
      assert.deepEqual(decodeManagementArgs('update_settings', encodeManagementArgs('update_settings', u)), u);
      const c: ImplementedManagementArgs['create_canister'] = [{ settings: [settings], sender_canister_version: version }];
      assert.deepEqual(decodeManagementArgs('create_canister', encodeManagementArgs('create_canister', c)), c);
      const pc: ImplementedManagementArgs['provisional_create_canister_with_cycles'] = [{ amount, settings: [settings], specified_id: [id], sender_canister_version: version }];
      assert.deepEqual(
        decodeManagementArgs('provisional_create_canister_with_cycles', encodeManagementArgs('provisional_create_canister_with_cycles', pc)),
        pc,
      );
    }),
    { numRuns: 200 },
  );
});

test('property: install_code_args round-trip, and re-encoding is byte-identical', () => {
  fc.assert(
    fc.property(arbInstallCode, (args) => {
      const wire = encodeManagementArgs('install_code', [args]);
      const decoded = decodeManagementArgs('install_code', wire);
      assert.deepEqual(decoded, [args]);
      assert.deepEqual(encodeManagementArgs('install_code', decoded), wire);
    }),
    { numRuns: 200 },
  );
});

test('property: truncating a valid install_code payload never decodes', () => {
  fc.assert(
    fc.property(arbInstallCode, fc.nat(), (args, cut) => {
      const wire = encodeManagementArgs('install_code', [args]);
      const n = cut % wire.length;
      assert.throws(() => decodeManagementArgs('install_code', wire.slice(0, n)), ManagementDecodeError);
    }),
    { numRuns: 200 },
  );
});
