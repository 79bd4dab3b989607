/**
 * install_code and uninstall_code on the execution side (interface spec §"IC method install_code"):
 * validate and prepare the module, then
 * - install / reinstall: a fresh instance and empty stable memory; run the start function and
 *   canister_init(arg);
 * - upgrade: canister_pre_upgrade on the old instance (unless skip_pre_upgrade), then a new
 *   instance with the stable memory kept, and — with `wasm_memory_persistence = keep` (Motoko
 *   enhanced orthogonal persistence) — the old main memory placed in it before its start function
 *   runs; then canister_post_upgrade(arg).
 * Any trap leaves the canister exactly as it was (old instance, memories and module).
 * The install is a generator of its hooks ({@link CodeInstaller.steps}), so that the same steps run
 * unsliced ({@link runInstallSteps}) or sliced across rounds (lifecycle-hooks.ts).
 */
import { COST_TO_COMPILE_WASM_INSTRUCTION, type SubnetCosts } from '../cycles/subnet-costs.ts';
import { INSTRUCTION_LIMITS, SYSTEM_SUBNET_INSTRUCTION_LIMITS } from './instruction-meter.ts';
import { canisterOutOfCycles, ErrorCode, IcError } from '../types/ic-error.ts';
import type { Principal } from '@icp-sdk/core/principal';
import * as E from '../management/errors.ts';
import type { InstallMode } from '../management/management-context.ts';
import type { CanisterState } from '../state/canister-state.ts';
import type { ExecutionState } from './execution-state.ts';
import { userErrorOf, wasmModuleNotFound } from './hypervisor-error.ts';
import { runOnInstance, type ExecutionResult, type Metering } from './hypervisor.ts';
import type { ApiType } from './system-api/api-type.ts';
import { ic0Signatures } from './system-api/ic0-table.ts';
import type { ExecutionContext, SystemApiHost } from './system-api/execution-context.ts';
import { SystemApi } from './system-api/system-api.ts';
import { noChanges, type SystemStateChanges } from './system-api/system-state-changes.ts';
import { CanisterInstance } from './wasm/canister-instance.ts';
import { TsCanisterInstance } from './typescript/ts-canister-instance.ts';
import { isTsCanisterModule, prepareTsModule, TsModuleError, type TsCanisterModule } from './typescript/ts-module.ts';
import type { CanisterCode } from './execution-state.ts';
import { getCanisterModule, WasmValidationError, type CanisterModule } from './wasm/canister-module.ts';
import { StableMemory } from './wasm/stable-memory.ts';

/** What the installer needs from the execution environment. */
export interface InstallerDeps {
  /** A context for running canister code of `c` in `apiType`. */
  context(c: CanisterState, es: ExecutionState, apiType: ApiType, extra: Partial<ExecutionContext>): ExecutionContext;
  host: SystemApiHost;
  /** The prices of the canister's subnet. */
  costs(c: CanisterState): SubnetCosts;
  /** The canister's freezing threshold, cycles. */
  freezingThreshold(c: CanisterState): bigint;
  /** Whether the canister is on a system subnet (bigger limits, no byte or page charges). */
  systemSubnet(c: CanisterState): boolean;
  /** Hashes (hex) of the modules the canister's subnet compiled since its last checkpoint (see {@link compilationInstructions}). */
  compiledWasms(c: CanisterState): Set<string>;
}

/**
 * Prepares (validates, rewrites, compiles; cached by hash) a canister module.
 * @throws IcError IC0505 with the replica's text for an invalid module.
 */
export function prepareModule(canisterId: Principal, wasm: Uint8Array, hash?: Uint8Array): CanisterModule | TsCanisterModule {
  try {
    return isTsCanisterModule(wasm) ? prepareTsModule(wasm, hash) : getCanisterModule(wasm, ic0Signatures, hash);
  } catch (e) {
    if (e instanceof WasmValidationError) throw E.invalidWasm(canisterId, e.detail);
    if (e instanceof TsModuleError) throw E.invalidTypeScriptModule(canisterId, e.message);
    throw e;
  }
}

