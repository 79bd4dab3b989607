/**
 * Deploying a TypeScript canister to a running replica over the IC HTTP interface, as dfx or
 * icp-cli deploy Wasm: `provisional_create_canister_with_cycles` (on the application subnet, or
 * at `canisterId`), then `install_code` with the module bytes (the source behind the TypeScript
 * module header, see execution/typescript/ts-module.ts). An existing canister with code is
 * upgraded (its state is kept), an empty one installed. The caller becomes the controller.
 */
import { readFileSync } from 'node:fs';
import { Actor, HttpAgent } from '@icp-sdk/core/agent';
import { IDL } from '@icp-sdk/core/candid';
import { Ed25519KeyIdentity } from '@icp-sdk/core/identity';
import { Principal } from '@icp-sdk/core/principal';
import type { Identity } from '@icp-sdk/core/agent';
import { valuesFromCanister } from '../execution/typescript/candid-values.ts';
import { encodeTsCanisterModule, prepareTsModule, TsModuleError } from '../execution/typescript/ts-module.ts';
import { toJson } from '../store/execution-repository.ts';
import { managementService } from '../management/ic-did.ts';

/** Options of {@link deployTypeScriptCanister}. */
export interface DeployOptions {
  /** The replica, e.g. `http://127.0.0.1:4943`. */
  url: string;
  /** The canister's TypeScript source, or `file` to read it from. */
  source?: string;
  file?: string;
  /** Deploy to this id: created there if it does not exist, upgraded if it has code. */
  canisterId?: string;
  /** Cycles for a new canister (default 100_000_000_000_000, as dfx/PocketIC provisional canisters). */
  cycles?: bigint;
  /** Candid-encoded init argument (default: none); or give `initArgs`. */
  arg?: Uint8Array;
  /**
   * Init arguments as values of the module's `service : (init) -> ...` types (principals as
   * text, as inside the canister); JSON numbers and decimal strings are accepted for nat/int.
   */
  initArgs?: unknown[];
  /** Who deploys (the controller); a fresh Ed25519 identity when absent. */
  identity?: Identity;
}

/** The outcome: the canister id and what was done. */
export interface DeployResult {
  canisterId: Principal;
  mode: 'install' | 'upgrade';
  /** SHA-256 of the installed module (what canister_status reports), 32 bytes. */
  moduleHash: Uint8Array;
}

/**
 * A canister module that does not load, found before anything is created on the replica. The
 * message is one line, `FILE:LINE:COL: MESSAGE` for a syntax error (as compilers print it, so
 * editors jump there), `FILE: MESSAGE` otherwise.
 */
export class CanisterSourceError extends Error {
  override name = 'CanisterSourceError';
}

/**
 * Creates (if needed) and installs or upgrades a TypeScript canister. The module is first loaded
 * here exactly as the replica loads it at install (type stripping, syntax, the definition, its
 * Candid), so a module that would be refused creates no canister.
 * @throws CanisterSourceError for a module that does not load; the agent's error with the
 *   replica's reject text for anything the replica refuses
 */
