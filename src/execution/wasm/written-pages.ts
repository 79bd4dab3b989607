/**
 * Written-page tracking: which 4 KiB pages of the heap (memory 0) an execution wrote. The replica
 * learns this from the OS (write-protected pages and a signal handler, rs/memory_tracker); here
 * the instrumentation pass (instrumentation.ts) adds a second memory, the *marks*, one byte per
 * 4 KiB heap page, and sets a page's byte when code writes to it:
 *
 *  - after every store (i32/i64/f32/f64 stores, the narrow stores, v128.store and the lane
 *    stores), the bytes of the first and the last byte written (an unaligned store may cross a
 *    page boundary). The mark is set after the store, so its address is known to be in bounds;
 *  - before memory.fill / memory.copy / memory.init, every page of the destination range (if the
 *    operation then traps, the execution is rolled back anyway);
 *  - after memory.grow, the marks memory grows to cover the new heap.
 *
 * The host marks what the System API writes into the heap (`SystemApiState.markWritten`), reads
 * and clears the marks after each execution (canister-instance.ts), and charges the written
 * pages (hypervisor.ts). The inserted code is not counted: the replica's instructions are defined
 * on the original operators, and its page tracking costs no Wasm instructions either.
 *
 * Address arithmetic: a store's `address + offset + size - 1` cannot wrap, because the store
 * succeeded (so it is below the heap size, at most 4 GiB in wasm32 and below 2^64 in wasm64);
 * the page number `>> 12` then fits in i32 for heaps below 16 TiB.
 */
import type { Operator } from './wasm-operators.ts';
import type { Out } from './wasm-writer.ts';

/** Export name of the marks memory the instrumentation adds (one byte per 4 KiB heap page). */
export const WRITTEN_PAGES_EXPORT = 'canister written_pages';
/** The page size of written-page tracking (the replica's OS page). */
export const OS_PAGE_BYTES = 4096;
const WASM_PAGE_BYTES = 65536;

/** Marks-memory pages (64 KiB) needed for a heap of `heapWasmPages` 64 KiB pages: 16 mark bytes each. */
export function markPagesFor(heapWasmPages: bigint): bigint {
  return (heapWasmPages + 4095n) >> 12n;
}

// ---- instrumentation side --------------------------------------------------------------------

/** Where the pass put the tracking parts of one module. */
export interface MarkLayout {
  /** Memory index of the marks memory. */
  markMem: number;
  /** Function index of `markRange(d: i64, n: i64)`. */
  markFn: number;
  /** Function index of `sync()` (grows the marks after memory.grow). */
  syncFn: number;
  /** wasm64 heap: addresses and sizes are i64. */
  wide: boolean;
}

/** Temporary locals one function body needs, by role. */
export interface MarkLocals {
  /** Address-typed (i32 / i64): store address / bulk destination; effective address; bulk third operand. */
  a: number;
  e: number;
  x: number;
  i32: number;
  i32b: number;
  i64: number;
  f32: number;
  f64: number;
  /** -1 when the body has no v128 store. */
  v128: number;
}

/**
 * The local declarations to append to a body whose locals (parameters included) number `base`.
 * @returns the extra declaration groups (count + type each) and the indices of the new locals.
 */
export function markLocals(base: number, wide: boolean, v128: boolean): { groups: number[][]; locals: MarkLocals } {
  const w = wide ? 0x7e : 0x7f;
  const groups = [[3, w], [2, 0x7f], [1, 0x7e], [1, 0x7d], [1, 0x7c]];
  if (v128) groups.push([1, 0x7b]);
  const locals: MarkLocals = { a: base, e: base + 1, x: base + 2, i32: base + 3, i32b: base + 4, i64: base + 5, f32: base + 6, f64: base + 7, v128: v128 ? base + 8 : -1 };
  return { groups, locals };
}

/** The temp local of a store's value type. */
function valueLocal(opcode: number, simd: boolean, l: MarkLocals): number {
  if (simd) return l.v128;
  switch (opcode) {
    case 0x37: case 0x3c: case 0x3d: case 0x3e: return l.i64;
    case 0x38: return l.f32;
    case 0x39: return l.f64;
    default: return l.i32;
  }
}

/** `i32.const 1; i32.store8 (memory markMem)` on a page number already on the stack. */
function setMark(o: Out, markMem: number): void {
  o.byte(0x41); o.byte(0x01);
  o.byte(0x3a); o.byte(0x40); o.u32(markMem); o.byte(0x00);
}

/** Pushes the page number of `local + add` (address-typed) as i32. */
function pageOf(o: Out, local: number, add: bigint, wide: boolean, tee: number | null): void {
  o.byte(0x20); o.u32(local);
  if (add !== 0n) {
    if (wide) { o.byte(0x42); o.s64(BigInt.asIntN(64, add)); o.byte(0x7c); }
    else { o.byte(0x41); o.s64(BigInt.asIntN(32, add)); o.byte(0x6a); }
  }
  if (tee !== null) { o.byte(0x22); o.u32(tee); }
  if (wide) { o.byte(0x42); o.byte(12); o.byte(0x88); o.byte(0xa7); } // i64.shr_u, i32.wrap_i64
  else { o.byte(0x41); o.byte(12); o.byte(0x76); } // i32.shr_u
}

/** Pushes an address-typed local as i64. */
function asI64(o: Out, local: number, wide: boolean): void {
  o.byte(0x20); o.u32(local);
  if (!wide) o.byte(0xad); // i64.extend_i32_u
}