/**
 * How much cheaper a module the subnet compiled since its last checkpoint is (the replica's
 * `DESERIALIZATION_SPEED_UP_FACTOR`: `CompilationCostHandling::CountReducedAmount` charges the
 * compilation cost / 100).
 */
export const DESERIALIZATION_SPEED_UP_FACTOR = 100n;

/**
 * Instructions charged for compiling a prepared module: `DEFAULT_COST_TO_COMPILE_WASM_INSTRUCTION`
 * = 6000 per instruction of the instrumented module (dfinity/ic embedders: the serialized module's
 * `compilation_cost` comes from the instrumentation output; the per-byte figure, 6000 × the
 * decompressed module's size, is only the hypervisor's charge for a module whose size cannot be
 * decoded); TypeScript modules compile for free. A module the subnet already compiled (the
 * replica's `expected_compiled_wasms`, see {@link noteCompiled}) costs a hundredth of that
 * (rounded down).
 * @param compiled the module hashes (hex) the canister's subnet compiled.
 */
export function compilationInstructions(module: CanisterModule | TsCanisterModule, compiled: Set<string>): bigint {
  const full = COST_TO_COMPILE_WASM_INSTRUCTION * BigInt('instrumentedOperatorCount' in module ? module.instrumentedOperatorCount : 0);
  return compiled.has(moduleKey(module)) ? full / DESERIALIZATION_SPEED_UP_FACTOR : full;
}

/**
 * The size the replica takes for a module's compilation charge when it does not compile
 * (`decoded_wasm_size`): a gzipped module's decompressed size as its gzip footer states it, else
 * the module's length. Bytes.
 */
function decodedWasmSize(wasm: Uint8Array): number {
  if (wasm.length >= 18 && wasm[0] === 0x1f && wasm[1] === 0x8b) return Buffer.from(wasm.subarray(wasm.length - 4)).readUInt32LE(0);
  return wasm.length;
}

/**
 * Notes `module` as compiled on the subnet. As in the replica, only a successful install_code
 * (install, reinstall or upgrade) records its module (execution_environment.rs inserts the
 * `new_wasm_hash` of a finished install into `expected_compiled_wasms`); a failed install or a
 * snapshot load does not. The set lives in memory and so is empty after a restart (the replica
 * clears it at each checkpoint; this replica takes no other checkpoints, as PocketIC).
 */
export function noteCompiled(module: CanisterModule | TsCanisterModule, compiled: Set<string>): void {
  compiled.add(moduleKey(module));
}

const moduleKey = (module: CanisterModule | TsCanisterModule): string => Buffer.from(module.hash).toString('hex');

/** A new instance of `module` over `stable`. @throws IcError IC0505 if instantiation fails. */
export function instantiate(canisterId: Principal, module: CanisterModule | TsCanisterModule, stable: StableMemory, host: SystemApiHost): CanisterCode {
  const api = new SystemApi(module.memoryType === 'wasm64', stable, host);
  try {
    if ('kind' in module && module.kind === 'typescript') return new TsCanisterInstance(module, api);
    return new CanisterInstance(module as CanisterModule, api);
  } catch (e) {
    if (e instanceof WebAssembly.LinkError || e instanceof WebAssembly.RuntimeError) {
      throw E.invalidWasm(canisterId, `Wasmtime failed to instantiate wasm module: ${e.message}`);
    }
    throw e;
  }
}

/** One hook's changes; `newCode` is false for the old code's pre_upgrade. */
interface HookChanges {
  changes: SystemStateChanges;
  newCode: boolean;
}

/** The running install_code's instruction budget: the limit and what compilation and hooks used. */
interface InstallBudget {
  limit: bigint;
  used: bigint;
  system: boolean;
}

