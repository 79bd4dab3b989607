/**
 * Canister lifecycle methods of the management canister (interface spec §"IC management canister"):
 * provisional creation and top-up, create_canister, update_settings, canister_status,
 * start/stop/delete, install_code / uninstall_code (the module and its hooks run in execution),
 * deposit_cycles and raw_rand. Handlers take decoded Candid arguments and return the reply value.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { Subnet } from '../routing/topology.ts';
import { defaultCanisterSettings, newCanister, type CanisterSettings, type CanisterState } from '../state/canister-state.ts';
import * as E from './errors.ts';
import { visibleTo } from './visibility.ts';
import type { ManagementCall, ManagementEnv, SlicedExecution } from './management-context.ts';
import type {
  CanisterIdRecord,
  CanisterSettings as SettingsArg,
  CanisterStatusResult,
  CanisterStatusType,
  CreateCanisterArgs,
  InstallCodeArgs,
  Opt,
  ProvisionalCreateCanisterWithCyclesArgs,
  ProvisionalTopUpCanisterArgs,
  UninstallCodeArgs,
  UpdateSettingsArgs,
} from './shapes.ts';

/** Cycles a provisionally created canister gets when `amount` is not given (replica: 100T). */
export const DEFAULT_PROVISIONAL_CYCLES_BALANCE = 100_000_000_000_000n;
/** Largest `log_memory_limit` this replica accepts, bytes (2 MiB). */
export const MAX_LOG_MEMORY_LIMIT = 2n * 1024n * 1024n;
/** Maximum number of controllers (spec §"IC method create_canister"). */
export const MAX_CONTROLLERS = 10;

const opt = <T>(o: Opt<T> | undefined): T | undefined => (o && o.length ? o[0] : undefined);

/**
 * Applies given settings over `base` after the spec's checks.
 * @throws IcError IC0406-style `invalidSettings` for out-of-range values.
 */
function applySettings(base: CanisterSettings, s: SettingsArg | undefined): CanisterSettings {
  if (!s) return base;
  const out: CanisterSettings = { ...base };
  const ca = opt(s.compute_allocation);
  if (ca !== undefined) {
    if (ca > 100n) throw E.invalidSettings(`ComputeAllocation expected to be in the range [0..100], got ${ca}`);
    out.compute_allocation = ca;
  }
  const ma = opt(s.memory_allocation);
  if (ma !== undefined) out.memory_allocation = ma;
  const ft = opt(s.freezing_threshold);
  if (ft !== undefined) {
    if (ft >= 1n << 64n) throw E.invalidSettings(`Freezing threshold expected to be in the range of [0..2^64-1], got ${ft}`);
    out.freezing_threshold = ft;
  }
  const rcl = opt(s.reserved_cycles_limit);
  if (rcl !== undefined) out.reserved_cycles_limit = rcl;
  const lv = opt(s.log_visibility);
  if (lv !== undefined) out.log_visibility = lv;
  const lml = opt(s.log_memory_limit);
  if (lml !== undefined) {
    if (lml > MAX_LOG_MEMORY_LIMIT) throw E.invalidSettings(`Invalid log memory limit: ${lml}, expected at most ${MAX_LOG_MEMORY_LIMIT} bytes`);
    out.log_memory_limit = lml;
  }
  const sv = opt(s.snapshot_visibility);
  if (sv !== undefined) out.snapshot_visibility = sv;
  const stv = opt(s.status_visibility);
  if (stv !== undefined) out.status_visibility = stv;
  const mic = opt(s.minimum_incoming_canister_call_cycles);
  if (mic !== undefined) out.minimum_incoming_canister_call_cycles = mic;
  const wml = opt(s.wasm_memory_limit);
  if (wml !== undefined) out.wasm_memory_limit = wml;
  const wmt = opt(s.wasm_memory_threshold);
  if (wmt !== undefined) out.wasm_memory_threshold = wmt;
  const ev = opt(s.environment_variables);
  if (ev !== undefined) out.environment_variables = ev;
  return out;
}

function checkControllers(controllers: Principal[]): Principal[] {
  if (controllers.length > MAX_CONTROLLERS) {
    throw E.invalidSettings(`Invalid settings: 'controllers' length exceeds maximum size allowed of ${MAX_CONTROLLERS}.`);
  }
  return controllers;
}

/** The canister or IC0301. */
export function canisterOrNotFound(env: ManagementEnv, id: Principal): CanisterState {
  const c = env.state.canister(id);
  if (!c) throw E.canisterNotFound(id);
  return c;
}

/** Throws IC0512 unless `caller` controls the canister (or, when `allowSelf`, is the canister). */
export function requireController(c: CanisterState, caller: Principal, allowSelf = false): void {
  if (allowSelf && caller.compareTo(c.canisterId) === 'eq') return;
  if (!c.controllers.some((p) => p.compareTo(caller) === 'eq')) {
    throw E.invalidController(c.canisterId, c.controllers, caller);
  }
}

