/**
 * Counting the instructions of one message execution, as the replica does (dfinity/ic
 * rs/embedders wasmtime_embedder `instruction_counter`, system_api `out_of_instructions`,
 * rs/config subnet_config.rs limits): the instrumented module decrements a counter global
 * (wasm/instrumentation.ts); System API functions subtract their own cost from the same counter;
 * when the counter goes below zero the host either ends the message with IC0522 (the message's
 * limit is used up) or refills the counter with the next slice (the replica's deterministic time
 * slicing). Slices only decide when the host may yield; they never change what is counted.
 *
 * For a TypeScript canister there is no counter global: its System API costs are counted alone.
 */
import type { ApiType } from './system-api/api-type.ts';
import { ErrorCode } from '../types/ic-error.ts';
import { CanisterTrap, type HypervisorErrorInfo } from './hypervisor-error.ts';

/** Per-message instruction limits, application subnets (subnet_config.rs `SchedulerConfig::application_subnet`). */
export const INSTRUCTION_LIMITS = {
  /** Update, replicated query, heartbeat, global timer, response callback (`MAX_INSTRUCTIONS_PER_MESSAGE`). */
  message: 40_000_000_000n,
  /** Non-replicated and composite queries (`MAX_INSTRUCTIONS_PER_MESSAGE_WITHOUT_DTS`). */
  query: 5_000_000_000n,
  /** install_code: start + init / pre_upgrade + start + post_upgrade together (`MAX_INSTRUCTIONS_PER_INSTALL_CODE`). */
  install: 300_000_000_000n,
  /** canister_inspect_message (`MAX_INSTRUCTIONS_FOR_MESSAGE_ACCEPTANCE_CALLS`). */
  inspectMessage: 200_000_000n,
  /** One DTS slice (`MAX_INSTRUCTIONS_PER_SLICE`). */
  slice: 2_000_000_000n,
} as const;

/** System (NNS) subnets: no DTS, bigger limits (`SchedulerConfig::system_subnet`). */
export const SYSTEM_SUBNET_INSTRUCTION_LIMITS = {
  ...INSTRUCTION_LIMITS,
  message: 50_000_000_000n,
  install: 1_000_000_000_000n,
} as const;

/**
 * Instructions charged per 4 KiB page of heap or stable memory an execution wrote
 * (`DEFAULT_DIRTY_PAGE_OVERHEAD`, rs/config subnet_config.rs).
 *
 * Which rule this follows: the replica's wasmtime embedder (rs/embedders/src/wasmtime_embedder.rs,
 * `WasmtimeInstance::run`, "Charge for dirty wasm heap pages") subtracts `dirty_page_overhead` ×
 * the written OS pages from the counter after the run (past the limit if need be), with the
 * overhead × `WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER` (4, rs/config embedders.rs, PR #1725) for
 * a wasm64 heap; dfinity/ic's `charge_for_dirty_heap` test asserts `… + 2 × dirty_page_overhead`
 * for two stores on two pages. Newer dfinity/ic master commits charge through a deterministic
 * memory tracker instead (PR #9565, 2026-04: at Wasm-page granularity, 16 OS pages accessed + 16
 * written for a first write, i.e. 32,000 in that test; PR #10789, 2026-07: 5,000 per OS page
 * accessed, read or write, plus 3,000 per dirty page copied; PR #11344 still reworking it in
 * 2026-08). Which of these mainnet's replica versions enable could not be established from
 * public sources, so the rule the embedder and its own test state is kept here; the charge is
 * made in one place (hypervisor.ts `succeeded`) so that it can follow a confirmed change.
 */
export const DIRTY_PAGE_OVERHEAD = 1_000n;

/** Heap (not stable) dirty pages of a wasm64 module cost this many times more (`WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER`). */
export const WASM64_DIRTY_PAGE_OVERHEAD_MULTIPLIER = 4n;

const DOCS = 'http://internetcomputer.org/docs/current/references/execution-errors';

/**
 * IC0522 `InstructionLimitExceeded` (rs/interfaces execution_environment/errors.rs): the text
 * names the limit that applied; the help line is the replica's.
 */
export function instructionLimitExceeded(limit: bigint): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterInstructionLimitExceeded,
    text: `Canister exceeded the limit of ${limit} instructions for single message execution.`,
    help:
      'Try optimizing this method to consume fewer instructions or split the work across multiple messages. ' +
      `See documentation: ${DOCS}#instruction-limit-exceeded`,
  };
}

