/**
 * A canister Wasm module prepared for execution: decoded (gunzipped), validated the way the
 * replica validates at install_code, rewritten so the host can run it, and compiled by V8.
 *
 * The rewrite (compare the replica's instrumentation, dfinity/ic
 * rs/embedders/src/wasm_utils/instrumentation.rs, which exports `table` and turns the start
 * section into `canister_start`) adds exports and drops the start section, and leaves every
 * other byte as it was:
 *  - every module-defined mutable global as `__g<i>` (so memory + globals can be snapshotted
 *    for queries and rolled back on traps),
 *  - table 0 as `__table` (call_new callbacks are table indices),
 *  - memory 0 as `__memory` (a module without memory gets an empty 32-bit one, which is what
 *    the replica's heap is for such a module),
 *  - the start function as `__start` (so an upgrade with enhanced orthogonal persistence can
 *    put the kept memory in place before the start function runs).
 * If the module already uses one of these names the prefix grows (`___g0`, ...); the names
 * actually used are in {@link CanisterModule.exportNames} and {@link CanisterModule.globals}.
 *
 * Validation follows the replica's order and texts (rs/embedders/src/wasm_utils/validation.rs
 * `validate_wasm_binary`; Display texts from rs/types/wasm_types/src/errors.rs). V8 stands in
 * for wasmtime's `Module::validate`; it accepts a few proposals wasmtime is configured to reject
 * (multi-memory, shared memory and exceptions are checked here; tail calls, GC and relaxed SIMD
 * are not). The replica's per-function complexity/size limits and the wasm64 maximum memory
 * size are not checked.
 */
import { createHash } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { isGzipped, WasmDecodeError } from './custom-sections.ts';

// ---- public types ------------------------------------------------------------------------------

/** The width of memory 0: `wasm64` for a memory64 memory (ic0 pointers and sizes are then i64). */
export type WasmMemoryType = 'wasm32' | 'wasm64';

/** A function signature as Wasm value type names: `i32`, `i64`, `f32`, `f64`, `v128`, `funcref`, ... */
export interface FunctionSignature {
  params: readonly string[];
  results: readonly string[];
}

/**
 * The System API import table: `ic0` function name → expected signature. Either one map for
 * both widths, or a function giving the map for a module's memory width (the replica's
 * `get_valid_system_apis_common(I32|I64)` plus, for wasm32, `get_valid_system_apis_32_only`).
 */
export type Ic0ImportTable =
  | ReadonlyMap<string, FunctionSignature>
  | ((memoryType: WasmMemoryType) => ReadonlyMap<string, FunctionSignature>);

/** Names of the exports the rewrite added (normally `__memory`, `__table`, `__start`). */
export interface InjectedExportNames {
  memory: string;
  /** null if the module has no table. */
  table: string | null;
  /** null if the module has no start function. */
  start: string | null;
}

/** A validated, rewritten and compiled canister module. */
export interface CanisterModule {
  /** SHA-256 of the module as installed (the possibly gzipped bytes), 32 bytes. */
  hash: Uint8Array;
  /** The compiled, rewritten module (see the module comment for what was added). */
  module: WebAssembly.Module;
  /** 'wasm64' if memory 0 is a memory64 memory, else 'wasm32'. */
  memoryType: WasmMemoryType;
  /** Whether table 0 is a table64 (index type i64): `table.get` then takes a BigInt. */
  table64: boolean;
  /** The exported mutable globals in global-index order: export name and value type. */
  globals: { name: string; type: string }[];
  /** Whether the module had a start section (now the export `exportNames.start`). */
  hasStart: boolean;
  /** Names of the memory, table and start exports the rewrite added. */
  exportNames: InjectedExportNames;
  /** Methods exported as `canister_update <name>`. */
  updateMethods: Set<string>;
  /** Methods exported as `canister_query <name>`. */
  queryMethods: Set<string>;
  /** Methods exported as `canister_composite_query <name>`. */
  compositeQueryMethods: Set<string>;
  /** System methods exported: canister_init, canister_pre_upgrade, canister_post_upgrade, ... */
  systemMethods: Set<string>;
  /** ic0 function imports with the signatures the module declares. */
  ic0Imports: Map<string, { params: string[]; results: string[] }>;
  /**
   * Whether the module has the custom section `icp:private enhanced-orthogonal-persistence`
   * (or `icp:public ...`): Motoko EOP, which requires `wasm_memory_persistence` on upgrade.
   */
  enhancedOrthogonalPersistence: boolean;
}

// ---- errors ------------------------------------------------------------------------------------