/**
 * One hook of an install for a driver to run ({@link CodeInstaller.steps}): on `inst` in `ctx`,
 * the export `entry` (`canister_init`, `canister_pre_upgrade`, `canister_post_upgrade`) or, for
 * null, the start function; with the install's remaining budget.
 */
export interface HookRun {
  inst: CanisterCode;
  ctx: ExecutionContext;
  entry: string | null;
  /** The global timer the hook sees (`ic0.global_timer_set` returns it), nanoseconds. */
  timerNanos: bigint;
  metering: Metering;
}

/** An install_code's hooks as steps: yields each hook to run, takes its result, returns what the install did. */
export type InstallSteps = Generator<HookRun, { timerSetByNewCode: boolean }, ExecutionResult>;

/** Runs an install's steps to the end with unsliced executions (for code known to be short). */
export function runInstallSteps(steps: InstallSteps): { timerSetByNewCode: boolean } {
  let next = steps.next();
  while (!next.done) {
    const { inst, ctx, entry, timerNanos, metering } = next.value;
    let result: ExecutionResult;
    try {
      result = runOnInstance(inst, ctx, (i) => (entry === null ? i.runStart() : i.callExport(entry)), true, timerNanos, metering);
    } catch (e) {
      next = steps.throw(e);
      continue;
    }
    next = steps.next(result);
  }
  return next.value;
}

/** Installs, reinstalls, upgrades and uninstalls canister code. */
export class CodeInstaller {
  readonly #deps: InstallerDeps;

  constructor(deps: InstallerDeps) {
    this.#deps = deps;
  }