function createOn(
  env: ManagementEnv,
  call: ManagementCall,
  subnet: Subnet,
  canisterId: Principal,
  settings: SettingsArg | undefined,
  cyclesBalance: bigint,
): Principal {
  const controllers = checkControllers(opt(settings?.controllers) ?? [call.caller]);
  const c = newCanister({
    canisterId,
    subnetId: subnet.subnetId,
    controllers,
    settings: applySettings(defaultCanisterSettings(), settings),
    cycles: cyclesBalance,
    nowNanos: call.nowNanos,
  });
  env.state.putCanister(c);
  return canisterId;
}

/**
 * `provisional_create_canister_with_cycles` (spec §"IC Provisional API"): like create_canister,
 * minting `amount` cycles (default 100T); `specified_id` picks the id and so the subnet. Without it
 * the canister goes to the subnet of the effective canister id if that lies in a subnet's ranges,
 * else to the default subnet. Cycles attached by a calling canister are refunded.
 */
export function provisionalCreateCanisterWithCycles(
  env: ManagementEnv,
  call: ManagementCall,
  arg: ProvisionalCreateCanisterWithCyclesArgs,
): { canister_id: Principal } {
  const amount = opt(arg.amount) ?? DEFAULT_PROVISIONAL_CYCLES_BALANCE;
  const specified = opt(arg.specified_id);
  let subnet: Subnet | undefined;
  let id: Principal;
  if (specified) {
    subnet = env.routing.subnetOfCanister(specified);
    if (!subnet) throw E.specifiedIdNotHosted(specified, (call.callerSubnet ?? env.routing.defaultSubnet).subnetId);
    if (env.state.canister(specified)) throw E.canisterAlreadyExists(specified);
    id = specified;
  } else {
    const ecid = call.effectiveCanisterId;
    subnet = (ecid && env.routing.subnetOfCanister(ecid)) || (call.callerSubnet ?? env.routing.defaultSubnet);
    id = env.state.allocateCanisterId(subnet, env.store);
  }
  return { canister_id: createOn(env, call, subnet, id, opt(arg.settings), amount) };
}

/**
 * `create_canister` (canisters only): a new canister on the caller's subnet (or on the subnet
 * whose id the call was addressed to, as the CMC calls it), whose balance is the
 * attached cycles minus the creation fee (500B at 13 nodes, scaled by the subnet's size); nothing
 * is refunded.
 * @throws IcError IC0403 when the cycles do not cover the fee.
 */
export function createCanister(
  env: ManagementEnv,
  call: ManagementCall,
  arg: CreateCanisterArgs,
): { canister_id: Principal } {
  const subnet = call.destinationSubnet ?? call.callerSubnet ?? env.routing.defaultSubnet;
  const fee = env.execution.creationFee(subnet);
  if (call.payment < fee) throw E.createCanisterNotEnoughCycles(fee, call.payment);
  const id = env.state.allocateCanisterId(subnet, env.store);
  return { canister_id: createOn(env, call, subnet, id, opt(arg.settings), call.payment - fee) };
}

/** `provisional_top_up_canister`: mints `amount` cycles onto any canister. */
export function provisionalTopUpCanister(env: ManagementEnv, _call: ManagementCall, arg: ProvisionalTopUpCanisterArgs): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  c.cycles += arg.amount;
  env.state.markCanisterDirty(c.canisterId);
}

/** `update_settings` (controllers only). Bumps the canister version. */
export function updateSettings(
  env: ManagementEnv,
  call: ManagementCall,
  arg: UpdateSettingsArgs,
): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  const controllers = opt(arg.settings.controllers);
  const settings = applySettings(c.settings, arg.settings);
  if (controllers !== undefined) c.controllers = checkControllers(controllers);
  c.settings = settings;
  c.version += 1n;
  env.state.markCanisterDirty(c.canisterId);
}

/** `canister_status` (controllers, the canister itself, or whom status_visibility admits; as a query call the ingress filter does not apply). */
export function canisterStatus(env: ManagementEnv, call: ManagementCall, arg: CanisterIdRecord): CanisterStatusResult {
  const c = canisterOrNotFound(env, arg.canister_id);
  // status_visibility may admit others besides the controllers and the canister itself.
  if (!visibleTo(c.settings.status_visibility, c, call.caller)) requireController(c, call.caller, true);
  const wasmBinarySize = BigInt(c.module?.length ?? 0);
  const mem = env.execution.memoryUsage(c);
  const customSectionsSize = mem.customSectionsBytes;
  const memorySize = wasmBinarySize + customSectionsSize + mem.wasmMemoryBytes + mem.stableMemoryBytes + mem.globalsBytes;
  return {
    status: { [c.status]: null } as CanisterStatusType,
    ready_for_migration: false,
    version: c.version,
    settings: { controllers: c.controllers, ...c.settings },
    module_hash: c.moduleHash ? [c.moduleHash] : [],
    memory_size: memorySize,
    memory_metrics: {
      wasm_memory_size: mem.wasmMemoryBytes,
      stable_memory_size: mem.stableMemoryBytes,
      global_memory_size: mem.globalsBytes,
      wasm_binary_size: wasmBinarySize,
      custom_sections_size: customSectionsSize,
      canister_history_size: 0n,
      wasm_chunk_store_size: BigInt(env.state.chunks.bytes(c.canisterId)),
      snapshots_size: env.state.snapshots.list(c.canisterId).reduce((n, s) => n + s.totalSize, 0n),
      log_memory_store_size: BigInt(env.state.logs.bytes(c.canisterId)),
    },
    cycles: c.cycles,
    // Reserved cycles stay 0 below the subnet memory threshold (750 GiB), which a local subnet never reaches.
    reserved_cycles: 0n,
    idle_cycles_burned_per_day: env.execution.idleCyclesBurnedPerDay(c),
    query_stats: {
      num_calls_total: 0n,
      num_instructions_total: 0n,
      request_payload_bytes_total: 0n,
      response_payload_bytes_total: 0n,
    },
  };
}

