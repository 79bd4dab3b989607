/**
 * Tests for the Candid-text → IDL factory helper: method names, annotations, and byte-equal
 * encodings against hand-written IDL, with both @icp-sdk/core 6's IDL and agent-js 3's IDL.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { IDL3, Principal3 } from '../clients/agent-js-3/index.ts';
import { idlFactoryFromCandid } from '../../src/candid/candid-text.ts';

/** One method check: expected annotations, the hand-written func type, and sample values. */
type MethodCase = { anns: string[]; func: any; args: unknown[]; rets: unknown[] };
/** Builds the expected methods with a given IDL and its matching Principal class. */
type Methods = (I: any, P: any) => Record<string, MethodCase>;

const LIBS: Array<[string, any, any]> = [['@icp-sdk/core', IDL, Principal], ['agent-js 3', IDL3, Principal3]];
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Builds the factory with each IDL and compares every method against the hand-written one. */
function check(name: string, did: string, methods: Methods): void {
  const factory = idlFactoryFromCandid(did);
  for (const [lib, I, P] of LIBS) {
    const svc = factory({ IDL: I });
    assert.ok(svc instanceof I.ServiceClass, `${name}/${lib}: not a service`);
    const expected = methods(I, P);
    const built = new Map<string, any>(svc._fields);
    assert.deepEqual([...built.keys()].sort(), Object.keys(expected).sort(), `${name}/${lib}: method names`);
    const ref = [P.fromText('aaaaa-aa'), 'm'];
    for (const [m, mc] of Object.entries(expected)) {
      const got = built.get(m);
      const want = mc.func;
      const where = `${name}/${lib}/${m}`;
      assert.ok(got instanceof I.FuncClass, `${where}: not a func`);
      assert.deepEqual(got.annotations, mc.anns, `${where}: annotations`);
      assert.equal(got.argTypes.length, want.argTypes.length, `${where}: arity`);
      assert.equal(hex(I.encode(got.argTypes, mc.args)), hex(I.encode(want.argTypes, mc.args)), `${where}: args`);
      assert.equal(hex(I.encode(got.retTypes, mc.rets)), hex(I.encode(want.retTypes, mc.rets)), `${where}: rets`);
      // The function type itself, as a reference value, encodes identically too (incl. annotations).
      assert.equal(hex(I.encode([got], [ref])), hex(I.encode([want], [ref])), `${where}: func type`);
      // Round trip through the built types.
      assert.deepEqual(I.decode(got.retTypes, I.encode(want.retTypes, mc.rets)), mc.rets, `${where}: decode`);
    }
  }
}

const MOTOKO_EXAMPLE = `service : {
  balance: () -> (nat);
  getCounter: () -> (nat) query;
  publicKey: () -> (variant {
                      Err: text;
                      Ok: record {public_key_hex: text;};
                    });
  sign: (messageHash: blob) ->
   (variant {
      Err: text;
      Ok: record {signature_hex: text;};
    });
  whoami: () -> (principal) query;
}
`;

test('Motoko candid:service example', () => {
  const pk = (I: any) => I.Variant({ Err: I.Text, Ok: I.Record({ public_key_hex: I.Text }) });
  const sig = (I: any) => I.Variant({ Err: I.Text, Ok: I.Record({ signature_hex: I.Text }) });
  check('motoko', MOTOKO_EXAMPLE, (I, P) => ({
      balance: { anns: [], func: I.Func([], [I.Nat], []), args: [], rets: [42n] },
      getCounter: { anns: ['query'], func: I.Func([], [I.Nat], ['query']), args: [], rets: [7n] },
      publicKey: { anns: [], func: I.Func([], [pk(I)], []), args: [], rets: [{ Ok: { public_key_hex: 'ab' } }] },
      sign: { anns: [], func: I.Func([I.Vec(I.Nat8)], [sig(I)], []), args: [new Uint8Array([1, 2, 3])], rets: [{ Err: 'no' }] },
      whoami: { anns: ['query'], func: I.Func([], [I.Principal], ['query']), args: [], rets: [P.fromText('aaaaa-aa')] },
  }));
});

