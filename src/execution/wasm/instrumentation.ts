/**
 * Instruction metering, as the replica instruments a canister module (dfinity/ic
 * rs/embedders/src/wasm_utils/instrumentation.rs `injections` / `inject_metering` /
 * `export_additional_symbols`). Counts are defined on the *original* operator stream, so this
 * pass copies every original byte and only inserts code around it:
 *
 *  - two imports are added in front of the others, so every function index moves up by 2:
 *    `__.out_of_instructions: () -> i32` (the host's check when the counter went negative: it
 *    throws IC0522 past the limit, or refills the counter with the next slice and answers 1 when
 *    the execution should yield) and `__.yield: () -> ()` (a JSPI `WebAssembly.Suspending`
 *    import in sliced executions);
 *  - one mutable i64 global, the instruction counter, exported as `canister counter_instructions`;
 *  - `ooi()` (call out_of_instructions, call yield if asked) and `decr(n: i64) -> i64` (subtracts
 *    n, saturating at i64::MIN, calls ooi() below zero, returns n), appended after the module's
 *    functions;
 *  - in every body: at the start of each basic block `counter -= cost of the block`; at function
 *    entry (cost at least 1) and after each `loop` also `if counter < 0 { ooi() }`; before
 *    memory.fill/copy/init and table.fill/copy/init a call to decr with the size operand. The
 *    function keeps a copy of the counter in a local of its own, read at entry and after every
 *    call, and writes the global at every block start: the global is exact whenever the host
 *    looks (System API calls, traps, slice ends), and the loop's own read is a register, not a
 *    reload of the global just stored (half the time of a `loop br` measured in V8);
 *  - call / return_call / ref.func immediates, exports, the start section, element segments and
 *    global initializers are renumbered; the `name` section is dropped (its indices would be stale);
 *  - for a module with memory, written-page tracking (written-pages.ts): a second memory of
 *    marks (exported as `canister written_pages`), code around stores, bulk memory operations and
 *    memory.grow, and two more functions after decr (`markRange`, `sync`). It is not counted.
 *
 * Assumes a module V8 validated and wasm-binary.ts's `parseModule` read.
 */
import { Reader, SECTION_RANK, type ParsedModule, type WasmMemoryType } from './wasm-binary.ts';
import { readOperator, type Operator } from './wasm-operators.ts';
import { Out, sectionBytes } from './wasm-writer.ts';
import { emitTracked, markLocals, markPagesFor, markRangeBody, syncBody, WRITTEN_PAGES_EXPORT, type MarkLayout, type MarkLocals } from './written-pages.ts';

/** Export name of the instruction counter global (the replica's `INSTRUCTIONS_COUNTER_GLOBAL_NAME`). */
export const INSTRUCTIONS_COUNTER_EXPORT = 'canister counter_instructions';
/** Import module of the host's metering functions (the replica's `INSTRUMENTED_FUN_MODULE`). */
export const METERING_IMPORT_MODULE = '__';
/** How many function imports the pass adds in front (every function index moves up by this). */
export const ADDED_FUNCTION_IMPORTS = 2;

/** A module with metering inserted. */
export interface InstrumentedModule {
  bytes: Uint8Array<ArrayBuffer>;
  /** Number of operators in the instrumented code (original + inserted), for the compile cost. */
  instrumentedOperatorCount: number;
  /** Export name of the written-page marks (written-pages.ts), or null for a module without memory. */
  writtenPagesExport: string | null;
}

// ---- renumbering outside code ---------------------------------------------------------------

/** Copies a constant expression (through its `end`), moving `ref.func` indices by `shift`. */
function copyConstExpr(r: Reader, o: Out, shift: number): void {
  for (;;) {
    const start = r.pos;
    const op = r.u8();
    if (op === 0xd2) {
      o.byte(op);
      o.u32(r.u32() + shift);
      continue;
    }
    switch (op) {
      case 0x0b: o.byte(op); return;
      case 0x41: r.signed(32); break;
      case 0x42: r.signed(64); break;
      case 0x43: r.advance(4); break;
      case 0x44: r.advance(8); break;
      case 0x23: r.u32(); break;
      case 0xd0: r.signed(33); break;
      case 0xfd: r.u32(); r.advance(16); break;
      default: break; // extended-const arithmetic: no immediates
    }
    o.bytes(r.b.subarray(start, r.pos));
  }
}

