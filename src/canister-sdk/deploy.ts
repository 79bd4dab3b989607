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
import { encodeTsCanisterModule } from '../execution/typescript/ts-module.ts';
import { managementService } from '../management/interface.ts';

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
  /** Candid-encoded init argument (default: none). */
  arg?: Uint8Array;
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
 * Creates (if needed) and installs or upgrades a TypeScript canister.
 * @throws the agent's error with the replica's reject text (e.g. IC0505 for a module that does not load)
 */
export async function deployTypeScriptCanister(options: DeployOptions): Promise<DeployResult> {
  const source = options.source ?? (options.file ? readFileSync(options.file, 'utf8') : undefined);
  if (source === undefined) throw new Error('deploy: give the canister source or a file');
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
  await mgmt(canisterId).install_code({
    mode: mode === 'upgrade' ? { upgrade: [{ skip_pre_upgrade: [], wasm_memory_persistence: [] }] } : { install: null },
    canister_id: canisterId,
    wasm_module: wasmModule,
    arg: options.arg ?? new Uint8Array(IDL.encode([], [])),
    sender_canister_version: [],
  });
  const { createHash } = await import('node:crypto');
  return { canisterId, mode, moduleHash: new Uint8Array(createHash('sha256').update(wasmModule).digest()) };
}
