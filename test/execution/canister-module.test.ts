/**
 * Canister module preparation: the rewrite (globals, table, memory and start exported), width
 * detection, method sets, and the replica's validation texts (dfinity/ic
 * rs/embedders/src/wasm_utils/validation.rs, rs/types/wasm_types/src/errors.rs). Modules are
 * written in WAT (wabt) or, where wabt would refuse them, as bytes.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import {
  getCanisterModule,
  prepareCanisterModule,
  WasmValidationError,
  type FunctionSignature,
  type WasmMemoryType,
} from '../../src/execution/wasm/canister-module.ts';
import { compileWat } from '../support/wat.ts';

// A small System API table: I is the pointer/size type of the module's width.
function ic0Table(memoryType: WasmMemoryType): ReadonlyMap<string, FunctionSignature> {
  const I = memoryType === 'wasm64' ? 'i64' : 'i32';
  return new Map<string, FunctionSignature>([
    ['msg_reply', { params: [], results: [] }],
    ['msg_reply_data_append', { params: [I, I], results: [] }],
    ['msg_arg_data_size', { params: [], results: [I] }],
    ['time', { params: [], results: ['i64'] }],
  ]);
}

const TOOLCHAIN_HELP =
  'If you are running this canister in a test environment (e.g., dfx), make sure the test environment is up to date. ' +
  'Otherwise, this is likely an error with the compiler/CDK toolchain being used to build the canister. ' +
  'Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';

// ---- byte-level builder for modules wabt will not write ----------------------------------------

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
}
const str = (s: string): number[] => {
  const b = [...new TextEncoder().encode(s)];
  return [...leb(b.length), ...b];
};
const sec = (id: number, payload: number[]): number[] => [id, ...leb(payload.length), ...payload];
const custom = (name: string, data: number[]): number[] => sec(0, [...str(name), ...data]);
const wasm = (...sections: number[][]): Uint8Array => new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, ...sections.flat()]);

/** Inserts a custom section right after the header and appends one at the end. */
function withCustomSections(bytes: Uint8Array, first: number[], last: number[]): Uint8Array {
  return new Uint8Array([...bytes.subarray(0, 8), ...first, ...bytes.subarray(8), ...last]);
}

function rejects(bytes: Uint8Array, message: string, help = TOOLCHAIN_HELP): void {
  assert.throws(
    () => prepareCanisterModule(bytes, ic0Table),
    (e: unknown) => {
      assert.ok(e instanceof WasmValidationError, `expected WasmValidationError, got ${String(e)}`);
      assert.equal(e.message, message);
      assert.equal(e.help, help);
      assert.equal(e.detail, `${message}\n${help}`);
      return true;
    },
  );
}

const stubIc0 = (names: Iterable<string>): Record<string, () => void> =>
  Object.fromEntries([...names].map((n) => [n, () => undefined]));

// ---- the rewrite -------------------------------------------------------------------------------

const COUNTER = `
(module
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (memory (export "memory") 1)
  (table 2 funcref)
  (elem (i32.const 0) $cb $get)
  (global $k i32 (i32.const 7))
  (global $n (mut i32) (i32.const 1))
  (global $big (mut i64) (i64.const 5))
  (global $f f64 (f64.const 1.5))
  (global $x (mut f64) (f64.const 2.5))
  (func $start (global.set $n (i32.const 42)))
  (start $start)
  (func $cb (param i32) (global.set $n (local.get 0)))
  (func $inc (global.set $n (i32.add (global.get $n) (global.get $k))))
  (func $get (i32.store (i32.const 0) (global.get $n)) (call $append (i32.const 0) (i32.const 4)) (call $reply))
  (func $init)
  (export "canister_update inc" (func $inc))
  (export "canister_query get" (func $get))
  (export "canister_composite_query cq" (func $get))
  (export "canister_init" (func $init))
  (export "canister_global_timer" (func $init))
  (export "helper" (func $cb)))`;

/** The metering imports every prepared module has (instrumentation.ts); the counter is not checked here. */
const METER = { __: { out_of_instructions: () => 0, yield: () => undefined } };

