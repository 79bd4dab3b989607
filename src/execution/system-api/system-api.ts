/**
 * The System API of one canister instance (interface spec §"Canister interface (System API)"):
 * the `ic0` import object built from the rows of ic0-table.ts. Each execution installs its
 * {@link ExecutionContext} first; every import checks, in one place, that its function may run in
 * that context (the row's contexts) and then calls the row's implementation on the instance's
 * {@link SystemApiState}. Instruction metering charges the row's cost at the same place.
 *
 * Effects other than memory (response, cycles, calls, timer, certified data) are collected in the
 * context's changes and applied by the caller only if the execution succeeds.
 */
import { CanisterTrap, wrongMode } from '../hypervisor-error.ts';
import type { StableMemory } from '../wasm/stable-memory.ts';
import { apiTypeDisplay, letterOf } from './api-type.ts';
import type { ExecutionContext, SystemApiHost } from './execution-context.ts';
import type { Ic0Row } from './ic0-row.ts';
import { IC0_TABLE } from './ic0-table.ts';
import { SystemApiState } from './system-api-state.ts';
import type { InstructionMeter } from '../instruction-meter.ts';
import { DEFAULT_LOG_MEMORY_LIMIT } from '../../state/canister-state.ts';

/** The log capacity assumed when the context gives none, bytes. */
const DEFAULT_LOG_CAPACITY = Number(DEFAULT_LOG_MEMORY_LIMIT);

/** An `I` or i64 argument as an unsigned count. */
const unsigned = (x: unknown): bigint => (typeof x === 'bigint' ? BigInt.asUintN(64, x) : typeof x === 'number' ? BigInt(x >>> 0) : 0n);

/** The `ic0` import object of one canister instance, with the per-execution context swapped in. */
export class SystemApi {
  readonly #state: SystemApiState;

  /**
   * @param wide true for wasm64 modules (i64 pointers and sizes).
   * @param stable the canister's stable memory.
   * @param host where `debug_print` output goes.
   */
  constructor(wide: boolean, stable: StableMemory, host: SystemApiHost) {
    this.#state = new SystemApiState(wide, stable, host);
  }

  /** The instance's stable memory (replaced on reinstall). */
  get stable(): StableMemory {
    return this.#state.stable;
  }
  set stable(stable: StableMemory) {
    this.#state.stable = stable;
  }

  /** The global timer as stored before the next execution (set by the executor), nanoseconds. */
  get currentTimerNanos(): bigint {
    return this.#state.currentTimerNanos;
  }
  set currentTimerNanos(t: bigint) {
    this.#state.currentTimerNanos = t;
  }

  /** The instruction counter of the running execution. */
  get meter(): InstructionMeter {
    return this.#state.meter;
  }

  /** Whether System API byte counts are charged (false on system subnets). */
  set chargeBytes(v: boolean) {
    this.#state.chargeBytes = v;
  }

  /**
   * Sets the instance's memory (after instantiation) and its written-page marks (written-pages.ts;
   * null when there are none: the System API's heap writes are then not tracked).
   */
  attachMemory(memory: WebAssembly.Memory, writtenPages: WebAssembly.Memory | null = null): void {
    this.#state.memory = memory;
    this.#state.writtenPages = writtenPages;
  }

  /** Installs the context of the next execution. */
  begin(ctx: ExecutionContext): void {
    const s = this.#state;
    s.ctx = ctx;
    s.pending = null;
    s.reply = [];
    s.replySize = 0;
    s.loggedBytes = 0;
  }

  /** Ends the execution; a call started with call_new but not performed is dropped (spec). */
  end(): void {
    const s = this.#state;
    s.ctx = null;
    s.pending = null;
    s.reply = [];
  }

  /**
   * The `ic0` import object for a module importing `names`.
   * @throws Error for a name this replica does not offer (module validation rejects those first).
   */
  imports(names: Iterable<string>): Record<string, (...args: never[]) => unknown> {
    const out: Record<string, (...args: never[]) => unknown> = {};
    for (const name of names) {
      const r = IC0_TABLE.get(name);
      if (!r) throw new Error(`ic0.${name} is not offered by this replica`);
      out[name] = this.#import(r);
    }
    return out;
  }

  /** One import: the context check (and, with metering, the row's cost), then the row's implementation. */
  #import(r: Ic0Row): (...args: never[]) => unknown {
    const s = this.#state;
    const impl = r.impl;
    const contexts = r.contexts;
    const fn = `ic0_${r.name}`;
    const { base, bytesArgs, byteFactor = 1, logged } = r.cost;
    const baseCost = BigInt(base);
    return (...args: never[]) => {
      const ctx = s.ctx;
      if (!ctx) throw new CanisterTrap(wrongMode(fn, 'start'));
      if (!contexts.includes(letterOf[ctx.apiType])) throw new CanisterTrap(wrongMode(fn, apiTypeDisplay[ctx.apiType]));
      // Charged before the function runs (linker.rs charge_for_cpu / charge_for_cpu_and_mem).
      let cost = baseCost;
      if (bytesArgs && s.chargeBytes) {
        let bytes = 0n;
        for (const i of bytesArgs) bytes += unsigned(args[i]);
        cost += bytes * BigInt(byteFactor);
      }
      if (logged) {
        const length = unsigned(args[logged.length]);
        const capacity = BigInt(ctx.logCapacityBytes ?? DEFAULT_LOG_CAPACITY);
        const free = BigInt(Math.max(0, (ctx.logRemainingBytes ?? Number(capacity)) - s.loggedBytes));
        const allocated = length < capacity ? length : capacity;
        if (s.chargeBytes) cost += 2n * allocated + 50n * (length < free ? length : free) + (logged.withLength ? length : 0n);
        s.loggedBytes += Number(allocated);
      }
      s.meter.charge(cost);
      return impl(s, ctx, ...args);
    };
  }
}