test('recursive type, type aliases, init args and service reference', () => {
  const did = `
    // a linked list
    type List = opt record { head: nat; tail: List };
    type Tree = variant { leaf: int; node: record { left: Tree; right: Tree } };
    /* block /* nested */ comment */
    type S = service { sum: (List) -> (nat) query; depth: (Tree) -> (nat32) composite_query };
    service : (init: text, opt nat) -> S
  `;
  const list = (I: any) => { const L = I.Rec(); L.fill(I.Opt(I.Record({ head: I.Nat, tail: L }))); return L; };
  const tree = (I: any) => { const T = I.Rec(); T.fill(I.Variant({ leaf: I.Int, node: I.Record({ left: T, right: T }) })); return T; };
  const l = [{ head: 1n, tail: [{ head: 2n, tail: [] }] }];
  const t = { node: { left: { leaf: -1n }, right: { node: { left: { leaf: 2n }, right: { leaf: 3n } } } } };
  check('recursive', did, I => ({
      sum: { anns: ['query'], func: I.Func([list(I)], [I.Nat], ['query']), args: [l], rets: [3n] },
      depth: { anns: ['composite_query'], func: I.Func([tree(I)], [I.Nat32], ['composite_query']), args: [t], rets: [3] },
  }));
});

test('primitives, tuples, numeric and quoted fields, variants, func/service references', () => {
  const did = `
    type Prims = record {
      a: nat; b: nat8; c: nat16; d: nat32; e: nat64; f: int; g: int8; h: int16; i: int32; j: int64;
      k: float32; l: float64; m: bool; n: text; o: null; p: reserved; q: principal; r: blob;
    };
    type Pair = record { nat; text };
    type Mixed = record { 0: nat; 5: text; 6: bool; "a-b": int; "type": opt vec nat };
    type Color = variant { red; green; "dark-blue"; rgb: record { nat8; nat8; nat8 }; 7: text };
    type Callback = func (nat) -> () oneway;
    type Svc = service { "do-it": (text) -> (); cb: Callback };
    service Named : {
      prims: (Prims) -> (Prims) query;
      pair: (p: Pair, extra: vec Pair) -> (Pair, opt Pair);
      mixed: (Mixed) -> (Mixed);
      color: (vec Color) -> (Color);
      notify: (Callback, Svc) -> () oneway;
      "quoted-method": (opt empty) -> (reserved);
      cbRef: Callback;
    };
  `;
  const prims = (I: any) => I.Record({
    a: I.Nat, b: I.Nat8, c: I.Nat16, d: I.Nat32, e: I.Nat64, f: I.Int, g: I.Int8, h: I.Int16, i: I.Int32, j: I.Int64,
    k: I.Float32, l: I.Float64, m: I.Bool, n: I.Text, o: I.Null, p: I.Reserved, q: I.Principal, r: I.Vec(I.Nat8),
  });
  const pair = (I: any) => I.Tuple(I.Nat, I.Text);
  const mixed = (I: any) => I.Record({ _0_: I.Nat, _5_: I.Text, _6_: I.Bool, 'a-b': I.Int, type: I.Opt(I.Vec(I.Nat)) });
  const color = (I: any) => I.Variant({ red: I.Null, green: I.Null, 'dark-blue': I.Null, rgb: I.Tuple(I.Nat8, I.Nat8, I.Nat8), _7_: I.Text });
  const cb = (I: any) => I.Func([I.Nat], [], ['oneway']);
  const svc = (I: any) => I.Service({ 'do-it': I.Func([I.Text], [], []), cb: cb(I) });
  const pv = (I: any, P: any) => ({ a: 1n, b: 2, c: 3, d: 4, e: 5n, f: -6n, g: -7, h: -8, i: -9, j: -10n, k: 1.5, l: 2.25, m: true, n: 'x', o: null, p: null, q: P.fromText('aaaaa-aa'), r: new Uint8Array([9]) });
  const mv = { _0_: 1n, _5_: 'five', _6_: false, 'a-b': -3n, type: [[1n, 2n]] };
  check('kitchen-sink', did, (I, P) => ({
      prims: { anns: ['query'], func: I.Func([prims(I)], [prims(I)], ['query']), args: [pv(I, P)], rets: [pv(I, P)] },
      pair: { anns: [], func: I.Func([pair(I), I.Vec(pair(I))], [pair(I), I.Opt(pair(I))], []), args: [[1n, 'a'], [[2n, 'b']]], rets: [[3n, 'c'], []] },
      mixed: { anns: [], func: I.Func([mixed(I)], [mixed(I)], []), args: [mv], rets: [mv] },
      color: { anns: [], func: I.Func([I.Vec(color(I))], [color(I)], []), args: [[{ red: null }, { 'dark-blue': null }, { rgb: [1, 2, 3] }]], rets: [{ _7_: 'seven' }] },
      notify: { anns: ['oneway'], func: I.Func([cb(I), svc(I)], [], ['oneway']), args: [[P.fromText('aaaaa-aa'), 'f'], P.fromText('aaaaa-aa')], rets: [] },
      'quoted-method': { anns: [], func: I.Func([I.Opt(I.Empty)], [I.Reserved], []), args: [[]], rets: [null] },
      cbRef: { anns: ['oneway'], func: cb(I), args: [5n], rets: [] },
  }));
});