describe('prepareCanisterModule: rewrite', () => {
  it('exports mutable globals, table and memory; turns the start section into __start', async () => {
    const bytes = await compileWat(COUNTER);
    const cm = prepareCanisterModule(bytes, ic0Table);
    assert.equal(cm.memoryType, 'wasm32');
    assert.equal(cm.table64, false);
    assert.equal(cm.hasStart, true);
    assert.deepEqual(cm.exportNames, { memory: '__memory', table: '__table', start: '__start' });
    // only the mutable ones, in global-index order
    assert.deepEqual(cm.globals, [
      { name: '__g0', type: 'i32' },
      { name: '__g1', type: 'i64' },
      { name: '__g2', type: 'f64' },
    ]);
    assert.deepEqual([...cm.updateMethods], ['inc']);
    assert.deepEqual([...cm.queryMethods], ['get']);
    assert.deepEqual([...cm.compositeQueryMethods], ['cq']);
    assert.deepEqual([...cm.systemMethods].sort(), ['canister_global_timer', 'canister_init']);
    assert.deepEqual(
      [...cm.ic0Imports],
      [
        ['msg_reply', { params: [], results: [] }],
        ['msg_reply_data_append', { params: ['i32', 'i32'], results: [] }],
      ],
    );
    assert.equal(cm.enhancedOrthogonalPersistence, false);
    assert.deepEqual(cm.hash, new Uint8Array(createHash('sha256').update(bytes).digest()));

    const replies: number[] = [];
    let mem: WebAssembly.Memory | undefined;
    const inst = new WebAssembly.Instance(cm.module, {
      ...METER,
      ic0: {
        msg_reply: () => undefined,
        msg_reply_data_append: (p: number) => replies.push(new DataView(mem!.buffer).getInt32(p, true)),
      },
    });
    const ex = inst.exports as Record<string, unknown>;
    mem = ex.__memory as WebAssembly.Memory;
    assert.equal(mem, ex.memory, 'the module’s own memory export is memory 0');
    const n = ex.__g0 as WebAssembly.Global;
    assert.equal(n.value, 1, 'the start function did not run at instantiation');
    (ex.__start as () => void)();
    assert.equal(n.value, 42);
    (ex['canister_update inc'] as () => void)();
    assert.equal(n.value, 49);
    n.value = 100; // writable from the host (rollback)
    (ex['canister_query get'] as () => void)();
    assert.deepEqual(replies, [100]);
    assert.equal((ex.__g1 as WebAssembly.Global).value, 5n);
    assert.equal((ex.__g2 as WebAssembly.Global).value, 2.5);
    // callbacks through the exported table
    const table = ex.__table as WebAssembly.Table;
    assert.equal(table.length, 2);
    (table.get(0) as (env: number) => void)(7);
    assert.equal(n.value, 7);
  });

  it('adds an export section and an empty memory to a module with neither', () => {
    // (global (mut i32) (i32.const 1)) (func $s (global.set 0 (i32.const 5))) (start $s), by bytes:
    // type, function, global, start, code: the export section must go between global and start.
    const bytes = wasm(
      sec(1, [1, 0x60, 0, 0]),
      sec(3, [1, 0]),
      sec(6, [1, 0x7f, 1, 0x41, 1, 0x0b]),
      sec(8, [0]),
      sec(10, [1, 6, 0, 0x41, 5, 0x24, 0, 0x0b]),
    );
    const cm = prepareCanisterModule(bytes, ic0Table);
    assert.deepEqual(cm.exportNames, { memory: '__memory', table: null, start: '__start' });
    assert.deepEqual(WebAssembly.Module.exports(cm.module), [
      { name: 'canister counter_instructions', kind: 'global' },
      { name: '__memory', kind: 'memory' },
      { name: '__g0', kind: 'global' },
      { name: '__start', kind: 'function' },
    ]);
    const ex = new WebAssembly.Instance(cm.module, METER).exports as Record<string, unknown>;
    assert.equal((ex.__memory as WebAssembly.Memory).buffer.byteLength, 0);
    assert.equal((ex.__g0 as WebAssembly.Global).value, 1);
    (ex.__start as () => void)();
    assert.equal((ex.__g0 as WebAssembly.Global).value, 5);
  });

  it('replaces an empty memory section rather than adding a second one', () => {
    const cm = prepareCanisterModule(wasm(sec(5, [0])), ic0Table);
    const ex = new WebAssembly.Instance(cm.module, METER).exports as Record<string, unknown>;
    assert.equal((ex.__memory as WebAssembly.Memory).buffer.byteLength, 0);
  });

  it('counts imported memories, tables and functions in the index spaces', async () => {
    const bytes = await compileWat(`
      (module
        (import "ic0" "msg_reply" (func $reply))
        (import "env" "mem" (memory 1))
        (import "env" "tbl" (table 1 funcref))
        (global $g (mut i32) (i32.const 0))
        (func $s (global.set $g (i32.const 8)))
        (start $s))`);
    const cm = prepareCanisterModule(bytes, ic0Table);
    const memory = new WebAssembly.Memory({ initial: 1 });
    const table = new WebAssembly.Table({ initial: 1, element: 'anyfunc' });
    const ex = new WebAssembly.Instance(cm.module, { ...METER, ic0: stubIc0(['msg_reply']), env: { mem: memory, tbl: table } })
      .exports as Record<string, unknown>;
    assert.equal(ex.__memory, memory);
    assert.equal(ex.__table, table);
    (ex.__start as () => void)();
    assert.equal((ex.__g0 as WebAssembly.Global).value, 8);
  });

  it('places the new export section before start, element, datacount and code; keeps custom sections', async () => {
    const bytes = await compileWat(
      `(module
        (import "ic0" "msg_reply" (func $reply))
        (memory 1)
        (table 1 funcref)
        (global $g (mut i32) (i32.const 0))
        (elem (i32.const 0) $f)
        (data "x")
        (func $f (global.set $g (i32.const 3)))
        (func $g (data.drop 0))
        (start $f))`,
      { bulk_memory: true },
    );
    const withCustom = withCustomSections(bytes, custom('first', [1, 2, 3]), custom('icp:public candid:service', [...str('x')]));
    const cm = prepareCanisterModule(withCustom, ic0Table);
    assert.deepEqual(WebAssembly.Module.customSections(cm.module, 'first').map((b) => [...new Uint8Array(b)]), [[1, 2, 3]]);
    assert.equal(WebAssembly.Module.customSections(cm.module, 'icp:public candid:service').length, 1);
    const ex = new WebAssembly.Instance(cm.module, { ...METER, ic0: stubIc0(['msg_reply']) }).exports as Record<string, unknown>;
    (ex.__start as () => void)(); // index 1: the import comes first in the function index space
    assert.equal((ex.__g0 as WebAssembly.Global).value, 3);
    assert.ok(ex.__table instanceof WebAssembly.Table);
  });

  it('detects wasm64 memory and table64, with i64 ic0 signatures', async () => {
    const bytes = await compileWat(
      `(module
        (import "ic0" "msg_reply_data_append" (func $append (param i64 i64)))
        (import "ic0" "time" (func $time (result i64)))
        (memory i64 1 2)
        (table i64 2 funcref)
        (elem (i64.const 0) $cb)
        (data (i64.const 16) "hi")
        (global $n (mut i64) (i64.const 0))
        (func $cb (param i64) (global.set $n (local.get 0)))
        (func (export "canister_query q") (call $append (i64.const 16) (i64.const 2))))`,
      { memory64: true },
    );
    const cm = prepareCanisterModule(bytes, ic0Table);
    assert.equal(cm.memoryType, 'wasm64');
    assert.equal(cm.table64, true);
    assert.deepEqual(cm.ic0Imports.get('msg_reply_data_append'), { params: ['i64', 'i64'], results: [] });
    const seen: unknown[] = [];
    const ex = new WebAssembly.Instance(cm.module, {
      ...METER,
      ic0: { msg_reply_data_append: (p: bigint, n: bigint) => seen.push(p, n), time: () => 0n },
    }).exports as Record<string, unknown>;
    (ex['canister_query q'] as () => void)();
    assert.deepEqual(seen, [16n, 2n]);
    const table = ex.__table as WebAssembly.Table;
    (table.get(0n as unknown as number) as (env: bigint) => void)(9n);
    assert.equal((ex.__g0 as WebAssembly.Global).value, 9n);
    assert.equal((ex.__memory as WebAssembly.Memory).buffer.byteLength, 65536);
  });

  it('accepts a gzipped module; the hash is of the gzipped bytes', async () => {
    const bytes = await compileWat(COUNTER);
    const gz = gzipSync(bytes);
    const cm = prepareCanisterModule(gz, ic0Table);
    assert.deepEqual(cm.hash, new Uint8Array(createHash('sha256').update(gz).digest()));
    assert.deepEqual([...cm.updateMethods], ['inc']);
  });

  it('detects enhanced orthogonal persistence (private or public section)', async () => {
    const bytes = await compileWat('(module (memory 1))');
    for (const vis of ['private', 'public']) {
      const eop = withCustomSections(bytes, [], custom(`icp:${vis} enhanced-orthogonal-persistence`, []));
      assert.equal(prepareCanisterModule(eop, ic0Table).enhancedOrthogonalPersistence, true);
    }
  });

  it('picks other names when the module already uses __memory or __g0', async () => {
    const bytes = await compileWat(`
      (module
        (memory 1)
        (global $g (mut i32) (i32.const 1))
        (func $f)
        (export "__memory" (func $f))
        (export "__g0" (global $g)))`);
    const cm = prepareCanisterModule(bytes, ic0Table);
    assert.deepEqual(cm.exportNames, { memory: '___memory', table: null, start: null });
    assert.deepEqual(cm.globals, [{ name: '___g0', type: 'i32' }]);
    const ex = new WebAssembly.Instance(cm.module, METER).exports as Record<string, unknown>;
    assert.ok(ex.___memory instanceof WebAssembly.Memory);
    assert.equal(typeof ex.__memory, 'function');
  });

  it('caches by hash: one compile per module and import table', async () => {
    const bytes = await compileWat(COUNTER);
    const a = getCanisterModule(bytes, ic0Table);
    const b = getCanisterModule(new Uint8Array(bytes), ic0Table);
    assert.equal(a, b);
    const c = getCanisterModule(bytes, ic0Table, a.hash);
    assert.equal(c, a);
  });
});