  /**
   * install_code for `c` (permissions and the `install`-needs-empty check were done by the
   * management canister), as steps: each hook (start, canister_init; or pre_upgrade, start,
   * post_upgrade) is yielded for the caller to run, unsliced ({@link runInstallSteps}) or sliced
   * across rounds (lifecycle-hooks.ts); the generator checks each result and, after the last,
   * applies the install. On success `c` and `es` hold the new module and state.
   * @param assemblyInstructions instructions spent assembling the module from chunks
   *   (install_chunked_code: 1 MiB per listed chunk, `WasmSource::instructions_to_assemble`);
   *   they share the install's limit and are charged with it, as compilation is.
   * @throws IcError (from the generator) for an invalid module, out of cycles, a trap in a hook
   *   (IC0522 past the 300 B limit), or bad upgrade options; `c` and `es` are then as before,
   *   except the cycles the instructions used.
   */
  *steps(
    c: CanisterState,
    es: ExecutionState,
    mode: InstallMode,
    wasm: Uint8Array,
    arg: Uint8Array,
    caller: Principal,
    assemblyInstructions = 0n,
  ): InstallSteps {
    const module = this.#prepareOrCharge(c, wasm);
    // install_code prepays execution_cost(300 B) in the new module's mode above the freezing
    // threshold; compilation (6000 per instrumented instruction) and the hooks share the limit;
    // the unused part is refunded, also when a hook fails (canister_manager.rs).
    const costs = this.#deps.costs(c);
    const system = this.#deps.systemSubnet(c);
    const limit = system ? SYSTEM_SUBNET_INSTRUCTION_LIMITS.install : INSTRUCTION_LIMITS.install;
    const prepay = costs.executionCost(limit, module.memoryType);
    const threshold = prepay === 0n ? 0n : this.#deps.freezingThreshold(c);
    if (prepay > 0n && c.cycles < prepay + threshold) {
      const e = canisterOutOfCycles(c.canisterId, c.cycles, prepay, threshold, true);
      throw new IcError(ErrorCode.CanisterOutOfCycles, `Canister installation failed with \`${e.message}\`.`);
    }
    c.cycles -= prepay;
    const compile = compilationInstructions(module, this.#deps.compiledWasms(c));
    const budget: InstallBudget = { limit, used: compile + assemblyInstructions, system };
    const changes: HookChanges[] = [];
    try {
      if ('upgrade' in mode) yield* this.#upgrade(c, es, module, mode.upgrade[0], arg, caller, changes, budget);
      else yield* this.#install(c, es, module, arg, caller, changes, budget);
    } finally {
      c.cycles += costs.executionRefund(limit, budget.used, module.memoryType);
    }
    // Effects of the hooks: burned cycles, timer, certified data.
    let timerSetByNewCode = false;
    for (const { changes: ch, newCode } of changes) {
      c.cycles -= ch.cyclesBurned;
      if (ch.globalTimerNanos !== undefined && newCode) {
        es.globalTimerNanos = ch.globalTimerNanos;
        timerSetByNewCode = true;
      }
      if (ch.certifiedData !== undefined) es.certifiedData = ch.certifiedData;
    }
    c.module = new Uint8Array(wasm);
    c.moduleHash = module.hash;
    c.version += 1n;
    noteCompiled(module, this.#deps.compiledWasms(c));
    return { timerSetByNewCode };
  }

  /**
   * The prepared module. A Wasm module that does not validate still costs what the replica's
   * hypervisor charges for it (execution_environment hypervisor.rs `create_execution_state`, its
   * error path): the install prepays its limit at the wasm32 rate (an invalid module's execution
   * mode), compiling counts 6000 instructions per byte of the module — of the decompressed
   * module, by its gzip footer, if larger — never reduced for a known module, and the rest is
   * refunded: 5 M + 6000 × bytes at 13 nodes.
   * @throws IcError IC0505 for an invalid module (after charging), IC0207 when the canister cannot
   *   prepay the install
   */
  #prepareOrCharge(c: CanisterState, wasm: Uint8Array): CanisterModule | TsCanisterModule {
    try {
      return prepareModule(c.canisterId, wasm);
    } catch (e) {
      if (!(e instanceof IcError && e.code === ErrorCode.CanisterInvalidWasm) || isTsCanisterModule(wasm)) throw e;
      const costs = this.#deps.costs(c);
      const limit = this.#deps.systemSubnet(c) ? SYSTEM_SUBNET_INSTRUCTION_LIMITS.install : INSTRUCTION_LIMITS.install;
      const prepay = costs.executionCost(limit, 'wasm32');
      const threshold = prepay === 0n ? 0n : this.#deps.freezingThreshold(c);
      if (prepay > 0n && c.cycles < prepay + threshold) {
        const oc = canisterOutOfCycles(c.canisterId, c.cycles, prepay, threshold, true);
        throw new IcError(ErrorCode.CanisterOutOfCycles, `Canister installation failed with \`${oc.message}\`.`);
      }
      const compile = COST_TO_COMPILE_WASM_INSTRUCTION * BigInt(Math.max(decodedWasmSize(wasm), wasm.length));
      c.cycles -= prepay - costs.executionRefund(limit, compile < limit ? compile : limit, 'wasm32');
      throw e;
    }
  }

  /**
   * One hook. It sees the balance left after the earlier hooks' burns, and the new code sees
   * the timer as deactivated (0), as after an install or upgrade.
   */
  *#hook(
    c: CanisterState,
    es: ExecutionState,
    inst: CanisterCode,
    apiType: ApiType,
    extra: Partial<ExecutionContext>,
    entry: string | null,
    earlier: HookChanges[],
    newCode: boolean,
    b: InstallBudget,
  ): Generator<HookRun, HookChanges, ExecutionResult> {
    const burned = earlier.reduce((sum, h) => sum + h.changes.cyclesBurned, 0n);
    const ctx = this.#deps.context(c, es, apiType, { ...extra, balance: c.cycles - burned, changes: noChanges() });
    const timerNanos = newCode ? (earlier.find((h) => h.newCode && h.changes.globalTimerNanos !== undefined)?.changes.globalTimerNanos ?? 0n) : es.globalTimerNanos;
    const r = yield { inst, ctx, entry, timerNanos, metering: { limit: b.limit > b.used ? b.limit - b.used : 0n, limitToReport: b.limit, systemSubnet: b.system } };
    b.used += r.instructions;
    if (!r.ok) throw userErrorOf(c.canisterId, r.error);
    return { changes: r.changes, newCode };
  }

