/**
 * Test support: compiles WebAssembly text (WAT) to a binary with `wabt` (wat2wasm in JS).
 * wabt is CommonJS and its module factory is async; one instance is shared per process.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** Post-MVP features wabt should accept (see wabt's `WasmFeatures`). MVP + wabt's defaults are always on. */
export interface WatFeatures {
  memory64?: boolean;
  multi_value?: boolean;
  bulk_memory?: boolean;
  reference_types?: boolean;
  mutable_globals?: boolean;
  sign_extension?: boolean;
  sat_float_to_int?: boolean;
  simd?: boolean;
  tail_call?: boolean;
  exceptions?: boolean;
  threads?: boolean;
  extended_const?: boolean;
}

interface WabtModuleLike {
  parseWat(
    filename: string,
    buffer: string | Uint8Array,
    options?: Record<string, boolean>,
  ): {
    resolveNames(): void;
    validate(): void;
    toBinary(options: Record<string, boolean>): { buffer: Uint8Array; log: string };
    destroy(): void;
  };
}

let wabtPromise: Promise<WabtModuleLike> | undefined;
function getWabt(): Promise<WabtModuleLike> {
  wabtPromise ??= (require('wabt') as () => Promise<WabtModuleLike>)();
  return wabtPromise;
}

/**
 * Compiles a WAT module to a validated Wasm binary. Throws an Error with wabt's
 * diagnostics (`fixture.wat:line:col: error: …`) on a parse or validation error.
 */
export async function compileWat(source: string, features: WatFeatures = {}, filename = 'fixture.wat'): Promise<Uint8Array> {
  const wabt = await getWabt();
  const flags: Record<string, boolean> = {};
  for (const [k, v] of Object.entries(features)) if (v !== undefined) flags[k] = v;
  const mod = wabt.parseWat(filename, source, flags);
  try {
    mod.resolveNames();
    mod.validate();
    const { buffer } = mod.toBinary({ log: false, write_debug_names: true });
    return new Uint8Array(buffer); // copy out of wabt's heap
  } finally {
    mod.destroy();
  }
}