/**
 * Emits operator `op` (its original bytes `original`) with the tracking around it, if it writes
 * the heap; returns false (nothing emitted) otherwise.
 */
export function emitTracked(o: Out, wasm: Uint8Array, op: Operator, original: Uint8Array, L: MarkLayout, l: MarkLocals): boolean {
  const h = op.heap;
  if (!h) return false;
  const W = L.wide;
  if (h === 'grow') {
    o.bytes(original);
    o.byte(0x10); o.u32(L.syncFn);
    return true;
  }
  if (typeof h === 'object') {
    const v = valueLocal(wasm[op.start]!, wasm[op.start] === 0xfd, l);
    o.byte(0x21); o.u32(v); // value
    o.byte(0x22); o.u32(l.a); // address (kept)
    o.byte(0x20); o.u32(v);
    o.bytes(original);
    const first = h.offset;
    const base = first === 0n ? l.a : l.e;
    pageOf(o, l.a, first, W, first === 0n ? null : l.e);
    setMark(o, L.markMem);
    if (h.store > 1) {
      pageOf(o, base, BigInt(h.store - 1), W, null);
      setMark(o, L.markMem);
    }
    return true;
  }
  // memory.fill [d, val: i32, n] / memory.copy [d, s, n] / memory.init [d, s: i32, n: i32]
  const n = h === 'init' ? l.i32b : l.x;
  const mid = h === 'copy' ? l.e : l.i32;
  o.byte(0x21); o.u32(n);
  o.byte(0x21); o.u32(mid);
  o.byte(0x21); o.u32(l.a);
  asI64(o, l.a, W);
  if (h === 'init') { o.byte(0x20); o.u32(n); o.byte(0xad); } else asI64(o, n, W);
  o.byte(0x10); o.u32(L.markFn);
  o.byte(0x20); o.u32(l.a);
  o.byte(0x20); o.u32(mid);
  o.byte(0x20); o.u32(n);
  o.bytes(original);
  return true;
}

/** Body of `markRange(d: i64, n: i64)`: marks every page of [d, d + n) (nothing when n = 0). */
export function markRangeBody(L: MarkLayout): Uint8Array {
  const b = [
    0x00, // no locals
    0x20, 0x01, 0x50, 0x04, 0x40, 0x0f, 0x0b, // if n == 0 return
    0x20, 0x00, 0x42, 12, 0x88, 0xa7, // first page (i32)
    0x41, 0x01, // value 1
    0x20, 0x00, 0x20, 0x01, 0x7c, 0x42, 0x01, 0x7d, 0x42, 12, 0x88, // last page (i64)
    0x20, 0x00, 0x42, 12, 0x88, 0x7d, 0x42, 0x01, 0x7c, 0xa7, // count = last - first + 1
    0xfc, 11, ...leb(L.markMem), // memory.fill (memory markMem)
    0x0b,
  ];
  return new Uint8Array(b);
}

/** Body of `sync()`: grows the marks to cover the heap (after memory.grow). */
export function syncBody(L: MarkLayout): Uint8Array {
  const b = [
    0x01, 0x01, 0x7e, // one i64 local
    0x3f, 0x00, ...(L.wide ? [] : [0xad]), // heap pages (i64)
    0x42, 0xff, 0x1f, 0x7c, 0x42, 12, 0x88, // + 4095 >> 12: mark pages needed
    0x3f, ...leb(L.markMem), 0xad, 0x7d, // - mark pages now
    0x22, 0x00, 0x42, 0x00, 0x55, 0x04, 0x40, // if > 0
    0x20, 0x00, 0xa7, 0x40, ...leb(L.markMem), 0x1a, // memory.grow (memory markMem); drop
    0x0b, 0x0b,
  ];
  return new Uint8Array(b);
}

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let x = n & 0x7f;
    n >>>= 7;
    if (n > 0) x |= 0x80;
    out.push(x);
  } while (n > 0);
  return out;
}

// ---- host side -------------------------------------------------------------------------------

/** Grows the marks memory to cover a heap of `heapBytes` bytes. */
export function growMarks(marks: WebAssembly.Memory, heapBytes: number): void {
  const need = Number(markPagesFor(BigInt(heapBytes / WASM_PAGE_BYTES))) - marks.buffer.byteLength / WASM_PAGE_BYTES;
  if (need > 0) marks.grow(need);
}

/** The marked pages below `heapPages` (4 KiB pages), ascending. */
export function markedPages(marks: WebAssembly.Memory, heapPages: number): number[] {
  const m = Buffer.from(marks.buffer, 0, Math.min(heapPages, marks.buffer.byteLength));
  const out: number[] = [];
  for (let p = m.indexOf(1); p >= 0; p = m.indexOf(1, p + 1)) out.push(p);
  return out;
}

/** Clears the marks of `pages`. */
export function clearMarks(marks: WebAssembly.Memory, pages: readonly number[]): void {
  const m = new Uint8Array(marks.buffer);
  for (const p of pages) m[p] = 0;
}

/**
 * Marks the pages of heap bytes [start, start + length) as written (the System API's writes).
 * Does nothing for length 0 or when there are no marks (a module without memory).
 */
export function markRange(marks: WebAssembly.Memory | null, start: number, length: number): void {
  if (!marks || length <= 0) return;
  new Uint8Array(marks.buffer).fill(1, Math.floor(start / OS_PAGE_BYTES), Math.floor((start + length - 1) / OS_PAGE_BYTES) + 1);
}