/** The replica's `WasmValidationError` variants (rs/types/wasm_types/src/errors.rs). */
export type WasmValidationErrorKind =
  | 'WasmtimeValidation'
  | 'DecodingError'
  | 'InvalidFunctionSignature'
  | 'InvalidImportSection'
  | 'InvalidExportSection'
  | 'DuplicateExport'
  | 'TooManyExports'
  | 'ExportedNamesTooLong'
  | 'InvalidDataSection'
  | 'InvalidCustomSection'
  | 'InvalidGlobalSection'
  | 'TooManyGlobals'
  | 'TooManyFunctions'
  | 'TooManyCustomSections'
  | 'CodeSectionTooLarge'
  | 'ModuleTooLarge';

// `doc_ref` in rs/types/wasm_types/src/errors.rs (http, not https).
const WASM_DOCS = 'http://internetcomputer.org/docs/current/references/execution-errors';
// `ErrorHelp::ToolchainError` Display, as asserted by the replica's `toolchain_error_message` test
// (rs/execution_environment tests, "Error from Canister ...: Canister's Wasm module is not valid: ...").
const TOOLCHAIN_HELP =
  'If you are running this canister in a test environment (e.g., dfx), make sure the test environment is up to date. ' +
  'Otherwise, this is likely an error with the compiler/CDK toolchain being used to build the canister. ' +
  'Please report the error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';

/** `AsErrorHelp for WasmValidationError` (rs/types/wasm_types/src/errors.rs). */
function helpFor(kind: WasmValidationErrorKind, name: string): string {
  const user = (suggestion: string, anchor: string): string => `${suggestion} See documentation: ${WASM_DOCS}#${anchor}`;
  switch (kind) {
    case 'DuplicateExport':
      return user(
        `Try defining different versions of the function for each call type, e.g. \`${name}_update\`, \`${name}_query\`, etc.`,
        'wasm-module-duplicate-exports',
      );
    case 'TooManyExports':
      return user('Try combining multiple endpoints into a single endpoint.', 'wasm-module-exports-too-many-methods');
    case 'ExportedNamesTooLong':
      return user('Try using shorter method names.', 'wasm-module-sum-of-exported-name-lengths-too-large');
    case 'TooManyFunctions':
      return user('Try spliting this canister into multiple canisters.', 'wasm-module-too-many-functions');
    case 'TooManyGlobals':
      return user(
        'Try collecting multiple globals into a single structured which can be stored on the heap.',
        'wasm-module-too-many-globals',
      );
    case 'CodeSectionTooLarge':
      return user(
        'Try shrinking the module code section using tools like `ic-wasm` or splitting the logic across multiple canisters.',
        'wasm-module-code-section-too-large',
      );
    case 'ModuleTooLarge':
      return user(
        'Try shrinking the module using tools like `ic-wasm` or splitting the logic across multiple canisters.',
        'wasm-module-too-large',
      );
    default:
      return TOOLCHAIN_HELP;
  }
}

/**
 * A module the replica would reject at install_code. `message` is the replica's
 * `WasmValidationError` Display text; `help` its help line. The user-facing text is
 * `Canister's Wasm module is not valid: <message>` + `\n<help>` (IC0505, `errors.invalidWasm`).
 */
export class WasmValidationError extends Error {
  readonly kind: WasmValidationErrorKind;
  /** The help line the replica appends after a newline (`ErrorHelp` Display). */
  readonly help: string;
  constructor(kind: WasmValidationErrorKind, message: string, helpName = '') {
    super(message);
    this.name = 'WasmValidationError';
    this.kind = kind;
    this.help = helpFor(kind, helpName);
  }
  /** `<message>\n<help>`: the detail after `Canister's Wasm module is not valid: `. */
  get detail(): string {
    return `${this.message}\n${this.help}`;
  }
}

// Display texts, rs/types/wasm_types/src/errors.rs `impl Display for WasmValidationError`.
const invalid = {
  wasmtime: (e: string) =>
    new WasmValidationError('WasmtimeValidation', `Wasmtime failed to validate wasm module wasmtime::Module::validate() failed with ${e}`),
  decoding: (e: string) => new WasmValidationError('DecodingError', `Failed to decode wasm module: ${e}`),
  signature: (e: string) => new WasmValidationError('InvalidFunctionSignature', `Wasm module has an invalid function signature. ${e}`),
  imports: (e: string) => new WasmValidationError('InvalidImportSection', `Wasm module has an invalid import section. ${e}`),
  exports: (e: string) => new WasmValidationError('InvalidExportSection', `Wasm module has an invalid export section. ${e}`),
  data: (e: string) => new WasmValidationError('InvalidDataSection', `Wasm module has an invalid data section. ${e}`),
  custom: (e: string) => new WasmValidationError('InvalidCustomSection', `Wasm module has an invalid custom section. ${e}`),
  global: (e: string) => new WasmValidationError('InvalidGlobalSection', `Wasm module has an invalid global section. ${e}`),
};