// ---- validation --------------------------------------------------------------------------------

describe('prepareCanisterModule: validation (replica texts)', () => {
  it('rejects bytes that are neither Wasm nor gzip', () => {
    rejects(new Uint8Array([1, 2, 3, 4]), 'Failed to decode wasm module: unsupported canister module format');
  });

  it('rejects a gzip stream that is too short or corrupt', () => {
    rejects(new Uint8Array([0x1f, 0x8b, 0x08, 0, 0]), 'Failed to decode wasm module: invalid Wasm module: gzip stream is too short');
    const gz = gzipSync(new Uint8Array(100));
    gz[20] = (gz[20]! + 1) & 0xff;
    assert.throws(() => prepareCanisterModule(gz, ic0Table), (e: unknown) => {
      assert.ok(e instanceof WasmValidationError);
      assert.match(e.message, /^Failed to decode wasm module: (failed to decode compressed Wasm module: |specified uncompressed size)/);
      return true;
    });
  });

  it('rejects a module whose sections run past its end', () => {
    rejects(
      new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 9, 0]),
      'Failed to decode wasm module: Error finding code section: section too large (at offset 0xa)',
    );
  });

  it('reports what V8 finds invalid as a wasmtime validation failure', async () => {
    // a function whose body leaves an i32 where none is expected (type error), by bytes
    const bad = wasm(sec(1, [1, 0x60, 0, 0]), sec(3, [1, 0]), sec(10, [1, 4, 0, 0x41, 1, 0x0b]));
    assert.throws(() => prepareCanisterModule(bad, ic0Table), (e: unknown) => {
      assert.ok(e instanceof WasmValidationError);
      assert.equal(e.kind, 'WasmtimeValidation');
      assert.match(e.message, /^Wasmtime failed to validate wasm module wasmtime::Module::validate\(\) failed with Compiling function #0 failed: /);
      assert.equal(e.help, TOOLCHAIN_HELP);
      return true;
    });
  });

  it('rejects two memories (V8 accepts multi-memory; wasmtime as the replica configures it does not)', () => {
    rejects(
      wasm(sec(5, [2, 0, 1, 0, 1])),
      'Wasmtime failed to validate wasm module wasmtime::Module::validate() failed with multiple memories (at offset 0xa)',
    );
  });

  it('rejects an unknown ic0 function or a function from another module', async () => {
    rejects(
      await compileWat('(module (import "ic0" "foo" (func)))'),
      "Wasm module has an invalid import section. Module imports function 'foo' from 'ic0' that is not exported by the runtime.",
    );
    rejects(
      await compileWat('(module (import "wasi_snapshot_preview1" "fd_close" (func (param i32) (result i32))))'),
      "Wasm module has an invalid import section. Module imports function 'fd_close' from 'wasi_snapshot_preview1' that is not exported by the runtime.",
    );
    rejects(
      await compileWat('(module (import "env" "msg_reply" (func)))'),
      'Wasm module has an invalid import section. Module imports function "msg_reply" from "env", expected to be imported from one of ["ic0"] instead.',
    );
  });

  it('rejects an ic0 import with the wrong signature for the module’s width', async () => {
    rejects(
      await compileWat('(module (import "ic0" "msg_reply_data_append" (func (param i64 i64))) (memory 1))'),
      "Wasm module has an invalid function signature. Expected input params [I32, I32] for 'msg_reply_data_append', got [I64, I64].",
    );
    rejects(
      await compileWat('(module (import "ic0" "msg_reply_data_append" (func (param i32 i32))) (memory i64 1))', { memory64: true }),
      "Wasm module has an invalid function signature. Expected input params [I64, I64] for 'msg_reply_data_append', got [I32, I32].",
    );
    rejects(
      await compileWat('(module (import "ic0" "time" (func (result i32))))'),
      "Wasm module has an invalid function signature. Expected return type [I64] for 'time', got [I32].",
    );
  });

  it('rejects imported globals', async () => {
    rejects(
      await compileWat('(module (import "env" "g" (global i32)))'),
      'Wasm module has an invalid import section. Importing globals is not allowed.',
    );
  });

  it('rejects a method exported with two call types', async () => {
    rejects(
      await compileWat('(module (func $f) (export "canister_update foo" (func $f)) (export "canister_query foo" (func $f)))'),
      "Duplicate function 'foo' exported multiple times with different call types: update, query, or composite_query.",
      'Try defining different versions of the function for each call type, e.g. `foo_update`, `foo_query`, etc. ' +
        'See documentation: http://internetcomputer.org/docs/current/references/execution-errors#wasm-module-duplicate-exports',
    );
  });

  it('rejects system and method exports that are not () -> ()', async () => {
    rejects(
      await compileWat('(module (func $f (param i32)) (export "canister_init" (func $f)))'),
      "Wasm module has an invalid function signature. Expected input params [] for 'canister_init', got [I32].",
    );
    rejects(
      await compileWat('(module (func $f (result i32) (i32.const 0)) (export "canister_query q" (func $f)))'),
      "Wasm module has an invalid function signature. Expected return type [] for 'canister_query q', got [I32].",
    );
  });

  it('rejects reserved names', async () => {
    rejects(
      await compileWat('(module (func $f) (export "canister_foo" (func $f)))'),
      'Wasm module has an invalid export section. Exporting reserved function \'canister_foo\' with "canister_" prefix',
    );
    rejects(
      await compileWat('(module (func $f) (export "canister_start" (func $f)))'),
      'Wasm module has an invalid export section. Exporting reserved symbol canister_start not allowed.',
    );
  });

  it('rejects more than 1000 exported methods and more than 1000 globals', async () => {
    const exports = Array.from({ length: 1001 }, (_, i) => `(export "canister_update m${i}" (func $f))`).join(' ');
    rejects(
      await compileWat(`(module (func $f) ${exports})`),
      'The number of exported functions called `canister_update <name>`, `canister_query <name>`, or ' +
        '`canister_composite_query <name>` is 1001 which exceeds 1000.',
      'Try combining multiple endpoints into a single endpoint. ' +
        'See documentation: http://internetcomputer.org/docs/current/references/execution-errors#wasm-module-exports-too-many-methods',
    );
    const globals = Array.from({ length: 1001 }, () => '(global i32 (i32.const 0))').join(' ');
    rejects(
      await compileWat(`(module ${globals})`),
      'Wasm module defined 1001 globals which exceeds the maximum number allowed 1000.',
      'Try collecting multiple globals into a single structured which can be stored on the heap. ' +
        'See documentation: http://internetcomputer.org/docs/current/references/execution-errors#wasm-module-too-many-globals',
    );
  });

  it('rejects a data segment whose offset is not a constant', () => {
    // (global i32 (i32.const 0)) (memory 1) (data (global.get 0) "x"), by bytes: wabt only lets
    // offsets name imported globals (MVP), V8 also defined immutable ones (as wasm 3.0 does).
    rejects(
      wasm(sec(5, [1, 0, 1]), sec(6, [1, 0x7f, 0, 0x41, 0, 0x0b]), sec(11, [1, 0, 0x23, 0, 0x0b, 1, 0x78])),
      'Wasm module has an invalid data section. Invalid offset expression in data segment for 32bit memory: GlobalGet { global_index: 0 }',
    );
  });

  it('rejects bad icp: custom sections', async () => {
    const bytes = await compileWat('(module)');
    rejects(
      withCustomSections(bytes, [], custom('icp:secret x', [])),
      "Wasm module has an invalid custom section. Invalid custom section: Custom section 'icp:secret x' has no public/private scope defined.",
    );
    rejects(
      withCustomSections(bytes, custom('icp:public a', []), custom('icp:private a', [])),
      'Wasm module has an invalid custom section. Invalid custom section: name a already exists',
    );
    rejects(
      withCustomSections(bytes, [], custom('icp:public', [])),
      "Wasm module has an invalid custom section. 'icp:' section names must have a space after the public/private scope",
    );
  });
});
