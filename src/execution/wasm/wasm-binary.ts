/**
 * The low-level Wasm binary reader for canister modules: a bounds-checked LEB128 cursor, the
 * section header walk (wasmparser's payload walk in the replica's `check_code_section_size`),
 * and a parse of the sections the host needs (types, imports, functions, tables, memories,
 * globals, exports, start, data offsets, custom section names). Function bodies, elements and
 * tags are left to V8. Malformed input throws WasmDecodeError with the offset.
 */
import { WasmDecodeError } from './custom-sections.ts';

/** The width of memory 0: `wasm64` for a memory64 memory (ic0 pointers and sizes are then i64). */
export type WasmMemoryType = 'wasm32' | 'wasm64';

/** A function signature as Wasm value type names: `i32`, `i64`, `f32`, `f64`, `v128`, `funcref`, ... */
export interface FunctionSignature {
  params: readonly string[];
  results: readonly string[];
}

// ---- binary reading ----------------------------------------------------------------------------

export const hex = (n: number): string => `0x${n.toString(16)}`;

/** A cursor over a byte range; every read checks bounds and throws WasmDecodeError. */
export class Reader {
  readonly b: Uint8Array;
  pos: number;
  readonly end: number;
  constructor(b: Uint8Array, pos: number, end: number) {
    this.b = b;
    this.pos = pos;
    this.end = end;
  }
  fail(what: string): never {
    throw new WasmDecodeError(`${what} (at offset ${hex(this.pos)})`);
  }
  u8(): number {
    if (this.pos >= this.end) this.fail('unexpected end-of-file');
    return this.b[this.pos++]!;
  }
  /** Unsigned LEB128, at most 32 bits. */
  u32(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const x = this.u8();
      result += (x & 0x7f) * 2 ** shift;
      if ((x & 0x80) === 0) {
        if (result > 0xffff_ffff) this.fail('invalid var_u32: integer too large');
        return result;
      }
    }
    return this.fail('invalid var_u32: integer representation too long');
  }
  /** Unsigned LEB128, at most 64 bits (memory64 limits). */
  u64(): bigint {
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      const x = this.u8();
      result |= BigInt(x & 0x7f) << shift;
      if ((x & 0x80) === 0) {
        if (result >= 1n << 64n) this.fail('invalid var_u64: integer too large');
        return result;
      }
    }
    return this.fail('invalid var_u64: integer representation too long');
  }
  /** Signed LEB128 of up to `bits` bits; returns the value as a bigint. */
  signed(bits: number): bigint {
    let result = 0n;
    let shift = 0n;
    const maxBytes = Math.ceil(bits / 7);
    for (let i = 0; i < maxBytes; i++) {
      const x = this.u8();
      result |= BigInt(x & 0x7f) << shift;
      shift += 7n;
      if ((x & 0x80) === 0) {
        if (x & 0x40) result -= 1n << shift;
        return result;
      }
    }
    return this.fail(`invalid var_s${bits}: integer representation too long`);
  }
  advance(n: number): void {
    if (n > this.end - this.pos) this.fail('unexpected end-of-file');
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.advance(n);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(this.b.subarray(start, start + n));
    } catch {
      this.pos = start;
      return this.fail('malformed UTF-8 encoding');
    }
  }
}

/** Value type names; reference types get their wat shorthand. */
function readValType(r: Reader): string {
  const t = r.u8();
  switch (t) {
    case 0x7f: return 'i32';
    case 0x7e: return 'i64';
    case 0x7d: return 'f32';
    case 0x7c: return 'f64';
    case 0x7b: return 'v128';
    case 0x70: return 'funcref';
    case 0x6f: return 'externref';
    case 0x64: // (ref ht)
    case 0x63: { // (ref null ht)
      const ht = r.signed(33);
      return `(ref${t === 0x63 ? ' null' : ''} ${ht})`;
    }
    default:
      if (t >= 0x69 && t <= 0x74) return `ref:${hex(t)}`; // other abstract heap type shorthands
      r.pos--;
      return r.fail(`invalid value type ${hex(t)}`);
  }
}