// ---- limits (rs/config/src/embedders.rs, rs/embedders/src/wasm_utils/validation.rs) ------------

/** MAX_WASM_MODULE_SIZE_BYTES: 100 MiB, after decompression. */
export const MAX_WASM_MODULE_SIZE_BYTES = 100 * 1024 * 1024;
const MAX_CODE_SECTION_SIZE_IN_BYTES = 10 * 1024 * 1024;
const MAX_GLOBALS = 1000;
const MAX_FUNCTIONS = 50_000;
const MAX_CUSTOM_SECTIONS = 16;
const MAX_CUSTOM_SECTIONS_SIZE = 1_048_576;
const MAX_NUMBER_EXPORTED_FUNCTIONS = 1000;
const MAX_SUM_EXPORTED_FUNCTION_NAME_LENGTHS = 20_000;

/** `RESERVED_SYMBOLS` in validation.rs: names the replica's instrumentation uses. */
const RESERVED_SYMBOLS = new Set([
  'canister counter_instructions',
  'canister_start',
  'canister counter_dirty_pages',
  'canister counter_accessed_pages',
  'stable_memory',
  'stable_bytemap_memory',
]);

/**
 * System functions a module may export (validation.rs `valid_system_functions`, plus the
 * interface spec's `canister_on_low_wasm_memory`); each must be `() -> ()`.
 */
export const SYSTEM_METHODS = [
  'canister_init',
  'canister_pre_upgrade',
  'canister_post_upgrade',
  'canister_inspect_message',
  'canister_heartbeat',
  'canister_global_timer',
  'canister_on_low_wasm_memory',
] as const;
const SYSTEM_METHOD_SET: ReadonlySet<string> = new Set(SYSTEM_METHODS);
const METHOD_PREFIXES = ['canister_update ', 'canister_query ', 'canister_composite_query '] as const;

const EOP_SECTION = 'enhanced-orthogonal-persistence';

// ---- binary reading ----------------------------------------------------------------------------

const hex = (n: number): string => `0x${n.toString(16)}`;

/** A cursor over a byte range; every read checks bounds and throws WasmDecodeError. */
class Reader {
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
  skip(n: number): void {
    if (n > this.end - this.pos) this.fail('unexpected end-of-file');
    this.pos += n;
  }
  name(): string {
    const n = this.u32();
    const start = this.pos;
    this.skip(n);
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
      case 0x43: r.skip(4); break; // f32.const
      case 0x44: r.skip(8); break; // f64.const
      case 0x23: imm = BigInt(r.u32()); break; // global.get
      case 0xd0: r.signed(33); break; // ref.null ht
      case 0xd2: imm = BigInt(r.u32()); break; // ref.func
      case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e: break; // extended-const arithmetic
      case 0xfd: { // v128.const
        const sub = r.u32();
        if (sub !== 12) r.fail(`invalid constant expression opcode 0xfd ${sub}`);
        r.skip(16);
        break;
      }
      default:
        r.pos--;
        r.fail(`invalid constant expression opcode ${hex(op)}`);
    }
    first ??= { op, imm };
  }
}

interface Limits {
  /** Limits flag bit 2: an i64 index type (memory64 / table64). */
  is64: boolean;
  shared: boolean;
}

function readLimits(r: Reader, kind: 'memory' | 'table'): Limits {
  const flags = r.u8();
  if (flags > (kind === 'memory' ? 0x0f : 0x07)) {
    r.pos--;
    r.fail(`invalid ${kind} limits flags ${hex(flags)}`);
  }
  const is64 = (flags & 0x04) !== 0;
  const read = is64 ? () => void r.u64() : () => void r.u32();
  read(); // minimum
  if (flags & 0x01) read(); // maximum
  if (flags & 0x08) r.u32(); // custom page size (log2)
  return { is64, shared: (flags & 0x02) !== 0 };
}

function readTableType(r: Reader): Limits {
  readValType(r); // element reference type
  return readLimits(r, 'table');
}

/** A section's byte ranges in the raw module. */
interface Section {
  id: number;
  /** Offset of the section id byte. */
  headerStart: number;
  payloadStart: number;
  end: number;
}

