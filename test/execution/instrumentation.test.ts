/**
 * Instruction metering reproduces the replica's own expectations: the instruction counts asserted
 * in dfinity/ic rs/embedders/tests/instrumentation.rs (`metering_plain`, `metering_block`,
 * `metering_if`, `metering_loop`), with the costs from `instruction_to_cost` written out here as
 * the IC test computes them (i64.const 1, i64.add 1, global.get/set 2, br/br_if/if 2, return 1,
 * unreachable 1). The instrumented module runs directly with a host `out_of_instructions`.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { instrument, INSTRUCTIONS_COUNTER_EXPORT } from '../../src/execution/wasm/instrumentation.ts';
import { parseModule, readSectionHeaders, type WasmMemoryType } from '../../src/execution/wasm/wasm-binary.ts';
import { compileWat } from '../support/wat.ts';

const LIMIT_EXCEEDED = 'instruction limit exceeded';

/** Instruments and runs `canister_update test` with `limit` instructions; returns (used, g1). */
async function run(wat: string, limit: bigint, memoryType: WasmMemoryType = 'wasm32'): Promise<{ used: bigint; g1: unknown }> {
  const raw = await compileWat(wat, { memory64: memoryType === 'wasm64', bulk_memory: true });
  const m = parseModule(raw, readSectionHeaders(raw));
  const { bytes } = instrument(raw, m, memoryType);
  const instance = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
    __: {
      out_of_instructions: () => {
        throw new Error(LIMIT_EXCEEDED);
      },
      yield: () => {},
    },
  });
  const counter = instance.exports[INSTRUCTIONS_COUNTER_EXPORT] as WebAssembly.Global;
  counter.value = limit;
  (instance.exports['canister_update test'] as () => void)();
  return { used: limit - (counter.value as bigint), g1: (instance.exports.g1 as WebAssembly.Global | undefined)?.value };
}

const addOne = (n: number): string => '(i64.add (i64.const 1))\n'.repeat(n);
/** The IC test's cost_a(n): n × (i64.add + i64.const) + global.get + global.set. */
const costA = (n: number): bigint => BigInt(2 * n + 4);
const module = (body: string): string => `(module
  (global $g1 (export "g1") (mut i64) (i64.const 0))
  (func $test (export "canister_update test") (local $i i32)
    ${body}))`;