  *#startAndInit(c: CanisterState, es: ExecutionState, inst: CanisterCode, init: string, arg: Uint8Array, caller: Principal, out: HookChanges[], b: InstallBudget): Generator<HookRun, void, ExecutionResult> {
    if (inst.module.hasStart) out.push(yield* this.#hook(c, es, inst, 'start', {}, null, out, true, b));
    if (inst.module.systemMethods.has(init)) {
      out.push(yield* this.#hook(c, es, inst, 'init', { caller, arg }, init, out, true, b));
    }
  }

  *#install(c: CanisterState, es: ExecutionState, module: CanisterModule | TsCanisterModule, arg: Uint8Array, caller: Principal, out: HookChanges[], b: InstallBudget): Generator<HookRun, void, ExecutionResult> {
    const stable = new StableMemory();
    const inst = instantiate(c.canisterId, module, stable, this.#deps.host);
    yield* this.#startAndInit(c, es, inst, 'canister_init', arg, caller, out, b);
    es.instance = inst;
    es.stable = stable;
    es.replaceStablePages = true;
    es.certifiedData = new Uint8Array();
    es.globalTimerNanos = 0n;
  }

  *#upgrade(
    c: CanisterState,
    es: ExecutionState,
    module: CanisterModule | TsCanisterModule,
    options: { skip_pre_upgrade: [] | [boolean]; wasm_memory_persistence: [] | [{ keep: null } | { replace: null }] } | undefined,
    arg: Uint8Array,
    caller: Principal,
    out: HookChanges[],
    b: InstallBudget,
  ): Generator<HookRun, void, ExecutionResult> {
    const old = es.instance;
    if (!old) throw userErrorOf(c.canisterId, wasmModuleNotFound());
    const persistence = options?.wasm_memory_persistence[0];
    const keep = persistence !== undefined && 'keep' in persistence;
    if (old.module.enhancedOrthogonalPersistence && persistence === undefined) {
      throw E.missingUpgradeOption();
    }
    if (keep && !module.enhancedOrthogonalPersistence) throw E.invalidUpgradeOption();

    // What is needed to undo a successful pre_upgrade if the new code then fails.
    const oldStable = es.stable.clone();
    const oldSnapshot = old.snapshot();
    const oldMemory = old.committedMemory();
    const oldPages = oldMemory.pages.map(([p, b]) => [p, b.slice()] as [number, Uint8Array]);
    const timerBefore = es.globalTimerNanos;
    try {
      if (options?.skip_pre_upgrade[0] !== true && old.module.systemMethods.has('canister_pre_upgrade')) {
        out.push(yield* this.#hook(c, es, old, 'pre_upgrade', { caller }, 'canister_pre_upgrade', out, false, b));
      }
      const inst = instantiate(c.canisterId, module, es.stable, this.#deps.host);
      if (keep) inst.load(old.committedMemory(), undefined, false);
      yield* this.#startAndInit(c, es, inst, 'canister_post_upgrade', arg, caller, out, b);
      es.instance = inst;
    } catch (e) {
      es.stable = oldStable;
      old.api.stable = oldStable;
      old.load({ bytes: oldMemory.bytes, pages: oldPages }, oldSnapshot.globals, false);
      es.globalTimerNanos = timerBefore;
      out.length = 0;
      throw e;
    }
  }

  /** uninstall_code: drops the instance and both memories; certified data is cleared. */
  uninstall(c: CanisterState, es: ExecutionState): void {
    es.instance = null;
    es.stable = new StableMemory();
    es.replaceStablePages = true;
    es.replaceMemoryPages = true;
    es.certifiedData = new Uint8Array();
    es.globalTimerNanos = 0n;
    c.module = null;
    c.moduleHash = null;
    c.version += 1n;
  }
}
