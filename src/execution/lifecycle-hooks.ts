/**
 * What the management canister asks of execution (management-context.ts `CanisterExecution`):
 * install, reinstall, upgrade and uninstall code (the module's hooks run in install-code.ts),
 * the canister's memory use and open call contexts, and what starting or deleting a canister
 * means for its execution state (pending stops cancelled; state forgotten).
 */
import { canisterOutOfCycles, IcError } from '../types/ic-error.ts';
import { FEES_AT_13_NODES } from '../cycles/fee-schedule.ts';
import type { SubnetCosts } from '../cycles/subnet-costs.ts';
import type { Subnet } from '../routing/topology.ts';
import type { CanisterExecution, CanisterMemoryUsage, InstallMode, SlicedExecution } from '../management/management-context.ts';
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterState } from '../state/canister-state.ts';
import { canisterUninstalled } from '../types/ic-error.ts';
import type { ExecutionCore } from './execution-core.ts';
import type { ExecutionState } from './execution-state.ts';
import { CodeInstaller, compilationInstructions, prepareModule, runInstallSteps, type HookRun } from './install-code.ts';
import { runOnInstanceSliced, type ExecutionResult, type SliceHooks } from './hypervisor.ts';
import type { CanisterCode } from './execution-state.ts';
import { captureSnapshot, restoreSnapshot } from './snapshot-content.ts';
import type { SnapshotContent } from '../state/canister-snapshots.ts';
import type { MessageDelivery } from './message-delivery.ts';
import type { StopRequests } from './stop-requests.ts';
import { canisterMetadata } from './wasm/custom-sections.ts';

/** Bytes of the module's canister metadata sections (0 without a module). */
function customSectionsBytes(module: Uint8Array | null | undefined): bigint {
  let n = 0n;
  if (!module) return n;
  try {
    for (const m of canisterMetadata(module).values()) n += BigInt(m.content.length);
  } catch {
    /* a stored module was validated at install; ignore */
  }
  return n;
}

/** The execution side of the management canister's lifecycle methods. */
export class LifecycleHooks implements CanisterExecution {
  readonly #core: ExecutionCore;
  readonly #out: MessageDelivery;
  readonly #stops: StopRequests;
  readonly #installer: CodeInstaller;