export async function deployTypeScriptCanister(options: DeployOptions): Promise<DeployResult> {
  const source = options.source ?? (options.file ? readFileSync(options.file, 'utf8') : undefined);
  if (source === undefined) throw new Error('deploy: give the canister source or a file');
  try {
    prepareTsModule(encodeTsCanisterModule(source));
  } catch (e) {
    if (!(e instanceof TsModuleError)) throw e;
    const where = `${options.file ?? '<source>'}${e.position ? `:${e.position.line}:${e.position.column}` : ''}`;
    throw new CanisterSourceError(`${where}: ${e.message.replace(/\s*\n\s*/g, ' ')}`);
  }
  const agent = await HttpAgent.create({ host: options.url, identity: options.identity ?? Ed25519KeyIdentity.generate(), shouldFetchRootKey: true });
  const target = options.canisterId ? Principal.fromText(options.canisterId) : undefined;
  const mgmt = (effectiveCanisterId: Principal) =>
    Actor.createActor(() => managementService, { agent, canisterId: Principal.managementCanister(), effectiveCanisterId }) as any;
  let canisterId: Principal;
  let mode: DeployResult['mode'] = 'install';
  let exists = false;
  if (target) {
    try {
      const status = await mgmt(target).canister_status({ canister_id: target });
      exists = true;
      if (status.module_hash.length > 0) mode = 'upgrade';
    } catch {
      exists = false;
    }
  }
  if (target && exists) canisterId = target;
  else {
    const created = await mgmt(target ?? Principal.fromText('bnz7o-iuaaa-aaaaa-qaaaa-cai')).provisional_create_canister_with_cycles({
      amount: [options.cycles ?? 100_000_000_000_000n],
      settings: [],
      specified_id: target ? [target] : [],
      sender_canister_version: [],
    });
    canisterId = created.canister_id;
  }
  const wasmModule = encodeTsCanisterModule(source);
  let arg = options.arg;
  if (!arg && options.initArgs) {
    const { initTypes } = prepareTsModule(wasmModule);
    const values = valuesFromCanister(initTypes, toJson(initTypes.map((t, i) => coerceJsonValue(t, options.initArgs![i]))));
    arg = new Uint8Array(IDL.encode(initTypes, values));
  }
  await mgmt(canisterId).install_code({
    mode: mode === 'upgrade' ? { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [] }] } : { install: null },
    canister_id: canisterId,
    wasm_module: wasmModule,
    arg: arg ?? new Uint8Array(IDL.encode([], [])),
    sender_canister_version: [],
  });
  const { createHash } = await import('node:crypto');
  return { canisterId, mode, moduleHash: new Uint8Array(createHash('sha256').update(wasmModule).digest()) };
}

/**
 * Coerces a JSON value (e.g. from `--init-args`) to the JS shape of Candid type `t`: numbers and
 * decimal strings to bigint for nat/int/nat64/int64, hex strings or byte arrays to Uint8Array for
 * blob; records, variants, opts, vecs and tuples recursively. Principals stay text.
 */
export function coerceJsonValue(t: IDL.Type, v: unknown): unknown {
  if (t instanceof IDL.RecClass) return coerceJsonValue(t.getType()!, v);
  if (t instanceof IDL.NatClass || t instanceof IDL.IntClass) return typeof v === 'number' || typeof v === 'string' ? BigInt(v) : v;
  if ((t instanceof IDL.FixedNatClass || t instanceof IDL.FixedIntClass) && t._bits === 64) return typeof v === 'number' || typeof v === 'string' ? BigInt(v) : v;
  if (t instanceof IDL.VecClass) {
    const inner = (t as any)._type as IDL.Type;
    if (inner instanceof IDL.FixedNatClass && inner._bits === 8) {
      if (typeof v === 'string') return new Uint8Array(Buffer.from(v, 'hex'));
      if (Array.isArray(v)) return new Uint8Array(v as number[]);
    }
    return Array.isArray(v) ? v.map((x) => coerceJsonValue(inner, x)) : v;
  }
  if (t instanceof IDL.OptClass) return Array.isArray(v) ? v.map((x) => coerceJsonValue((t as any)._type, x)) : v;
  if (t instanceof IDL.TupleClass) return Array.isArray(v) ? v.map((x, i) => coerceJsonValue((t as any)._components[i], x)) : v;
  if (t instanceof IDL.RecordClass || t instanceof IDL.VariantClass) {
    if (v === null || typeof v !== 'object') return v;
    const out: Record<string, unknown> = { ...(v as Record<string, unknown>) };
    for (const [name, ft] of (t as any)._fields as [string, IDL.Type][]) if (name in out) out[name] = coerceJsonValue(ft, out[name]);
    return out;
  }
  return v;
}