function copyRefType(r: Reader, o: Out): void {
  const start = r.pos;
  const t = r.u8();
  if (t === 0x63 || t === 0x64) r.signed(33);
  o.bytes(r.b.subarray(start, r.pos));
}

function rewriteElements(r: Reader, o: Out, shift: number): void {
  const count = r.u32();
  o.u32(count);
  for (let i = 0; i < count; i++) {
    const flags = r.u32();
    o.u32(flags);
    const usesExprs = (flags & 4) !== 0;
    if (flags & 1) {
      // passive or declarative: elemkind / reftype
      if (usesExprs) copyRefType(r, o);
      else o.byte(r.u8());
    } else {
      if (flags & 2) o.u32(r.u32()); // table index
      copyConstExpr(r, o, 0); // offset
      if (flags & 2) {
        if (usesExprs) copyRefType(r, o);
        else o.byte(r.u8());
      }
    }
    const n = r.u32();
    o.u32(n);
    for (let k = 0; k < n; k++) {
      if (usesExprs) copyConstExpr(r, o, shift);
      else o.u32(r.u32() + shift);
    }
  }
}

// ---- metering of one body -------------------------------------------------------------------

type Point =
  | { position: number; static: true; reentrant: boolean; cost: number }
  | { position: number; static: false; wide: boolean };

/** The replica's `injections`: basic-block starts with their cost, and dynamic-cost points. */
function injections(ops: Operator[], memoryType: WasmMemoryType, table64: (t: number) => boolean): Point[] {
  const res: Point[] = [];
  let curr: Point & { static: true } = { position: 0, static: true, reentrant: true, cost: 1 };
  const next = (position: number, reentrant: boolean): void => {
    res.push(curr);
    curr = { position, static: true, reentrant, cost: 0 };
  };
  ops.forEach((op, position) => {
    curr.cost += op.cost;
    switch (op.kind) {
      case 'loop': next(position + 1, true); break;
      case 'if': case 'block_end': case 'terminator': next(position + 1, false); break;
      case 'bulk_sized':
        res.push({ position, static: false, wide: op.table !== undefined ? table64(op.table) : memoryType === 'wasm64' });
        break;
      case 'bulk_init': res.push({ position, static: false, wide: false }); break;
      default: break;
    }
  });
  // A stable sort by position: a dynamic point pushed earlier stays before a block start there.
  return res
    .map((p, i) => ({ p, i }))
    .sort((a, b) => a.p.position - b.p.position || a.i - b.i)
    .map((x) => x.p)
    .filter((p) => !p.static || p.reentrant || p.cost > 0);
}

interface BodyContext {
  memoryType: WasmMemoryType;
  counter: number;
  ooiFn: number;
  decrFn: number;
  table64: (t: number) => boolean;
  /** Written-page tracking (written-pages.ts); null for a module without memory. */
  marks: MarkLayout | null;
}

/**
 * Rewrites one function body (locals + code) into `o`; returns the number of metering-relevant
 * operators emitted (original + metering; the written-page tracking is not counted).
 * @param params the function's parameter count (its first local index).
 */
