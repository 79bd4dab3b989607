/**
 * TypeScript canister modules: the code a canister installs when it is written in TypeScript
 * instead of compiled to Wasm. On the wire (install_code's `wasm_module`) such a module is the
 * UTF-8 source prefixed with {@link TS_CANISTER_HEADER}; its module hash is the SHA-256 of those
 * bytes, as for Wasm.
 *
 * Preparing a module: strip the TypeScript types (Node's `module.stripTypeScriptTypes`), turn
 * the allowed imports (`chainkey-replica/canister` only) into reads of the in-context SDK and
 * `export default` into the definition, evaluate it in a fresh V8 context (canister-runtime.js),
 * and check the definition against its Candid service: every service method has a handler of
 * the same kind (`query` methods are queries), and no handler lacks a method. Anything wrong is
 * a {@link TsModuleError} naming what, and nothing is installed.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stripTypeScriptTypes } from 'node:module';
import vm from 'node:vm';
import { IDL } from '@icp-sdk/core/candid';
import { candidInterfaceFromText } from '../../candid/candid-text.ts';

/** First line of a TypeScript canister module's bytes. */
export const TS_CANISTER_HEADER = '// chainkey-replica typescript canister module v1\n';
const HEADER_BYTES = new TextEncoder().encode(TS_CANISTER_HEADER);

/** The SDK module canister code may import (its only import). */
export const SDK_SPECIFIERS = ['chainkey-replica/canister', 'chainkey-replica'];

/** Wall-clock budget of one execution of TypeScript canister code, ms (the instruction limit's stand-in). */
export const DEFAULT_TS_EXECUTION_TIMEOUT_MS = 5_000;

/** A module that cannot be installed, with the reason. */
export class TsModuleError extends Error {
  /** Where in the source a syntax error is (1-based line and column), when known. */
  readonly position: { line: number; column: number } | undefined;
  constructor(detail: string, position?: { line: number; column: number }) {
    super(detail);
    this.name = 'TsModuleError';
    this.position = position;
  }
}

/**
 * The 1-based line and column of a syntax error thrown by `stripTypeScriptTypes` or `vm.Script`:
 * Node and V8 put them only in the stack's head, `<file>:<line>`, a few source lines ending with
 * the offending one, then a line of spaces and carets under the error.
 */
function syntaxErrorPosition(e: unknown): { line: number; column: number } | undefined {
  const lines = String((e as Error)?.stack ?? '').split('\n');
  const line = /:(\d+)$/.exec(lines[0] ?? '')?.[1];
  const caret = lines.findIndex((l, i) => i > 0 && /^ *\^+ *$/.test(l));
  return line && caret > 0 ? { line: Number(line), column: lines[caret]!.indexOf('^') + 1 } : undefined;
}

/** Types and kind of one method. */
export interface TsMethod {
  kind: 'update' | 'query';
  argTypes: IDL.Type[];
  retTypes: IDL.Type[];
}

/** A prepared TypeScript canister module (shares the fields execution reads with Wasm modules). */
export interface TsCanisterModule {
  kind: 'typescript';
  /** SHA-256 of the module bytes, 32 bytes. */
  hash: Uint8Array;
  /** The module as plain JavaScript, ready to evaluate in a canister context. */
  script: vm.Script;
  /** The Candid service description the module declares. */
  candid: string;
  methods: Map<string, TsMethod>;
  initTypes: IDL.Type[];
  updateMethods: Set<string>;
  queryMethods: Set<string>;
  compositeQueryMethods: Set<string>;
  /** canister_init, canister_pre_upgrade, canister_post_upgrade, canister_global_timer as defined. */
  systemMethods: Set<string>;
  memoryType: 'wasm32';
  globals: { name: string; type: string }[];
  hasStart: false;
  enhancedOrthogonalPersistence: false;
  timeoutMs: number;
}

/** Whether installed bytes are a TypeScript canister module (by its header). */
export function isTsCanisterModule(bytes: Uint8Array): boolean {
  if (bytes.length < HEADER_BYTES.length) return false;
  for (let i = 0; i < HEADER_BYTES.length; i++) if (bytes[i] !== HEADER_BYTES[i]) return false;
  return true;
}

