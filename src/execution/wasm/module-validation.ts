/**
 * The replica's install_code validation of a canister module, in its texts: the
 * `WasmValidationError` variants with their Display and help texts (rs/types/wasm_types/src/errors.rs),
 * the limits (rs/config/src/embedders.rs), and the section checks of
 * rs/embedders/src/wasm_utils/validation.rs (imports, exports, data, globals, functions, custom
 * sections, and the wasmtime features V8 would accept but the replica's wasmtime rejects).
 * Checks run on a {@link ParsedModule} of a module V8 has already validated.
 */
import { funcType, functionSignature, hex, type FunctionSignature, type ParsedModule, type WasmMemoryType } from './wasm-binary.ts';

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
export const invalid = {
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
export const MAX_CODE_SECTION_SIZE_IN_BYTES = 10 * 1024 * 1024;
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

const utf8 = new TextEncoder();

// ---- section checks ----------------------------------------------------------------------------

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
export function checkImports(m: ParsedModule, ic0: ReadonlyMap<string, FunctionSignature>): void {
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

/** validation.rs `validate_export_section`; returns the method sets. */
export function checkExports(m: ParsedModule) {
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
export function checkData(m: ParsedModule, memoryType: WasmMemoryType): void {
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
export function checkGlobalsAndFunctions(m: ParsedModule): void {
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
export function checkCustomSections(m: ParsedModule): void {
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
export function v8Message(e: unknown): string {
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
export function checkWasmtimeFeatures(m: ParsedModule): void {
  if (m.memories.length > 1) throw invalid.wasmtime(`multiple memories (at offset ${hex(m.memoryCountOffset)})`);
  if (m.memories.some((l) => l.shared)) throw invalid.wasmtime('threads must be enabled for shared memories');
  const tags = m.sections.find((s) => s.id === 13);
  if (tags || m.imports.some((i) => i.kind === 4)) {
    throw invalid.wasmtime(`exceptions proposal not enabled (at offset ${hex(tags?.payloadStart ?? 8)})`);
  }
  if (m.tables.length > 1) throw invalid.wasmtime('multiple tables');
}
