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
import { instrument, INSTRUCTIONS_COUNTER_EXPORT } from './instrumentation.ts';
import { rewrite, type InjectedExportNames } from './module-rewrite.ts';
import {
  checkCustomSections,
  checkData,
  checkExports,
  checkGlobalsAndFunctions,
  checkImports,
  checkWasmtimeFeatures,
  invalid,
  MAX_CODE_SECTION_SIZE_IN_BYTES,
  MAX_WASM_MODULE_SIZE_BYTES,
  v8Message,
  WasmValidationError,
} from './module-validation.ts';
import {
  funcType,
  parseModule,
  readSectionHeaders,
  type FunctionSignature,
  type ParsedModule,
  type Section,
  type WasmMemoryType,
} from './wasm-binary.ts';

// What other modules import from here; the parts live in wasm-binary.ts (reading),
// module-rewrite.ts (the export rewrite) and module-validation.ts (the replica's checks).
export type { InjectedExportNames } from './module-rewrite.ts';
export {
  MAX_WASM_MODULE_SIZE_BYTES,
  SYSTEM_METHODS,
  WasmValidationError,
  type WasmValidationErrorKind,
} from './module-validation.ts';
export type { FunctionSignature, WasmMemoryType } from './wasm-binary.ts';

// ---- public types ------------------------------------------------------------------------------

/**
 * The System API import table: `ic0` function name → expected signature. Either one map for
 * both widths, or a function giving the map for a module's memory width (the replica's
 * `get_valid_system_apis_common(I32|I64)` plus, for wasm32, `get_valid_system_apis_32_only`).
 */
export type Ic0ImportTable =
  | ReadonlyMap<string, FunctionSignature>
  | ((memoryType: WasmMemoryType) => ReadonlyMap<string, FunctionSignature>);

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
  /** Export name of the instruction counter global the metering pass added (instrumentation.ts). */
  counterExport: string;
  /** Export name of the written-page marks the metering pass added (written-pages.ts); null without memory. */
  writtenPagesExport: string | null;
  /**
   * Operators in the instrumented code: the replica charges `COST_TO_COMPILE_WASM_INSTRUCTION`
   * (6000) instructions for each at install.
   */
  instrumentedOperatorCount: number;
}

const EOP_SECTION = 'enhanced-orthogonal-persistence';

// ---- decoding ----------------------------------------------------------------------------------

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

  // Metering first (counts are defined on the original operators), then the host's exports;
  // the counter global (the last one) is not snapshotted with the canister's globals.
  let metered: ReturnType<typeof instrument>;
  try {
    metered = instrument(wasm, m, memoryType);
  } catch (e) {
    if (e instanceof WasmDecodeError) throw invalid.decoding(e.message);
    throw e;
  }
  const mm = parseModule(metered.bytes, readSectionHeaders(metered.bytes));
  const out = rewrite(metered.bytes, mm, 1);
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
    counterExport: INSTRUCTIONS_COUNTER_EXPORT,
    writtenPagesExport: metered.writtenPagesExport,
    instrumentedOperatorCount: metered.instrumentedOperatorCount,
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