/** Skips a constant expression up to and including its `end`; returns its first opcode and immediate. */
function readConstExpr(r: Reader): { op: number; imm: bigint | null } {
  let first: { op: number; imm: bigint | null } | null = null;
  for (;;) {
    const op = r.u8();
    let imm: bigint | null = null;
    switch (op) {
      case 0x0b:
        return first ?? { op, imm: null };
      case 0x41: imm = r.signed(32); break; // i32.const
      case 0x42: imm = r.signed(64); break; // i64.const
      case 0x43: r.advance(4); break; // f32.const
      case 0x44: r.advance(8); break; // f64.const
      case 0x23: imm = BigInt(r.u32()); break; // global.get
      case 0xd0: r.signed(33); break; // ref.null ht
      case 0xd2: imm = BigInt(r.u32()); break; // ref.func
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended-const arithmetic
      case 0xfd: { // v128.const
        const sub = r.u32();
        if (sub !== 12) r.fail(`invalid constant expression opcode 0xfd ${sub}`);
        r.advance(16);
        break;
      }
      default:
        r.pos--;
        r.fail(`invalid constant expression opcode ${hex(op)}`);
    }
    first ??= { op, imm };
  }
}

export interface Limits {
  /** Limits flag bit 2: an i64 index type (memory64 / table64). */
  is64: boolean;
  shared: boolean;
  /** The minimum size (memory: 64 KiB pages; table: elements). */
  min: bigint;
}

function readLimits(r: Reader, kind: 'memory' | 'table'): Limits {
  const flags = r.u8();
  if (flags > (kind === 'memory' ? 0x0f : 0x07)) {
    r.pos--;
    r.fail(`invalid ${kind} limits flags ${hex(flags)}`);
  }
  const is64 = (flags & 0x04) !== 0;
  const read = is64 ? () => r.u64() : () => BigInt(r.u32());
  const min = read();
  if (flags & 0x01) read(); // maximum
  if (flags & 0x08) r.u32(); // custom page size (log2)
  return { is64, shared: (flags & 0x02) !== 0, min };
}

function readTableType(r: Reader): Limits {
  readValType(r); // element reference type
  return readLimits(r, 'table');
}

/** A section's byte ranges in the raw module. */
export interface Section {
  id: number;
  /** Offset of the section id byte. */
  headerStart: number;
  payloadStart: number;
  end: number;
}

/** What the host needs to know about a module, read without compiling it. */
export interface ParsedModule {
  sections: Section[];
  customSections: { name: string; size: number }[];
  types: (FunctionSignature | null)[];
  imports: { module: string; name: string; kind: number; typeIndex: number }[];
  importedFunctionCount: number;
  importedGlobalCount: number;
  memories: Limits[];
  tables: Limits[];
  /** Offset of the memory section payload (or of the first extra imported memory), for errors. */
  memoryCountOffset: number;
  functionTypes: number[];
  globals: { type: string; mutable: boolean }[];
  exports: { name: string; kind: number; index: number }[];
  /** Where the export entries start (after the count) and end, if there is an export section. */
  exportEntries: { start: number; end: number } | null;
  start: number | null;
  dataOffsets: { op: number; imm: bigint | null }[];
}

export const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/**
 * Lists the sections (headers only), like wasmparser's payload walk in the replica's
 * `check_code_section_size`.
 * @throws WasmDecodeError on a bad header or a section running past the end.
 */
export function readSectionHeaders(wasm: Uint8Array): Section[] {
  const r = new Reader(wasm, 0, wasm.length);
  const magic = [0x00, 0x61, 0x73, 0x6d];
  for (const m of magic) if (r.u8() !== m) r.fail('magic header not detected: bad magic number');
  const version = wasm[4]! | (wasm[5]! << 8) | (wasm[6]! << 16) | (wasm[7]! << 24);
  r.advance(4);
  if (version !== 1) {
    r.pos = 4;
    r.fail(`unknown binary version: ${hex(version)}`);
  }
  const sections: Section[] = [];
  while (r.pos < r.end) {
    const headerStart = r.pos;
    const id = r.u8();
    const size = r.u32();
    const payloadStart = r.pos;
    if (size > r.end - payloadStart) r.fail('section too large');
    if (id !== 0 && SECTION_RANK[id] === undefined) {
      r.pos = headerStart;
      r.fail(`malformed section id: ${id}`);
    }
    sections.push({ id, headerStart, payloadStart, end: payloadStart + size });
    r.pos = payloadStart + size;
  }
  return sections;
}