/** The bytes to install for a TypeScript canister's source. */
export function encodeTsCanisterModule(source: string): Uint8Array {
  return new TextEncoder().encode(TS_CANISTER_HEADER + source);
}

let runtimeSource: string | undefined;
/** canister-runtime.js, compiled once per process. */
function runtimeScript(): vm.Script {
  runtimeSource ??= readFileSync(new URL('./canister-runtime.js', import.meta.url), 'utf8');
  return new vm.Script(runtimeSource, { filename: 'chainkey-replica:canister-runtime.js' });
}

/**
 * A fresh canister context: no Node or Web APIs, no code generation from strings, its own
 * microtask queue (drained within each evaluation, so the time limit covers it).
 */
export function newCanisterContext(name: string): vm.Context {
  return vm.createContext(vm.constants.DONT_CONTEXTIFY, {
    name,
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
}

/**
 * Installs the runtime in `context` with `host` as its bridge and evaluates the module there.
 * @returns the JSON summary the runtime makes of the definition
 * @throws Error from the module's own code or from the runtime's checks
 */
export function evaluateInContext(module: { script: vm.Script }, context: vm.Context, host: (...args: unknown[]) => unknown, timeoutMs: number): string {
  const install = runtimeScript().runInContext(context) as (h: unknown) => void;
  install(host);
  return module.script.runInContext(context, { timeout: timeoutMs }) as string;
}

/** Rewrites the stripped module: SDK imports → the in-context SDK, `export default` → the definition. */
function linkModule(js: string): string {
  const importRe = /\bimport\s*(?:([\w$]+|\*\s+as\s+[\w$]+|\{[^}]*\})\s*from\s*)?(['"])([^'"]+)\2\s*;?/g;
  let out = js.replace(importRe, (_all, bindings: string | undefined, _q: string, spec: string) => {
    if (!SDK_SPECIFIERS.includes(spec)) {
      throw new TsModuleError(`import of '${spec}': a TypeScript canister can only import from 'chainkey-replica/canister'`);
    }
    if (!bindings) return '';
    const b = bindings.trim();
    if (b.startsWith('*')) return `const ${b.replace(/^\*\s+as\s+/, '')} = __ckr.sdk;`;
    if (b.startsWith('{')) return `const ${b.replace(/\s+as\s+/g, ': ')} = __ckr.sdk;`;
    throw new TsModuleError(`default import from '${spec}': use import { defineCanister, update, query } from 'chainkey-replica/canister'`);
  });
  if (/\bimport\s*\(/.test(out)) throw new TsModuleError('dynamic import() is not available in a TypeScript canister');
  let defaults = 0;
  out = out.replace(/\bexport\s+default\s+/g, () => {
    defaults++;
    return 'globalThis.__ckrDefinition = ';
  });
  if (defaults !== 1) throw new TsModuleError('the module must have exactly one `export default defineCanister({ ... })`');
  out = out.replace(/\bexport\s+(?=(const|let|var|function|class|async)\b)/g, '');
  if (/\bexport\b\s*[{*]/.test(out)) throw new TsModuleError('only `export default` is supported in a TypeScript canister module');
  // The module's last statement hands the definition to the runtime; its summary is the result.
  return `${out}\n;__ckr.runtime.define(globalThis.__ckrDefinition);\n`;
}

/**
 * Node's type stripping (erasable syntax only: no enums, namespaces or parameter properties),
 * without its one-time "experimental" warning on the replica's stderr.
 */
function stripTypes(source: string): string {
  const emit = process.emitWarning;
  process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
    if (String(warning).includes('stripTypeScriptTypes')) return;
    (emit as (...a: unknown[]) => void).call(process, warning, ...rest);
  }) as typeof process.emitWarning;
  try {
    return stripTypeScriptTypes(source, { mode: 'strip' });
  } finally {
    process.emitWarning = emit;
  }
}

const cache = new Map<string, TsCanisterModule>();

/**
 * Prepares (or takes from the per-process cache, by hash) a TypeScript canister module.
 * @param bytes the installed bytes ({@link TS_CANISTER_HEADER} + source)
 * @param hash its SHA-256 if known
 * @throws TsModuleError with the reason the module cannot be installed
 */
export function prepareTsModule(bytes: Uint8Array, hash?: Uint8Array, timeoutMs = DEFAULT_TS_EXECUTION_TIMEOUT_MS): TsCanisterModule {
  const h = hash ?? new Uint8Array(createHash('sha256').update(bytes).digest());
  const key = Buffer.from(h).toString('hex');
  const cached = cache.get(key);
  if (cached) return cached;
  let source: string;
  try {
    source = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(HEADER_BYTES.length));
  } catch {
    throw new TsModuleError('the module source is not valid UTF-8');
  }
  let js: string;
  try {
    js = stripTypes(source);
  } catch (e) {
    throw new TsModuleError(`TypeScript: ${(e as Error).message}`, syntaxErrorPosition(e));
  }
  const linked = linkModule(js);
  let script: vm.Script;
  try {
    script = new vm.Script(linked, { filename: `canister-module-${key.slice(0, 12)}.ts` });
  } catch (e) {
    throw new TsModuleError(`${(e as Error).name}: ${(e as Error).message}`, syntaxErrorPosition(e));
  }
  // Evaluate once in a throwaway context to read and check the definition.
  let summary: { methods: Record<string, 'update' | 'query'>; init: boolean; postUpgrade: boolean; preUpgrade: boolean; timer: boolean; candid: string };
  try {
    const context = newCanisterContext('module check');
    summary = JSON.parse(
      evaluateInContext({ script }, context, () => {
        throw 'the module called the System API while loading';
      }, timeoutMs),
    );
  } catch (e) {
    const msg = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new TsModuleError(`the module failed to load: ${msg}`);
  }
  let service: IDL.ServiceClass;
  let initTypes: IDL.Type[];
  try {
    const iface = candidInterfaceFromText(summary.candid);
    service = iface.idlFactory({ IDL });
    initTypes = iface.init({ IDL });
  } catch (e) {
    throw new TsModuleError(`candid: ${(e as Error).message}`);
  }
  const methods = new Map<string, TsMethod>();
  for (const [name, func] of service._fields) {
    const kind = summary.methods[name];
    if (!kind) throw new TsModuleError(`the service declares '${name}' but the module defines no handler for it`);
    const isQuery = func.annotations.includes('query');
    if (func.annotations.includes('composite_query')) throw new TsModuleError(`'${name}': composite queries are not supported in TypeScript canisters`);
    if (isQuery !== (kind === 'query')) {
      throw new TsModuleError(`'${name}' is ${isQuery ? 'a query' : 'an update'} in the service but defined with ${kind}()`);
    }
    methods.set(name, { kind, argTypes: func.argTypes, retTypes: func.retTypes });
  }
  for (const name of Object.keys(summary.methods)) {
    if (!methods.has(name)) throw new TsModuleError(`handler '${name}' is not a method of the service`);
  }
  const systemMethods = new Set<string>();
  if (summary.init) systemMethods.add('canister_init');
  if (summary.postUpgrade) systemMethods.add('canister_post_upgrade');
  if (summary.preUpgrade) systemMethods.add('canister_pre_upgrade');
  if (summary.timer) systemMethods.add('canister_global_timer');
  const module: TsCanisterModule = {
    kind: 'typescript',
    hash: h,
    script,
    candid: summary.candid,
    methods,
    initTypes,
    updateMethods: new Set([...methods].filter(([, m]) => m.kind === 'update').map(([n]) => n)),
    queryMethods: new Set([...methods].filter(([, m]) => m.kind === 'query').map(([n]) => n)),
    compositeQueryMethods: new Set(),
    systemMethods,
    memoryType: 'wasm32',
    globals: [],
    hasStart: false,
    enhancedOrthogonalPersistence: false,
    timeoutMs,
  };
  cache.set(key, module);
  return module;
}
