/**
 * Written-page tracking (src/execution/wasm/written-pages.ts): the instrumented module marks
 * exactly the 4 KiB heap pages it writes — stores of every width (also unaligned across a page
 * boundary, and with a memarg offset), memory.fill / memory.copy / memory.init ranges, stores
 * after memory.grow, v128 stores — in wasm32 and wasm64 modules; loads mark nothing; the counts
 * the metering pass gives are not changed by the tracking code.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { instrument, INSTRUCTIONS_COUNTER_EXPORT } from '../../src/execution/wasm/instrumentation.ts';
import { parseModule, readSectionHeaders, type WasmMemoryType } from '../../src/execution/wasm/wasm-binary.ts';
import { markedPages, WRITTEN_PAGES_EXPORT } from '../../src/execution/wasm/written-pages.ts';
import { compileWat } from '../support/wat.ts';

/** Instruments `wat`, runs `canister_update test` and returns the marked pages and instructions used. */
async function written(wat: string, mt: WasmMemoryType): Promise<{ pages: number[]; used: bigint }> {
  const raw = await compileWat(wat, { memory64: mt === 'wasm64', bulk_memory: true, simd: true });
  const { bytes, writtenPagesExport } = instrument(raw, parseModule(raw, readSectionHeaders(raw)), mt);
  assert.equal(writtenPagesExport, WRITTEN_PAGES_EXPORT);
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), { __: { out_of_instructions: () => 0, yield: () => {} } });
  const counter = inst.exports[INSTRUCTIONS_COUNTER_EXPORT] as WebAssembly.Global;
  counter.value = 1_000_000n;
  (inst.exports['canister_update test'] as () => void)();
  const heap = inst.exports.memory as WebAssembly.Memory;
  return { pages: markedPages(inst.exports[WRITTEN_PAGES_EXPORT] as WebAssembly.Memory, heap.buffer.byteLength / 4096), used: 1_000_000n - (counter.value as bigint) };
}

for (const mt of ['wasm32', 'wasm64'] as const) {
  const I = mt === 'wasm64' ? 'i64' : 'i32';
  const a = (n: number) => `(${I}.const ${n})`;
  const mem = (pages: number) => `(memory (export "memory") ${mt === 'wasm64' ? 'i64 ' : ''}${pages})`;

  describe(`written pages (${mt})`, () => {
    it('stores mark their pages, an unaligned store both pages it crosses, loads nothing', async () => {
      const r = await written(
        `(module ${mem(2)}
          (func $f (param $p ${I}) (param $q i64) (local $l f64)
            (i64.store offset=8 ${a(4096 * 3)} (local.get $q))      ;; page 3 (offset)
            (i32.store8 ${a(4096 * 5 + 17)} (i32.const 1))         ;; page 5
            (i64.store ${a(4096 * 8 - 4)} (i64.const -1))          ;; pages 7 and 8
            (f64.store ${a(4096 * 10)} (local.get $l))             ;; page 10
            (i32.store16 (local.get $p) (i32.const 7))             ;; page 12
            (drop (i64.load ${a(4096 * 20)})))
          (func (export "canister_update test") (call $f ${a(4096 * 12 + 2)} (i64.const 5))))`,
        mt,
      );
      assert.deepEqual(r.pages, [3, 5, 7, 8, 10, 12]);
    });

    it('memory.fill, memory.copy and memory.init mark their destination ranges; size 0 marks nothing', async () => {
      const r = await written(
        `(module ${mem(2)} (data $d "0123456789")
          (func (export "canister_update test")
            (memory.fill ${a(4096 * 2 - 1)} (i32.const 9) ${a(4096 + 2)})   ;; pages 1, 2, 3
            (memory.copy ${a(4096 * 9)} ${a(0)} ${a(10)})                   ;; page 9
            (memory.init $d ${a(4096 * 15 + 4090)} (i32.const 0) (i32.const 10)) ;; pages 15, 16
            (memory.fill ${a(4096 * 20)} (i32.const 1) ${a(0)})))`,
        mt,
      );
      assert.deepEqual(r.pages, [1, 2, 3, 9, 15, 16]);
    });

    it('stores past memory.grow are marked (the marks grow with the heap)', async () => {
      const r = await written(
        `(module ${mem(1)}
          (func (export "canister_update test")
            (drop (memory.grow ${a(5000)}))
            (i32.store ${a(65536 * 4999)} (i32.const 1))))`,
        mt,
      );
      assert.deepEqual(r.pages, [4999 * 16]);
    });

    it('v128 stores and lane stores are marked', async () => {
      const r = await written(
        `(module ${mem(1)}
          (func (export "canister_update test")
            (v128.store ${a(4096 * 2 - 8)} (v128.const i64x2 1 2))
            (v128.store32_lane 1 ${a(4096 * 6)} (v128.const i64x2 1 2))))`,
        mt,
      );
      assert.deepEqual(r.pages, [1, 2, 6]);
    });

    it('the tracking code is not counted (charge_for_dirty_heap body: 1 + 5 consts + global.set + 2 stores + load)', async () => {
      const r = await written(
        `(module (global $g1 (mut i64) (i64.const 0)) ${mem(10)}
          (func (export "canister_update test")
            (i64.store ${a(0)} (i64.const 17)) (i64.store ${a(4096)} (i64.const 117)) (i64.load ${a(0)}) global.set $g1))`,
        mt,
      );
      const ls = mt === 'wasm64' ? 2n : 1n;
      assert.equal(r.used, 1n + 5n + 2n + 2n * ls + ls);
      assert.deepEqual(r.pages, [0, 1]);
    });
  });
}