/** `start_canister` (controllers only). Pending stop requests of a stopping canister are cancelled. */
export function startCanister(env: ManagementEnv, call: ManagementCall, arg: CanisterIdRecord): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  if (c.status !== 'running') {
    const wasStopping = c.status === 'stopping';
    c.status = 'running';
    env.state.markCanisterDirty(c.canisterId);
    if (wasStopping) env.execution.canisterStarted(c);
  }
}

/**
 * `stop_canister` (controllers only). A canister without open call contexts stops at once;
 * otherwise it goes to `stopping` and the call is answered when the last context closes.
 * @returns `'stopped'` or `'stopping'` (the caller then defers the reply).
 */
export function stopCanister(env: ManagementEnv, call: ManagementCall, arg: CanisterIdRecord): 'stopped' | 'stopping' {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  if (c.status === 'stopped') return 'stopped';
  if (env.execution.hasOpenCallContexts(c)) {
    if (c.status !== 'stopping') {
      c.status = 'stopping';
      env.state.markCanisterDirty(c.canisterId);
    }
    return 'stopping';
  }
  c.status = 'stopped';
  env.state.markCanisterDirty(c.canisterId);
  return 'stopped';
}

/**
 * `delete_canister` (controllers only; the canister must be stopped). Its cycles are burned. A
 * canister deleting itself is refused before anything else (canister_manager `DeleteCanisterSelf`).
 * @throws IcError IC0512 (self, not a controller), IC0301, IC0510 (not stopped)
 */
export function deleteCanister(env: ManagementEnv, call: ManagementCall, arg: CanisterIdRecord): void {
  if (call.caller.compareTo(arg.canister_id) === 'eq') throw E.deleteCanisterSelf(arg.canister_id);
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  if (c.status !== 'stopped') throw E.deleteCanisterNotStopped(c.canisterId);
  env.execution.canisterDeleted(c);
  env.state.logs.clear(c.canisterId);
  env.state.chunks.clear(c.canisterId);
  env.state.snapshots.deleteAll(c.canisterId);
  env.state.removeCanister(c.canisterId);
}

/**
 * `install_code` (controllers only). Mode `install` needs an empty canister; the execution layer
 * validates the module (gzip allowed), runs canister_init or the upgrade hooks, and on success
 * stores the module with its SHA-256 hash and bumps the canister version.
 * @param assemblyInstructions install_chunked_code's assembly work, charged with the install.
 * @returns the running install (its hooks run sliced; the call is answered when it ends).
 */
export function installCode(
  env: ManagementEnv,
  call: ManagementCall,
  arg: InstallCodeArgs,
  assemblyInstructions = 0n,
): SlicedExecution {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  if ('install' in arg.mode && c.module) throw E.canisterNonEmpty(c.canisterId);
  return env.execution.installCode(c, arg.mode, arg.wasm_module, arg.arg, call.caller, call.nowNanos, assemblyInstructions);
}

/**
 * `uninstall_code` (controllers only): removes the module, its memories and open call contexts,
 * and empties the canister's chunk store and log (the interface spec's formal model: the state
 * after `uninstall_code` has `chunk_store = ()` and `canister_logs[A.canister_id] = []`).
 * Snapshots, cycles, controllers, settings and history stay.
 */
export function uninstallCode(env: ManagementEnv, call: ManagementCall, arg: UninstallCodeArgs): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  env.execution.uninstallCode(c, call.nowNanos);
  env.state.chunks.clear(c.canisterId);
  env.state.logs.clear(c.canisterId);
}

/** `raw_rand` (canisters only): 32 random bytes. */
export function rawRand(env: ManagementEnv): Uint8Array {
  return env.randomBytes(32);
}

/** `deposit_cycles` (canisters only): moves all attached cycles to the canister. */
export function depositCycles(env: ManagementEnv, call: ManagementCall, arg: CanisterIdRecord): { accepted: bigint } {
  const c = canisterOrNotFound(env, arg.canister_id);
  c.cycles += call.payment;
  env.state.markCanisterDirty(c.canisterId);
  return { accepted: call.payment };
}