/** The limit of one execution in `apiType` on a subnet (install_code passes its own remaining budget). */
export function instructionLimitFor(apiType: ApiType, systemSubnet: boolean): bigint {
  const l = systemSubnet ? SYSTEM_SUBNET_INSTRUCTION_LIMITS : INSTRUCTION_LIMITS;
  switch (apiType) {
    case 'non_replicated_query':
    case 'composite_query':
      return l.query;
    case 'inspect_message':
      return l.inspectMessage;
    case 'start':
    case 'init':
    case 'pre_upgrade':
      return l.install;
    default:
      return l.message;
  }
}

/** The counter of the running execution of one canister instance. */
export class InstructionMeter {
  /** The instance's counter global (i64), or null (TypeScript canisters). */
  #counter: WebAssembly.Global | null = null;
  /** Counter stand-in when there is no global. */
  #plain = 0n;
  #limit = 0n;
  #limitToReport = 0n;
  /** Instructions of the slices before the current one. */
  #before = 0n;
  /** What the counter was set to at the start of the current slice. */
  #sliceStart = 0n;
  #sliceSize: bigint = INSTRUCTION_LIMITS.slice;
  /** Instructions of earlier executions in the same call context (`performance_counter(1)`). */
  #callContextBefore = 0n;
  /** Called between slices; answers whether the Wasm should yield now (JSPI). */
  #onSlice: (() => boolean) | null = null;

  /** Binds the instance's counter global (after instantiation). */
  attach(counter: WebAssembly.Global | null): void {
    this.#counter = counter;
  }

  #get(): bigint {
    return this.#counter ? (this.#counter.value as bigint) : this.#plain;
  }

  #set(v: bigint): void {
    if (this.#counter) this.#counter.value = v;
    else this.#plain = v;
  }

  /**
   * Starts counting an execution.
   * @param limit the message's instruction limit.
   * @param callContextInstructions instructions of earlier executions in the call context.
   * @param onSlice called when a slice is used up; true = yield to the event loop (only in an
   *   execution started through `WebAssembly.promising`).
   * @param sliceSize instructions between two calls of `onSlice` (default: the replica's DTS slice).
   * @param limitToReport the limit IC0522's text names (the replica's `limit_to_report`): an
   *   install's hooks run with what compilation and earlier hooks left of the 300 B, and the
   *   text still names 300 B.
   */
  begin(limit: bigint, callContextInstructions = 0n, onSlice: (() => boolean) | null = null, sliceSize: bigint = INSTRUCTION_LIMITS.slice, limitToReport = limit): void {
    this.#limit = limit;
    this.#limitToReport = limitToReport;
    this.#sliceSize = sliceSize;
    this.#before = 0n;
    this.#callContextBefore = callContextInstructions;
    this.#onSlice = onSlice;
    this.#refill();
  }

  #refill(): void {
    const left = this.#limit - this.#before;
    const next = left < this.#sliceSize ? left : this.#sliceSize;
    this.#sliceStart = next > 0n ? next : 0n;
    this.#set(this.#sliceStart);
  }

  /** The message's limit. */
  get limit(): bigint {
    return this.#limit;
  }

  /** The limit IC0522's text names (see {@link begin}). */
  get limitToReport(): bigint {
    return this.#limitToReport;
  }

  /** Instructions executed in this message so far (`performance_counter(0)`). */
  get executed(): bigint {
    return this.#before + (this.#sliceStart - this.#get());
  }

  /** Instructions of the call context so far, this execution included (`performance_counter(1)`). */
  get callContextExecuted(): bigint {
    return this.#callContextBefore + this.executed;
  }

  /**
   * The counter went below zero (the instrumented `ooi()`, or {@link charge}): ends the
   * execution with IC0522 past the limit, else starts the next slice.
   * @returns 1 when the Wasm should yield (call the Suspending `__.yield`), else 0.
   * @throws CanisterTrap IC0522 when the limit is used up.
   */
  outOfInstructions(): number {
    this.#before += this.#sliceStart - this.#get();
    if (this.#before > this.#limit) {
      this.#before = this.#limit;
      this.#sliceStart = 0n;
      this.#set(0n);
      throw new CanisterTrap(instructionLimitExceeded(this.#limitToReport));
    }
    this.#refill();
    return this.#onSlice?.() ? 1 : 0;
  }

  /**
   * Charges `n` instructions done by the host (System API overhead and bytes).
   * @throws CanisterTrap IC0522 when that passes the limit.
   */
  charge(n: bigint): void {
    if (n === 0n) return;
    this.#set(this.#get() - n);
    if (this.#get() < 0n) this.outOfInstructions();
  }

  /**
   * Adds instructions after the execution ended (dirty pages), past the limit if need be, as the
   * replica does to keep pre-upgrades from failing on the page charge.
   */
  chargeAfterwards(n: bigint): void {
    this.#set(this.#get() - n);
  }
}