/** What the host needs to know about a module, read without compiling it. */
interface ParsedModule {
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

const SECTION_RANK: Record<number, number> = { 1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 13: 6, 6: 7, 7: 8, 8: 9, 9: 10, 12: 11, 10: 12, 11: 13 };

/**
 * Lists the sections (headers only), like wasmparser's payload walk in the replica's
 * `check_code_section_size`.
 * @throws WasmDecodeError on a bad header or a section running past the end.
 */
function readSectionHeaders(wasm: Uint8Array): Section[] {
  const r = new Reader(wasm, 0, wasm.length);
  const magic = [0x00, 0x61, 0x73, 0x6d];
  for (const m of magic) if (r.u8() !== m) r.fail('magic header not detected: bad magic number');
  const version = wasm[4]! | (wasm[5]! << 8) | (wasm[6]! << 16) | (wasm[7]! << 24);
  r.skip(4);
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
function parseModule(wasm: Uint8Array, sections: Section[]): ParsedModule {
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
        r.skip(1);
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
        r.skip(r.u32());
        return;
      }
      if (flags === 2) r.u32(); // memory index
      else if (flags !== 0) r.fail(`invalid data segment flags ${flags}`);
      m.dataOffsets.push(readConstExpr(r));
      r.skip(r.u32());
      return;
    }
    default:
      r.fail(`unexpected section ${id}`);
  }
}

// ---- binary writing ----------------------------------------------------------------------------

function leb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

const utf8 = new TextEncoder();

function exportEntry(name: string, kind: number, index: number): number[] {
  const bytes = utf8.encode(name);
  return [...leb(bytes.length), ...bytes, kind, ...leb(index)];
}

function section(id: number, payload: Uint8Array): Uint8Array {
  const head = [id, ...leb(payload.length)];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return out;
}

/** The prefix for injected exports: `__`, lengthened until it clashes with no module export. */
function injectedPrefix(exportNames: readonly string[]): string {
  let prefix = '__';
  const clashes = (p: string): boolean =>
    exportNames.some((n) => n.startsWith(p) && /^(memory|table|start|g\d+)$/.test(n.slice(p.length)));
  while (clashes(prefix)) prefix += '_';
  return prefix;
}

interface Rewrite {
  bytes: Uint8Array<ArrayBuffer>;
  globals: { name: string; type: string }[];
  exportNames: InjectedExportNames;
}

/**
 * Adds the host's exports, drops the start section, and adds an empty memory if there is none.
 * Every other section is copied byte for byte; new sections go where the section order wants
 * them (memory before tag/global, export after global and before start/element/datacount/code).
 */
function rewrite(wasm: Uint8Array, m: ParsedModule): Rewrite {
  const prefix = injectedPrefix(m.exports.map((e) => e.name));
  const extra: number[] = [];
  let added = 0;
  const add = (name: string, kind: number, index: number): void => {
    extra.push(...exportEntry(name, kind, index));
    added++;
  };
  const exportNames: InjectedExportNames = { memory: `${prefix}memory`, table: null, start: null };
  add(exportNames.memory, 2, 0);
  if (m.tables.length > 0) {
    exportNames.table = `${prefix}table`;
    add(exportNames.table, 1, 0);
  }
  const globals: { name: string; type: string }[] = [];
  m.globals.forEach((g, i) => {
    if (!g.mutable) return;
    const name = `${prefix}g${globals.length}`;
    globals.push({ name, type: g.type });
    add(name, 3, m.importedGlobalCount + i);
  });
  if (m.start !== null) {
    exportNames.start = `${prefix}start`;
    add(exportNames.start, 0, m.start);
  }

  const old = m.exportEntries ? wasm.subarray(m.exportEntries.start, m.exportEntries.end) : new Uint8Array(0);
  const exportPayload = new Uint8Array([...leb(m.exports.length + added), ...old, ...extra]);
  const exportSection = section(7, exportPayload);
  // An empty 32-bit memory for a module without one: (memory 0).
  let pendingMemory: Uint8Array | null = m.memories.length === 0 ? section(5, new Uint8Array([1, 0x00, 0])) : null;
  let pendingExport: Uint8Array | null = m.exportEntries ? null : exportSection;

  const parts: Uint8Array[] = [wasm.subarray(0, 8)];
  for (const s of m.sections) {
    const rank = SECTION_RANK[s.id];
    if (rank !== undefined) {
      if (pendingMemory && rank > SECTION_RANK[5]!) {
        parts.push(pendingMemory);
        pendingMemory = null;
      }
      if (pendingExport && rank > SECTION_RANK[7]!) {
        parts.push(pendingExport);
        pendingExport = null;
      }
    }
    if (s.id === 8) continue; // start: now an export
    if (s.id === 5 && pendingMemory) {
      parts.push(pendingMemory); // an empty memory section (count 0): replace it
      pendingMemory = null;
      continue;
    }
    parts.push(s.id === 7 ? exportSection : wasm.subarray(s.headerStart, s.end));
  }
  if (pendingMemory) parts.push(pendingMemory);
  if (pendingExport) parts.push(pendingExport);

  const total = parts.reduce((n, p) => n + p.length, 0);
  const bytes = new Uint8Array(total);
  let o = 0;
  for (const p of parts) {
    bytes.set(p, o);
    o += p.length;
  }
  return { bytes, globals, exportNames };
}