test('positional fields after named ones continue from the previous id', () => {
  // In Candid a positional field takes the id after the previous field's (here hash("a") + 1).
  const svc = idlFactoryFromCandid('service : { f: (record { a: nat; text }) -> () }')({ IDL });
  const rec = svc._fields[0][1].argTypes[0];
  const hashA = 97; // idlHash("a") = 'a'
  assert.deepEqual(rec._fields.map((f: [string, unknown]) => f[0]), ['a', `_${hashA + 1}_`]);
});

test('unsupported or malformed input gives a positioned error', () => {
  assert.throws(() => idlFactoryFromCandid('import "x.did";\nservice : {}'), /line 1, column 1: unsupported input/);
  assert.throws(() => idlFactoryFromCandid('service : {\n  f: (nat) -> (Missing);\n}'), /line 2, column 16: undefined type 'Missing'/);
  assert.throws(() => idlFactoryFromCandid('service : {\n  f: (nat) => (nat);\n}'), /line 2, column 13: unexpected character ">"/);
  assert.throws(() => idlFactoryFromCandid('service : { f: (nat) -> (nat) }\nextra'), /line 2, column 1: unexpected 'extra'/);
  assert.throws(() => idlFactoryFromCandid('/* open'), /unterminated block comment/);
  assert.throws(() => idlFactoryFromCandid('type T = nat; service : T')({ IDL }), /does not resolve to a service/);
});

test('factory plugs into Actor.createActor of both agents', async () => {
  const { Actor, HttpAgent } = await import('@icp-sdk/core/agent');
  const { agent3 } = await import('../clients/agent-js-3/index.ts');
  const factory = idlFactoryFromCandid(MOTOKO_EXAMPLE);
  const host = 'http://127.0.0.1:1'; // never contacted: only the actor's shape is checked
  for (const [A, agent] of [[Actor, new HttpAgent({ host })], [agent3.Actor, new agent3.HttpAgent({ host })]] as const) {
    const actor: any = A.createActor(factory as any, { agent: agent as any, canisterId: 'aaaaa-aa' });
    for (const m of ['balance', 'getCounter', 'publicKey', 'sign', 'whoami']) assert.equal(typeof actor[m], 'function', m);
    assert.deepEqual(A.interfaceOf(actor)._fields.map((f: [string, unknown]) => f[0]).sort(), ['balance', 'getCounter', 'publicKey', 'sign', 'whoami']);
  }
});