function meterBody(wasm: Uint8Array, start: number, end: number, params: number, o: Out, cx: BodyContext): number {
  const r = new Reader(wasm, start, end);
  const groups = r.u32();
  const groupsStart = r.pos;
  let locals = params;
  for (let n = groups; n > 0; n--) {
    locals += r.u32();
    copyRefType(r, new Out()); // value type (skipped; copied with the locals below)
  }
  const declEnd = r.pos;
  const ops: Operator[] = [];
  while (r.pos < end) ops.push(readOperator(r, cx.memoryType));
  // Locals: the original groups, then (new indices after all others) the counter's cached copy
  // and the written-page tracking's temporaries.
  const cl = locals;
  const extraGroups: number[][] = [[1, 0x7e]];
  let tmp: MarkLocals | null = null;
  if (cx.marks && ops.some((op) => op.heap !== undefined)) {
    const v128 = ops.some((op) => typeof op.heap === 'object' && wasm[op.start] === 0xfd);
    const extra = markLocals(locals + 1, cx.marks.wide, v128);
    tmp = extra.locals;
    extraGroups.push(...extra.groups);
  }
  o.u32(groups + extraGroups.length);
  o.bytes(wasm.subarray(groupsStart, declEnd));
  for (const [count, type] of extraGroups) {
    o.u32(count!);
    o.byte(type!);
  }
  // The counter lives in the global (exact at every block start: the host reads it at calls and
  // traps) and, for this function's own reads, in local `cl`: reading a register instead of
  // reloading the global every block takes the store-to-load round trip off the loop's critical
  // path. `cl` is reloaded at entry and after every call (the callee, the host's System API
  // charges and the slice refill change the global).
  const reload = (): void => {
    o.byte(0x23); o.u32(cx.counter);
    o.byte(0x21); o.u32(cl);
  };
  reload();
  const points = injections(ops, cx.memoryType, cx.table64);
  let emitted = ops.length;
  let p = 0;
  for (let i = 0; i < ops.length; i++) {
    for (; p < points.length && points[p]!.position === i; p++) {
      const pt = points[p]!;
      // `emitted` counts what the replica's injected code has (global.get, i64.const, i64.sub,
      // global.set; + global.get, i64.const, i64.lt_s, if, call, end), whatever form it takes here.
      if (pt.static) {
        // counter -= cost
        o.byte(0x20); o.u32(cl);
        o.byte(0x42); o.s64(BigInt(pt.cost));
        o.byte(0x7d);
        o.byte(0x22); o.u32(cl);
        o.byte(0x24); o.u32(cx.counter);
        emitted += 4;
        if (pt.reentrant) {
          // if counter < 0 { ooi() }
          o.byte(0x20); o.u32(cl);
          o.byte(0x42); o.byte(0x00);
          o.byte(0x53);
          o.byte(0x04); o.byte(0x40);
          o.byte(0x10); o.u32(cx.ooiFn);
          reload();
          o.byte(0x0b);
          emitted += 6;
        }
      } else if (pt.wide) {
        o.byte(0x10); o.u32(cx.decrFn);
        reload();
        emitted += 1;
      } else {
        o.byte(0xad); // i64.extend_i32_u
        o.byte(0x10); o.u32(cx.decrFn);
        reload();
        o.byte(0xa7); // i32.wrap_i64
        emitted += 3;
      }
    }
    const op = ops[i]!;
    if (tmp && emitTracked(o, wasm, op, wasm.subarray(op.start, op.end), cx.marks!, tmp)) continue;
    if (op.funcRef) {
      o.bytes(wasm.subarray(op.start, op.funcRef.at));
      o.u32(op.funcRef.index + ADDED_FUNCTION_IMPORTS);
      o.bytes(wasm.subarray(op.funcRef.end, op.end));
    } else {
      o.bytes(wasm.subarray(op.start, op.end));
    }
    const code = wasm[op.start];
    if (code === 0x10 || code === 0x11) reload(); // call, call_indirect
  }
  return emitted;
}

// ---- the module -----------------------------------------------------------------------------

/**
 * Inserts instruction metering into a validated module (see the module comment).
 * @param wasm the raw module. @param m its parse.
 * @returns the instrumented bytes and the size of the instrumented code in operators.
 * @throws WasmDecodeError for operators outside the replica's feature set.
 */
