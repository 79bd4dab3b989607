/**
 * The `ic0` table: every System API function this replica offers, one row each (name, Wasm
 * signature, contexts, instruction cost, implementation; see ic0-row.ts), and what is derived
 * from it: the supported-import list, the Wasm signatures module validation checks imports
 * against, and the context check. The import object is built from the same rows (system-api.ts).
 * Rows live by spec section in ic0-message.ts, ic0-calls.ts and ic0-canister.ts.
 */
import type { FunctionSignature, WasmMemoryType } from '../wasm/canister-module.ts';
import { letterOf, type ApiType } from './api-type.ts';
import { CALL_ROWS } from './ic0-calls.ts';
import { CANISTER_ROWS } from './ic0-canister.ts';
import { MESSAGE_ROWS } from './ic0-message.ts';
import type { Ic0Row } from './ic0-row.ts';

/** The rows by spec name. */
export const IC0_TABLE: ReadonlyMap<string, Ic0Row> = byName([...MESSAGE_ROWS, ...CALL_ROWS, ...CANISTER_ROWS]);

function byName(rows: readonly Ic0Row[]): ReadonlyMap<string, Ic0Row> {
  const m = new Map<string, Ic0Row>();
  for (const r of rows) {
    if (m.has(r.name)) throw new Error(`ic0 table: two rows for ${r.name}`);
    m.set(r.name, r);
  }
  return m;
}

/** The ic0 functions this replica offers, by spec name. */
export const SUPPORTED_IC0: ReadonlySet<string> = new Set(IC0_TABLE.keys());

/** Whether `ic0.<name>` may be called in `apiType`. Unknown names are never allowed. */
export function isAllowed(name: string, apiType: ApiType): boolean {
  return IC0_TABLE.get(name)?.contexts.includes(letterOf[apiType]) ?? false;
}

const signatureCache = new Map<WasmMemoryType, ReadonlyMap<string, FunctionSignature>>();

/**
 * The Wasm signature of each ic0 function for modules of the given memory width: `I` becomes
 * i32 in wasm32 modules and i64 in wasm64 modules (spec §"Overview of imports").
 */
export function ic0Signatures(memoryType: WasmMemoryType): ReadonlyMap<string, FunctionSignature> {
  let m = signatureCache.get(memoryType);
  if (!m) {
    const width = memoryType === 'wasm64' ? 'i64' : 'i32';
    const map = new Map<string, FunctionSignature>();
    for (const r of IC0_TABLE.values()) {
      map.set(r.name, { params: r.params.map((t) => (t === 'I' ? width : t)), results: r.results.map((t) => (t === 'I' ? width : t)) });
    }
    signatureCache.set(memoryType, (m = map));
  }
  return m;
}