/** Reads the sections the host needs. @throws WasmDecodeError on malformed contents. */
export function parseModule(wasm: Uint8Array, sections: Section[]): ParsedModule {
  const m: ParsedModule = {
    sections,
    customSections: [],
    types: [],
    imports: [],
    importedFunctionCount: 0,
    importedGlobalCount: 0,
    memories: [],
    tables: [],
    memoryCountOffset: 0,
    functionTypes: [],
    globals: [],
    exports: [],
    exportEntries: null,
    start: null,
    dataOffsets: [],
  };
  for (const s of sections) {
    const r = new Reader(wasm, s.payloadStart, s.end);
    if (s.id === 0) {
      const name = r.name();
      m.customSections.push({ name, size: s.end - r.pos });
      continue;
    }
    if (s.id === 8) {
      m.start = r.u32();
    } else if (s.id === 9 || s.id === 10 || s.id === 12 || s.id === 13) {
      continue; // elements, code, datacount, tags: V8's business, nothing the host needs
    } else {
      const count = r.u32();
      if (s.id === 7) m.exportEntries = { start: r.pos, end: s.end };
      if (s.id === 5 && m.memories.length + count > 1) m.memoryCountOffset = s.payloadStart;
      for (let i = 0; i < count; i++) readEntry(r, s.id, m);
    }
    if (r.pos !== s.end) r.fail('section size mismatch: unexpected data at the end of the section');
  }
  return m;
}

function readEntry(r: Reader, id: number, m: ParsedModule): void {
  switch (id) {
    case 1: { // type
      const form = r.u8();
      if (form !== 0x60) {
        r.pos--;
        r.fail(`unsupported type form ${hex(form)}`);
      }
      const params: string[] = [];
      for (let n = r.u32(); n > 0; n--) params.push(readValType(r));
      const results: string[] = [];
      for (let n = r.u32(); n > 0; n--) results.push(readValType(r));
      m.types.push({ params, results });
      return;
    }
    case 2: { // import
      const entryStart = r.pos;
      const module = r.name();
      const name = r.name();
      const kind = r.u8();
      let typeIndex = -1;
      if (kind === 0) {
        typeIndex = r.u32();
        m.importedFunctionCount++;
      } else if (kind === 1) {
        m.tables.push(readTableType(r));
      } else if (kind === 2) {
        if (m.memories.length === 1) m.memoryCountOffset = entryStart;
        m.memories.push(readLimits(r, 'memory'));
      } else if (kind === 3) {
        readValType(r);
        r.u8();
        m.importedGlobalCount++;
      } else if (kind === 4) {
        r.u8();
        typeIndex = r.u32();
      } else {
        r.pos--;
        r.fail(`invalid external kind ${hex(kind)}`);
      }
      m.imports.push({ module, name, kind, typeIndex });
      return;
    }
    case 3:
      m.functionTypes.push(r.u32());
      return;
    case 4: // table (the function-references form `0x40 0x00 tabletype expr` too)
      if (r.b[r.pos] === 0x40) {
        r.advance(1);
        if (r.u8() !== 0x00) r.fail('malformed table type');
        m.tables.push(readTableType(r));
        readConstExpr(r);
      } else {
        m.tables.push(readTableType(r));
      }
      return;
    case 5:
      m.memories.push(readLimits(r, 'memory'));
      return;
    case 6: {
      const type = readValType(r);
      const mut = r.u8();
      if (mut > 1) r.fail('malformed mutability');
      readConstExpr(r);
      m.globals.push({ type, mutable: mut === 1 });
      return;
    }
    case 7: {
      const name = r.name();
      const kind = r.u8();
      const index = r.u32();
      m.exports.push({ name, kind, index });
      return;
    }
    case 11: {
      const flags = r.u32();
      if (flags === 1) {
        r.advance(r.u32());
        return;
      }
      if (flags === 2) r.u32(); // memory index
      else if (flags !== 0) r.fail(`invalid data segment flags ${flags}`);
      m.dataOffsets.push(readConstExpr(r));
      r.advance(r.u32());
      return;
    }
    default:
      r.fail(`unexpected section ${id}`);
  }
}

// ---- lookups -----------------------------------------------------------------------------------

/** The signature of type `typeIndex` (an index out of range is a host bug: V8 validated the module). */
export function funcType(m: ParsedModule, typeIndex: number): FunctionSignature {
  const t = m.types[typeIndex];
  if (!t) throw new Error(`type index ${typeIndex} out of range after V8 validation`); // host bug
  return t;
}

/** The signature of function `index` in the function index space (imports first). */
export function functionSignature(m: ParsedModule, index: number): FunctionSignature {
  if (index < m.importedFunctionCount) {
    const imp = m.imports.filter((i) => i.kind === 0)[index]!;
    return funcType(m, imp.typeIndex);
  }
  const typeIndex = m.functionTypes[index - m.importedFunctionCount];
  if (typeIndex === undefined) throw new Error(`function index ${index} out of range after V8 validation`);
  return funcType(m, typeIndex);
}