  constructor(core: ExecutionCore, out: MessageDelivery, stops: StopRequests) {
    this.#core = core;
    this.#out = out;
    this.#stops = stops;
    this.#installer = new CodeInstaller({
      context: (c, _es, apiType, extra) => core.context(c, apiType, extra),
      host: core.host,
      costs: (c) => core.costs(c),
      compiledWasms: (c) => core.compiledWasms(c),
      freezingThreshold: (c) => core.freezingThreshold(c),
      systemSubnet: (c) => core.onSystemSubnet(c),
    });
  }

  /**
   * install_code with its hooks sliced (the replica's DTS for install_code): each hook runs on a
   * JSPI stack and yields to the event loop like an update (hypervisor.ts `runOnInstanceSliced`).
   * From the first yield until the install ends the canister is busy (no message, query or
   * management call for it starts), and each later step of the install (the next hook, then
   * applying or undoing the install) happens at the start of a round, so the replicated state
   * changes only inside rounds; the answer is given there too.
   */
  installCode(c: CanisterState, mode: InstallMode, wasmModule: Uint8Array, arg: Uint8Array, caller: Principal, _nowNanos: bigint, assemblyInstructions = 0n): SlicedExecution {
    const core = this.#core;
    const es = core.state(c);
    const steps = this.#installer.steps(c, es, mode, wasmModule, arg, caller, assemblyInstructions);
    let release: (() => void) | undefined;
    let onStarted!: () => void;
    let failStarted!: (e: unknown) => void;
    const started = new Promise<void>((resolve, reject) => ((onStarted = resolve), (failStarted = reject)));
    let outcome: { error: IcError | undefined } | undefined;
    let answer: ((error: IcError | undefined) => void) | undefined;
    let outcomeValue: { timerSetByNewCode: boolean } | undefined;
    const end = (error: IcError | undefined): void => {
      outcome = { error };
      if (!error) this.#installed(c, es, mode, outcomeValue!);
      else core.deps.state.markCanisterDirty(c.canisterId); // the cycles the instructions used
      if (release) {
        release();
        release = undefined;
      }
      answer?.(error);
      onStarted();
    };
    const hooks: SliceHooks = {
      onFirstYield: () => {
        if (release) return;
        release = core.hold(c.canisterId);
        onStarted();
      },
      aborted: () => core.closed,
    };
    // One step of the generator; after a yield, steps wait for the start of the next round.
    const advance = (input: { result: ExecutionResult } | { thrown: unknown } | undefined): void => {
      let next: IteratorResult<HookRun, { timerSetByNewCode: boolean }>;
      try {
        next = input === undefined ? steps.next() : 'thrown' in input ? steps.throw(input.thrown) : steps.next(input.result);
      } catch (e) {
        if (e instanceof IcError) return end(e);
        if (release) {
          release();
          release = undefined;
          if (!core.closed) console.error(`chainkey-replica: install_code on ${c.canisterId.toText()} failed:`, e);
          return;
        }
        return failStarted(e);
      }
      if (next.done) {
        outcomeValue = next.value;
        return end(undefined);
      }
      const { inst, ctx, entry, timerNanos, metering } = next.value;
      const body = (i: CanisterCode): Promise<unknown> => (entry === null ? i.runStartSliced() : i.callExportSliced(entry));
      runOnInstanceSliced(inst, ctx, body, true, timerNanos, hooks, metering).then(
        (result) => resume({ result }),
        (thrown: unknown) => resume({ thrown }),
      );
    };
    const resume = (input: { result: ExecutionResult } | { thrown: unknown }): void => {
      if (!release) return advance(input);
      if (core.closed) {
        // Shutting down: no more rounds; the install's effects are dropped with the process.
        release();
        release = undefined;
        return;
      }
      core.completions.push(() => advance(input));
      core.deps.requestRound();
    };
    advance(undefined);
    return {
      started,
      onEnd: (f) => {
        if (outcome) f(outcome.error);
        else answer = f;
      },
    };
  }

  /**
   * install_code with unsliced hooks, for code known to be short (the system canisters, installed
   * when the replica opens).
   * @throws IcError as {@link installCode} answers.
   */
  installCodeNow(c: CanisterState, mode: InstallMode, wasmModule: Uint8Array, arg: Uint8Array, caller: Principal): void {
    const es = this.#core.state(c);
    this.#installed(c, es, mode, runInstallSteps(this.#installer.steps(c, es, mode, wasmModule, arg, caller)));
  }

  /** What a successful install_code does besides the module: open contexts, the timer. */
  #installed(c: CanisterState, es: ExecutionState, mode: InstallMode, { timerSetByNewCode }: { timerSetByNewCode: boolean }): void {
    if ('reinstall' in mode || 'install' in mode) this.#rejectOpenContexts(c, es);
    // The global timer is deactivated by install, reinstall and upgrade (spec), unless the new
    // code's start function, canister_init or canister_post_upgrade set it.
    this.#core.setTimer(c, es, timerSetByNewCode ? es.globalTimerNanos : 0n);
    this.#core.touch(c);
  }

  uninstallCode(c: CanisterState): void {
    const es = this.#core.state(c);
    this.#installer.uninstall(c, es);
    this.#rejectOpenContexts(c, es);
    this.#core.setTimer(c, es, 0n);
    this.#core.touch(c);
    this.#stops.maybeStopped(c, es);
  }

  /** Rejects open call contexts of a canister that lost its code (spec: "Canister has been uninstalled"). */
  #rejectOpenContexts(c: CanisterState, es: ExecutionState): void {
    for (const cc of es.callContexts.contexts.values()) {
      if (!cc.responded && cc.origin.kind !== 'system') this.#out.respond(c, cc, { kind: 'error', error: canisterUninstalled() });
      cc.deleted = true;
      es.callContexts.closeIfDone(cc.id);
    }
  }

  memoryUsage(c: CanisterState): CanisterMemoryUsage {
    const es = this.#core.state(c);
    return {
      wasmMemoryBytes: BigInt(es.instance?.memoryBytes ?? 0),
      stableMemoryBytes: es.stable.sizeBytes,
      globalsBytes: BigInt((es.instance?.module.globals.length ?? 0) * 8),
      customSectionsBytes: customSectionsBytes(c.module),
    };
  }

  creationFee(subnet: Subnet): bigint {
    return this.#core.costsOfSubnet(subnet).scale(FEES_AT_13_NODES.canisterCreation);
  }

  costsOf(subnet: Subnet): SubnetCosts {
    return this.#core.costsOfSubnet(subnet);
  }

  chargeManagementInstructions(c: CanisterState, instructions: bigint, caller: Principal): void {
    const cost = this.#core.costs(c).managementInstructionsCost(instructions);
    if (cost === 0n) return;
    const threshold = this.#core.freezingThreshold(c);
    const reveal = c.controllers.some((p) => p.compareTo(caller) === 'eq');
    if (c.cycles < cost + threshold) throw canisterOutOfCycles(c.canisterId, c.cycles, cost, threshold, reveal);
    c.cycles -= cost;
    this.#core.touch(c);
  }

  idleCyclesBurnedPerDay(c: CanisterState): bigint {
    return this.#core.idleCyclesBurnedPerDay(c);
  }

  hasOpenCallContexts(c: CanisterState): boolean {
    return this.#core.state(c).callContexts.hasOpenContexts;
  }

  canisterStarted(c: CanisterState): void {
    this.#stops.cancel(c);
  }

  compilationInstructions(c: CanisterState, module: Uint8Array | null, moduleHash?: Uint8Array): bigint {
    return module ? compilationInstructions(prepareModule(c.canisterId, module, moduleHash), this.#core.compiledWasms(c)) : 0n;
  }

  captureSnapshot(c: CanisterState): SnapshotContent {
    return captureSnapshot(this.#core, c);
  }

  restoreSnapshot(c: CanisterState, content: SnapshotContent): void {
    restoreSnapshot(this.#core, c, content);
    this.#rejectOpenContexts(c, this.#core.state(c));
  }

  canisterDeleted(c: CanisterState): void {
    this.#core.forget(c);
  }
}