describe('metering (dfinity/ic instrumentation.rs expectations)', () => {
  it('metering_plain: straight line, early return, early trap, one short of the limit', async () => {
    const wat = module(`global.get $g1 ${addOne(10)} global.set $g1`);
    const r = await run(wat, 1000n);
    assert.equal(r.g1, 10n);
    assert.equal(r.used, 1n + costA(10)); // 25
    await assert.rejects(run(wat, r.used - 1n), new RegExp(LIMIT_EXCEEDED));

    const early = module(`global.get $g1 ${addOne(10)} global.set $g1 return global.get $g1 ${addOne(10)} global.set $g1`);
    const e = await run(early, 30n);
    assert.equal(e.used, 1n + costA(10) + 1n);
    await assert.rejects(run(early, e.used - 1n), new RegExp(LIMIT_EXCEEDED));
  });

  it('metering_block: nested blocks with br and return', async () => {
    assert.equal((await run(module(`(block $b1 global.get $g1 ${addOne(10)} global.set $g1)`), 30n)).used, 1n + costA(10));
    const br = module(`global.get $g1 ${addOne(10)} global.set $g1
      (block $b1 global.get $g1 ${addOne(100)} global.set $g1 (block $b2 br $b1) global.get $g1 ${addOne(50)} global.set $g1)
      global.get $g1 ${addOne(10)} global.set $g1`);
    const r = await run(br, 1000n);
    assert.equal(r.g1, 120n);
    assert.equal(r.used, 1n + costA(100) + costA(10) * 2n + 2n); // 255
    const ret = module(`global.get $g1 ${addOne(10)} global.set $g1
      (block $b1 global.get $g1 ${addOne(100)} global.set $g1 (block $b2 return) global.get $g1 ${addOne(50)} global.set $g1)
      global.get $g1 ${addOne(10)} global.set $g1`);
    const r2 = await run(ret, 1000n);
    assert.equal(r2.g1, 110n);
    assert.equal(r2.used, 1n + costA(100) + costA(10) + 1n);
  });

  it('metering_if: both branches', async () => {
    const wat = (cond: number, ret: string) =>
      module(`global.get $g1 ${addOne(5)} global.set $g1 (i32.const ${cond})
        (if (then global.get $g1 ${addOne(10)} global.set $g1 ${ret}) (else global.get $g1 ${addOne(20)} global.set $g1))
        global.get $g1 ${addOne(30)} global.set $g1`);
    const a = await run(wat(0, ''), 1000n);
    assert.equal(a.g1, 55n);
    assert.equal(a.used, 1n + costA(5) + costA(20) + costA(30) + 1n + 2n); // 126
    const b = await run(wat(1, 'return'), 1000n);
    assert.equal(b.g1, 15n);
    assert.equal(b.used, 1n + costA(5) + costA(10) + 1n + 2n + 1n);
  });

  it('metering_loop: the loop body is charged per iteration', async () => {
    const wat = module(`global.get $g1 ${addOne(5)} global.set $g1
      (loop $loop_a global.get $g1 ${addOne(10)} global.set $g1
        local.get $i (i32.add (i32.const 1)) local.set $i
        local.get $i i32.const 5 i32.lt_s br_if $loop_a
        global.get $g1 ${addOne(20)} global.set $g1)
      global.get $g1 ${addOne(30)} global.set $g1`);
    const r = await run(wat, 1000n);
    assert.equal(r.g1, 105n);
    const cLoop = costA(10) + 2n + 1n + 1n + 2n + 1n + 2n; // consts, add, get, sets, lt_s, br_if
    assert.equal(r.used, 1n + costA(5) + cLoop * 5n + costA(20) + costA(30)); // 288
  });

  it('charges the size operand of memory.fill (wasm32 and wasm64) and loads/stores by width', async () => {
    for (const mt of ['wasm32', 'wasm64'] as const) {
      const a = mt === 'wasm64' ? 'i64.const' : 'i32.const';
      const wat = `(module (memory ${mt === 'wasm64' ? 'i64 ' : ''}1)
        (func (export "canister_update test")
          (memory.fill (${a} 0) (i32.const 7) (${a} 1000))
          (i64.store (${a} 8) (i64.const 1))))`;
      const r = await run(wat, 1_000_000n, mt);
      const ls = mt === 'wasm64' ? 2n : 1n;
      // entry 1 + 3 consts + fill 100 + dynamic 1000 + 2 consts + store
      assert.equal(r.used, 1n + 3n + 100n + 1000n + 2n + ls, mt);
    }
  });

  it('keeps calls, exports, elements and the start function pointing at the right functions', async () => {
    const wat = `(module
      (import "x" "f" (func $imp (param i32) (result i32)))
      (table 2 funcref) (elem (i32.const 0) $a $b)
      (global $g1 (export "g1") (mut i64) (i64.const 0))
      (global $fr funcref (ref.func $b))
      (type $t (func (result i64)))
      (func $a (result i64) (i64.const 11))
      (func $b (result i64) (i64.const 22))
      (func $start (global.set $g1 (i64.const 5)))
      (start $start)
      (func (export "canister_update test")
        (global.set $g1 (i64.add (global.get $g1) (i64.add (call $a) (call_indirect (type $t) (i32.const 1)))))))`;
    const raw = await compileWat(wat, { reference_types: true, bulk_memory: true });
    const m = parseModule(raw, readSectionHeaders(raw));
    const { bytes } = instrument(raw, m, 'wasm32');
    const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {
      __: { out_of_instructions: () => 0, yield: () => {} },
      x: { f: (x: number) => x },
    });
    (inst.exports[INSTRUCTIONS_COUNTER_EXPORT] as WebAssembly.Global).value = 1000n;
    (inst.exports['canister_update test'] as () => void)();
    assert.equal((inst.exports.g1 as WebAssembly.Global).value, 5n + 33n);
  });
});