// ---- validation --------------------------------------------------------------------------------

/**
 * The raw Wasm of an installed module (validation.rs's caller: rs/embedders/src/wasm_utils/
 * decoding.rs `decode_wasm`): `\0asm` as is, gzip (`1f 8b 08`) decompressed, anything else
 * rejected; at most {@link MAX_WASM_MODULE_SIZE_BYTES} after decompression.
 * @throws WasmValidationError (DecodingError, ModuleTooLarge).
 */
export function decodeCanisterModule(installed: Uint8Array): Uint8Array<ArrayBuffer> {
  const tooLarge = (size: number) =>
    new WasmValidationError(
      'ModuleTooLarge',
      `Wasm module size of ${size} exceeds the maximum allowed size of ${MAX_WASM_MODULE_SIZE_BYTES}.`,
    );
  if (installed.length >= 4 && installed[0] === 0 && installed[1] === 0x61 && installed[2] === 0x73 && installed[3] === 0x6d) {
    if (installed.length > MAX_WASM_MODULE_SIZE_BYTES) throw tooLarge(installed.length);
    // V8's API takes ArrayBuffer-backed views only; copy the rare SharedArrayBuffer-backed one.
    return installed.buffer instanceof ArrayBuffer ? (installed as Uint8Array<ArrayBuffer>) : new Uint8Array(installed);
  }
  if (!isGzipped(installed)) throw invalid.decoding('unsupported canister module format');
  if (installed.length < 16) throw invalid.decoding('invalid Wasm module: gzip stream is too short');
  // The gzip footer's ISIZE: the uncompressed size mod 2^32 (RFC 1952), not to be trusted.
  const n = installed.length;
  const declared = (installed[n - 4]! | (installed[n - 3]! << 8) | (installed[n - 2]! << 16) | (installed[n - 1]! << 24)) >>> 0;
  if (declared > MAX_WASM_MODULE_SIZE_BYTES) throw tooLarge(declared);
  let raw: Uint8Array<ArrayBuffer>;
  try {
    // Like the replica, read at most one byte more than declared.
    raw = new Uint8Array(gunzipSync(installed, { maxOutputLength: declared + 1 }));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') {
      throw invalid.decoding(`specified uncompressed size ${declared} does not match extracted size ${declared + 1}`);
    }
    throw invalid.decoding(`failed to decode compressed Wasm module: ${(e as Error).message}`);
  }
  if (raw.length !== declared) {
    throw invalid.decoding(`specified uncompressed size ${declared} does not match extracted size ${raw.length}`);
  }
  return raw;
}

/** Rust's `{:?}` of a wasmparser `ValType` list, e.g. `[I32, I64]`. */
function debugTypes(types: readonly string[]): string {
  const debug = (t: string): string => {
    if (/^(i32|i64|f32|f64|v128)$/.test(t)) return t.toUpperCase();
    return `Ref(${t})`;
  };
  return `[${types.map(debug).join(', ')}]`;
}

/** validation.rs `validate_function_signature`. */
function checkSignature(expected: FunctionSignature, field: string, actual: FunctionSignature): void {
  const same = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);
  if (!same(actual.params, expected.params)) {
    throw invalid.signature(`Expected input params ${debugTypes(expected.params)} for '${field}', got ${debugTypes(actual.params)}.`);
  }
  if (!same(actual.results, expected.results)) {
    throw invalid.signature(`Expected return type ${debugTypes(expected.results)} for '${field}', got ${debugTypes(actual.results)}.`);
  }
}

/** Rust's `{:?}` of a `&str`. */
const debugStr = (s: string): string => JSON.stringify(s);