export function instrument(wasm: Uint8Array, m: ParsedModule, memoryType: WasmMemoryType): InstrumentedModule {
  const S = ADDED_FUNCTION_IMPORTS;
  const definedFunctions = m.functionTypes.length;
  const tOoi = m.types.length; // () -> i32
  const tVoid = tOoi + 1; // () -> ()
  const tDecr = tOoi + 2; // (i64) -> i64
  const ooiFn = S + m.importedFunctionCount + definedFunctions;
  const decrFn = ooiFn + 1;
  const counter = m.importedGlobalCount + m.globals.length;
  // Written-page tracking (written-pages.ts), for a module with a heap: the marks memory after
  // the heap, markRange and sync after decr.
  const heap = m.memories[0];
  const marks: MarkLayout | null = heap ? { markMem: m.memories.length, markFn: decrFn + 1, syncFn: decrFn + 2, wide: memoryType === 'wasm64' } : null;
  const tMark = tOoi + 3; // (i64, i64) -> ()
  const cx: BodyContext = { memoryType, counter, ooiFn, decrFn, table64: (t) => m.tables[t]?.is64 ?? false, marks };
  let operatorCount = 0;

  const payloads = new Map<number, Uint8Array>();
  const sectionOf = (id: number) => m.sections.find((s) => s.id === id);
  const readerOf = (id: number): Reader | null => {
    const s = sectionOf(id);
    return s ? new Reader(wasm, s.payloadStart, s.end) : null;
  };

  // type: + () -> i32, () -> (), (i64) -> i64
  {
    const o = new Out();
    const r = readerOf(1);
    o.u32(m.types.length + 4);
    if (r) {
      r.u32();
      o.bytes(wasm.subarray(r.pos, r.end));
    }
    o.bytes([0x60, 0, 1, 0x7f, 0x60, 0, 0, 0x60, 1, 0x7e, 1, 0x7e, 0x60, 2, 0x7e, 0x7e, 0]);
    payloads.set(1, o.take());
  }
  // import: the metering imports first
  {
    const o = new Out();
    const r = readerOf(2);
    o.u32(m.imports.length + 2);
    o.name(METERING_IMPORT_MODULE); o.name('out_of_instructions'); o.byte(0); o.u32(tOoi);
    o.name(METERING_IMPORT_MODULE); o.name('yield'); o.byte(0); o.u32(tVoid);
    if (r) {
      r.u32();
      o.bytes(wasm.subarray(r.pos, r.end));
    }
    payloads.set(2, o.take());
  }
  // function: + ooi, decr
  {
    const o = new Out();
    const r = readerOf(3);
    o.u32(definedFunctions + (marks ? 4 : 2));
    if (r) {
      r.u32();
      o.bytes(wasm.subarray(r.pos, r.end));
    }
    o.u32(tVoid);
    o.u32(tDecr);
    if (marks) {
      o.u32(tMark);
      o.u32(tVoid);
    }
    payloads.set(3, o.take());
  }
  // memory: + the marks (32-bit, sized for the heap's minimum; sync() grows it with the heap)
  if (marks && heap) {
    const o = new Out();
    const r = readerOf(5);
    o.u32((r ? m.memories.length - m.imports.filter((i) => i.kind === 2).length : 0) + 1);
    if (r) {
      r.u32();
      o.bytes(wasm.subarray(r.pos, r.end));
    }
    o.byte(0x00);
    o.u32(Number(markPagesFor(heap.min)));
    payloads.set(5, o.take());
  }
  // global: initializers renumbered, + the counter
  {
    const o = new Out();
    const r = readerOf(6);
    o.u32(m.globals.length + 1);
    if (r) {
      for (let n = r.u32(); n > 0; n--) {
        copyRefType(r, o); // value type
        o.byte(r.u8()); // mutability
        copyConstExpr(r, o, S);
      }
    }
    o.bytes([0x7e, 0x01, 0x42, 0x00, 0x0b]);
    payloads.set(6, o.take());
  }
  // export: function indices moved, + the counter
  {
    const o = new Out();
    o.u32(m.exports.length + (marks ? 2 : 1));
    for (const e of m.exports) {
      o.name(e.name);
      o.byte(e.kind);
      o.u32(e.kind === 0 ? e.index + S : e.index);
    }
    o.name(INSTRUCTIONS_COUNTER_EXPORT);
    o.byte(3);
    o.u32(counter);
    if (marks) {
      o.name(WRITTEN_PAGES_EXPORT);
      o.byte(2);
      o.u32(marks.markMem);
    }
    payloads.set(7, o.take());
  }
  if (m.start !== null) {
    const o = new Out();
    o.u32(m.start + S);
    payloads.set(8, o.take());
  }
  {
    const r = readerOf(9);
    if (r) {
      const o = new Out();
      rewriteElements(r, o, S);
      payloads.set(9, o.take());
    }
  }
  // code: every body metered, + ooi and decr
  {
    const o = new Out();
    const r = readerOf(10);
    o.u32(definedFunctions + (marks ? 4 : 2));
    if (r) {
      let f = 0;
      for (let n = r.u32(); n > 0; n--) {
        const size = r.u32();
        const body = new Out();
        const params = m.types[m.functionTypes[f++]!]?.params.length ?? 0;
        operatorCount += meterBody(wasm, r.pos, r.pos + size, params, body, cx);
        r.advance(size);
        o.u32(body.len);
        o.bytes(body.buf.subarray(0, body.len));
      }
    }
    // ooi: call out_of_instructions; if; call yield; end
    const ooi = [0x00, 0x10, 0x00, 0x04, 0x40, 0x10, 0x01, 0x0b, 0x0b];
    o.u32(ooi.length);
    o.bytes(ooi);
    // decr(n): new = counter - n; counter = new > counter ? i64::MIN : new; if counter < 0 { ooi() }; n
    const d = new Out();
    d.bytes([0x01, 0x01, 0x7e]); // one i64 local
    d.byte(0x23); d.u32(counter);
    d.bytes([0x20, 0x00, 0x7d, 0x22, 0x01]); // local.get 0; i64.sub; local.tee 1
    d.byte(0x23); d.u32(counter);
    d.bytes([0x55, 0x04, 0x7e]); // i64.gt_s; if (result i64)
    d.byte(0x42); d.s64(-(1n << 63n));
    d.bytes([0x05, 0x20, 0x01, 0x0b]); // else local.get 1 end
    d.byte(0x24); d.u32(counter);
    d.byte(0x23); d.u32(counter);
    d.bytes([0x42, 0x00, 0x53, 0x04, 0x40, 0x10]); d.u32(ooiFn); d.byte(0x0b);
    d.bytes([0x20, 0x00, 0x0b]);
    o.u32(d.len);
    o.bytes(d.buf.subarray(0, d.len));
    operatorCount += 9 + 20;
    if (marks) {
      for (const b of [markRangeBody(marks), syncBody(marks)]) {
        o.u32(b.length);
        o.bytes(b);
      }
    }
    payloads.set(10, o.take());
  }

  // Assemble: replaced sections in place, new ones where the section order wants them.
  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  const pending = new Set([...payloads.keys()].filter((id) => !sectionOf(id)));
  const flushBefore = (rank: number): void => {
    for (const id of [...pending].sort((a, b) => SECTION_RANK[a]! - SECTION_RANK[b]!)) {
      if (SECTION_RANK[id]! < rank) {
        parts.push(sectionBytes(id, payloads.get(id)!));
        pending.delete(id);
      }
    }
  };
  for (const s of m.sections) {
    if (s.id === 0) {
      const name = new Reader(wasm, s.payloadStart, s.end).name();
      if (name !== 'name') parts.push(wasm.subarray(s.headerStart, s.end));
      continue;
    }
    flushBefore(SECTION_RANK[s.id]!);
    const p = payloads.get(s.id);
    parts.push(p ? sectionBytes(s.id, p) : wasm.subarray(s.headerStart, s.end));
  }
  flushBefore(Infinity);
  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    bytes.set(p, at);
    at += p.length;
  }
  return { bytes, instrumentedOperatorCount: operatorCount, writtenPagesExport: marks ? WRITTEN_PAGES_EXPORT : null };
}