/** validation.rs `validate_import_section`. */
function checkImports(m: ParsedModule, ic0: ReadonlyMap<string, FunctionSignature>): void {
  for (const imp of m.imports) {
    if (imp.kind === 0) {
      const sig = ic0.get(imp.name);
      if (!sig) {
        throw invalid.imports(`Module imports function '${imp.name}' from '${imp.module}' that is not exported by the runtime.`);
      }
      if (imp.module !== 'ic0') {
        throw invalid.imports(
          `Module imports function ${debugStr(imp.name)} from ${debugStr(imp.module)}, expected to be imported from one of ["ic0"] instead.`,
        );
      }
      checkSignature(sig, imp.name, funcType(m, imp.typeIndex));
    } else if (imp.kind === 1) {
      if (imp.name === 'table' && imp.module !== 'env') throw invalid.imports('Only tables imported from env.table are allowed.');
    } else if (imp.kind === 2) {
      if (imp.name === 'memory' && imp.module !== 'env') throw invalid.imports('Only memory imported from env.memory is allowed.');
    } else if (imp.kind === 3) {
      throw invalid.imports('Importing globals is not allowed.');
    } else {
      throw invalid.imports('Importing tags is not allowed.');
    }
  }
}

function funcType(m: ParsedModule, typeIndex: number): FunctionSignature {
  const t = m.types[typeIndex];
  if (!t) throw new Error(`type index ${typeIndex} out of range after V8 validation`); // host bug
  return t;
}

/** The signature of function `index` in the function index space (imports first). */
function functionSignature(m: ParsedModule, index: number): FunctionSignature {
  if (index < m.importedFunctionCount) {
    const imp = m.imports.filter((i) => i.kind === 0)[index]!;
    return funcType(m, imp.typeIndex);
  }
  const typeIndex = m.functionTypes[index - m.importedFunctionCount];
  if (typeIndex === undefined) throw new Error(`function index ${index} out of range after V8 validation`);
  return funcType(m, typeIndex);
}

/** validation.rs `validate_export_section`; returns the method sets. */
function checkExports(m: ParsedModule) {
  const methods = {
    update: new Set<string>(),
    query: new Set<string>(),
    composite_query: new Set<string>(),
    system: new Set<string>(),
  };
  const seen = new Set<string>();
  let count = 0;
  let nameLengths = 0;
  const unit: FunctionSignature = { params: [], results: [] };
  for (const e of m.exports) {
    if (RESERVED_SYMBOLS.has(e.name)) throw invalid.exports(`Exporting reserved symbol ${e.name} not allowed.`);
    if (e.kind !== 0) continue;
    const prefix = METHOD_PREFIXES.find((p) => e.name.startsWith(p));
    if (prefix) {
      const method = e.name.slice(prefix.length);
      if (seen.has(method)) {
        throw new WasmValidationError(
          'DuplicateExport',
          `Duplicate function '${method}' exported multiple times with different call types: update, query, or composite_query.`,
          method,
        );
      }
      seen.add(method);
      count++;
      nameLengths += utf8.encode(method).length;
      const kind = prefix.slice('canister_'.length, -1) as 'update' | 'query' | 'composite_query';
      methods[kind].add(method);
    } else if (e.name.startsWith('canister_')) {
      if (!SYSTEM_METHOD_SET.has(e.name)) throw invalid.exports(`Exporting reserved function '${e.name}' with "canister_" prefix`);
      methods.system.add(e.name);
    } else {
      continue;
    }
    checkSignature(unit, e.name, functionSignature(m, e.index));
  }
  if (count > MAX_NUMBER_EXPORTED_FUNCTIONS) {
    throw new WasmValidationError(
      'TooManyExports',
      'The number of exported functions called `canister_update <name>`, `canister_query <name>`, or ' +
        `\`canister_composite_query <name>\` is ${count} which exceeds ${MAX_NUMBER_EXPORTED_FUNCTIONS}.`,
    );
  }
  if (nameLengths > MAX_SUM_EXPORTED_FUNCTION_NAME_LENGTHS) {
    throw new WasmValidationError(
      'ExportedNamesTooLong',
      'The sum of `<name>` lengths in exported functions called `canister_update <name>`, `canister_query <name>`, ' +
        `or \`canister_composite_query <name>\` is ${nameLengths} which exceeds the allowed limit of ${MAX_SUM_EXPORTED_FUNCTION_NAME_LENGTHS}.`,
    );
  }
  return methods;
}

/** validation.rs `validate_data_section`: active segment offsets must be a constant. */
function checkData(m: ParsedModule, memoryType: WasmMemoryType): void {
  const ok = memoryType === 'wasm64' ? 0x42 : 0x41;
  for (const d of m.dataOffsets) {
    if (d.op === ok) continue;
    const operator =
      d.op === 0x23 ? `GlobalGet { global_index: ${d.imm} }`
      : d.op === 0x41 ? `I32Const { value: ${d.imm} }`
      : d.op === 0x42 ? `I64Const { value: ${d.imm} }`
      : `opcode ${hex(d.op)}`;
    const bits = memoryType === 'wasm64' ? '64' : '32';
    throw invalid.data(`Invalid offset expression in data segment for ${bits}bit memory: ${operator}`);
  }
}

/** validation.rs `validate_global_section` and `validate_function_section`. */
function checkGlobalsAndFunctions(m: ParsedModule): void {
  if (m.globals.length > MAX_GLOBALS) {
    throw new WasmValidationError(
      'TooManyGlobals',
      `Wasm module defined ${m.globals.length} globals which exceeds the maximum number allowed ${MAX_GLOBALS}.`,
    );
  }
  for (const g of m.globals) {
    if (!/^(i32|i64|f32|f64|v128)$/.test(g.type)) throw invalid.global(`Unsupported global type: Ref(${g.type})`);
  }
  if (m.functionTypes.length > MAX_FUNCTIONS) {
    throw new WasmValidationError(
      'TooManyFunctions',
      `Wasm module defined ${m.functionTypes.length} functions which exceeds the maximum number allowed ${MAX_FUNCTIONS}.`,
    );
  }
}

/** validation.rs `validate_custom_section` (`icp:` metadata names, count and size). */
function checkCustomSections(m: ParsedModule): void {
  const names = new Set<string>();
  let total = 0;
  for (const c of m.customSections) {
    if (!c.name.startsWith('icp:')) continue;
    let name: string;
    if (c.name.startsWith('icp:public ')) name = c.name.slice('icp:public '.length);
    else if (c.name.startsWith('icp:private ')) name = c.name.slice('icp:private '.length);
    else if (c.name === 'icp:public' || c.name === 'icp:private') {
      throw invalid.custom("'icp:' section names must have a space after the public/private scope");
    } else {
      throw invalid.custom(`Invalid custom section: Custom section '${c.name}' has no public/private scope defined.`);
    }
    if (names.has(name)) throw invalid.custom(`Invalid custom section: name ${name} already exists`);
    total += c.size + utf8.encode(name).length;
    if (total > MAX_CUSTOM_SECTIONS_SIZE) {
      throw invalid.custom(
        'Invalid custom sections: total size of the custom sections exceeds the maximum allowed: ' +
          `size ${total} bytes, allowed ${MAX_CUSTOM_SECTIONS_SIZE} bytes`,
      );
    }
    names.add(name);
    if (names.size > MAX_CUSTOM_SECTIONS) {
      throw new WasmValidationError(
        'TooManyCustomSections',
        `Wasm module defined ${names.size} custom sections which exceeds the maximum number allowed ${MAX_CUSTOM_SECTIONS}.`,
      );
    }
  }
}

/** V8's compile error text without its `WebAssembly.Module(): ` prefix. */
function v8Message(e: unknown): string {
  return (e as Error).message.replace(/^WebAssembly\.Module\(\): /, '');
}

/**
 * Checks that wasmtime (as the replica configures it, validation.rs `wasmtime_validation_config`)
 * would accept what V8 accepted: no multi-memory, no shared memory, no exceptions; and, as the
 * replica's Wasmtime store holds one table (`MAX_STORE_TABLES = 1`,
 * rs/embedders/src/wasmtime_embedder.rs), at most one table. Only the `multiple memories` text is
 * confirmed (the replica's `toolchain_error_message` test); the other three are approximations
 * in wasmparser's style (the replica reports the table case at instantiation, not validation).
 */
function checkWasmtimeFeatures(m: ParsedModule): void {
  if (m.memories.length > 1) throw invalid.wasmtime(`multiple memories (at offset ${hex(m.memoryCountOffset)})`);
  if (m.memories.some((l) => l.shared)) throw invalid.wasmtime('threads must be enabled for shared memories');
  const tags = m.sections.find((s) => s.id === 13);
  if (tags || m.imports.some((i) => i.kind === 4)) {
    throw invalid.wasmtime(`exceptions proposal not enabled (at offset ${hex(tags?.payloadStart ?? 8)})`);
  }
  if (m.tables.length > 1) throw invalid.wasmtime('multiple tables');
}

// ---- preparation -------------------------------------------------------------------------------

/**
 * Validates, rewrites and compiles a canister module as installed.
 *
 * Steps in the replica's order (validation.rs `validate_wasm_binary`): decode (gzip), code
 * section size, wasmtime validation (V8 here), then imports, exports, data, globals, functions,
 * custom sections.
 *
 * @param installed the module as sent to install_code: raw Wasm or gzip-compressed Wasm.
 * @param supportedIc0 the System API import table (name → expected signature), or a function
 *   giving it for the module's memory width.
 * @throws WasmValidationError with the replica's text if the replica would reject the module.
 */
export function prepareCanisterModule(installed: Uint8Array, supportedIc0: Ic0ImportTable): CanisterModule {
  const hash = new Uint8Array(createHash('sha256').update(installed).digest());
  const wasm = decodeCanisterModule(installed);

  // check_code_section_size: wasmparser's walk over section headers.
  let sections: Section[];
  try {
    sections = readSectionHeaders(wasm);
  } catch (e) {
    if (e instanceof WasmDecodeError) throw invalid.decoding(`Error finding code section: ${e.message}`);
    throw e;
  }
  const code = sections.find((s) => s.id === 10);
  if (code && code.end - code.payloadStart > MAX_CODE_SECTION_SIZE_IN_BYTES) {
    throw new WasmValidationError(
      'CodeSectionTooLarge',
      `Wasm module code section size of ${code.end - code.payloadStart} exceeds the maximum allowed size of ${MAX_CODE_SECTION_SIZE_IN_BYTES}.`,
    );
  }

  // can_compile: V8 validates the whole module (function bodies included).
  if (!WebAssembly.validate(wasm)) {
    try {
      new WebAssembly.Module(wasm);
    } catch (e) {
      throw invalid.wasmtime(v8Message(e));
    }
    throw new Error('WebAssembly.validate rejected a module that WebAssembly.Module accepts');
  }
  let m: ParsedModule;
  try {
    m = parseModule(wasm, sections);
  } catch (e) {
    // V8 accepted it but it uses an encoding we do not read (e.g. GC types): Module::parse fails.
    if (e instanceof WasmDecodeError) throw invalid.decoding(e.message);
    throw e;
  }
  checkWasmtimeFeatures(m);

  const memoryType: WasmMemoryType = m.memories[0]?.is64 ? 'wasm64' : 'wasm32';
  const ic0 = typeof supportedIc0 === 'function' ? supportedIc0(memoryType) : supportedIc0;
  checkImports(m, ic0);
  const methods = checkExports(m);
  checkData(m, memoryType);
  checkGlobalsAndFunctions(m);
  checkCustomSections(m);

  const out = rewrite(wasm, m);
  let module: WebAssembly.Module;
  try {
    module = new WebAssembly.Module(out.bytes);
  } catch (e) {
    throw new Error(`rewritten canister module does not compile: ${v8Message(e)}`); // host bug
  }

  const ic0Imports = new Map<string, { params: string[]; results: string[] }>();
  for (const imp of m.imports) {
    if (imp.kind !== 0) continue;
    const t = funcType(m, imp.typeIndex);
    ic0Imports.set(imp.name, { params: [...t.params], results: [...t.results] });
  }
  return {
    hash,
    module,
    memoryType,
    table64: m.tables[0]?.is64 ?? false,
    globals: out.globals,
    hasStart: m.start !== null,
    exportNames: out.exportNames,
    updateMethods: methods.update,
    queryMethods: methods.query,
    compositeQueryMethods: methods.composite_query,
    systemMethods: methods.system,
    ic0Imports,
    enhancedOrthogonalPersistence: m.customSections.some(
      (c) => c.name === `icp:private ${EOP_SECTION}` || c.name === `icp:public ${EOP_SECTION}`,
    ),
  };
}

// ---- cache -------------------------------------------------------------------------------------

/** How many prepared modules {@link getCanisterModule} keeps (least recently used goes first). */
export const CANISTER_MODULE_CACHE_SIZE = 64;

// One LRU per import table, keyed by the hex SHA-256 of the installed bytes.
const caches = new WeakMap<object, Map<string, CanisterModule>>();

/**
 * {@link prepareCanisterModule} with a per-process cache: a module installed in many canisters,
 * or reloaded after a restart, is validated and compiled once. Failures are not cached.
 *
 * @param installed the module as installed (raw or gzipped).
 * @param supportedIc0 the System API import table; caches are kept per table object.
 * @param hash SHA-256 of `installed` (32 bytes) if the caller has it; computed otherwise.
 * @throws WasmValidationError as {@link prepareCanisterModule}.
 */
export function getCanisterModule(installed: Uint8Array, supportedIc0: Ic0ImportTable, hash?: Uint8Array): CanisterModule {
  let cache = caches.get(supportedIc0);
  if (!cache) {
    cache = new Map();
    caches.set(supportedIc0, cache);
  }
  const key = Buffer.from(hash ?? createHash('sha256').update(installed).digest()).toString('hex');
  const hit = cache.get(key);
  if (hit) {
    cache.delete(key); // move to the most recently used end
    cache.set(key, hit);
    return hit;
  }
  const prepared = prepareCanisterModule(installed, supportedIc0);
  cache.set(key, prepared);
  if (cache.size > CANISTER_MODULE_CACHE_SIZE) cache.delete(cache.keys().next().value!);
  return prepared;
}
