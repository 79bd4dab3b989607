/**
 * The state the `ic0` functions of one canister instance work on (the replica's `SystemApiImpl`
 * fields): the Wasm heap, stable memory, the context of the current execution, the call under
 * construction (`call_new` … `call_perform`) and the reply being built; plus the heap accessors
 * every row of ic0-table.ts shares, each with the replica's trap text.
 *
 * ABI width: in wasm32 modules pointers and sizes (the spec's `I`) are i32 (JS numbers, read as
 * unsigned); in wasm64 modules they are i64 (BigInt). Values the spec types as i64 are BigInt in both.
 */
import { InstructionMeter } from '../instruction-meter.ts';
import { ErrorCode } from '../../types/ic-error.ts';
import { CanisterTrap, TOOLCHAIN_HELP, toolchainViolation, type HypervisorErrorInfo } from '../hypervisor-error.ts';
import type { StableMemory } from '../wasm/stable-memory.ts';
import { markRange } from '../wasm/written-pages.ts';
import type { ExecutionContext, SystemApiHost } from './execution-context.ts';
import type { OutgoingCall } from './system-state-changes.ts';

/** A pointer or size argument: i32 (number) in wasm32 modules, i64 (bigint) in wasm64 modules. */
export type I = number | bigint;

/** Unsigned value of an `I` or i64 argument. */
export const u = (x: I): bigint => (typeof x === 'bigint' ? BigInt.asUintN(64, x) : BigInt(x >>> 0));
/** Unsigned value of an `I` or i64 argument as a JS number (heap offsets and lengths). */
export const n = (x: I): number => Number(u(x));
/** Lossy UTF-8 (debug_print, trap, method names). */
export const lossyUtf8 = new TextDecoder('utf-8', { fatal: false });
/** Strict UTF-8 (reject messages, key names). */
export const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Largest reply/reject/call payload a canister may build: 2 MiB (spec, replica `MAX_INTER_CANISTER_PAYLOAD_IN_BYTES`). */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
/** Largest certified data: 32 bytes (spec §"Certified data"). */
export const MAX_CERTIFIED_DATA_BYTES = 32;

/** A principal longer than 29 bytes (IC0504, `InvalidPrincipalId`). */
export const invalidPrincipal = (): HypervisorErrorInfo => ({
  code: ErrorCode.CanisterContractViolation,
  text: 'Canister provided invalid principal id',
  help: TOOLCHAIN_HELP,
});

/** Per-instance System API state and the heap accessors the ic0 rows use. */
export class SystemApiState {
  /** true for wasm64 modules (i64 pointers and sizes). */
  readonly wide: boolean;
  readonly host: SystemApiHost;
  memory: WebAssembly.Memory | null = null;
  /** The heap's written-page marks (one byte per 4 KiB page), or null (no tracking). */
  writtenPages: WebAssembly.Memory | null = null;
  /** The context of the running execution; null between executions. */
  ctx: ExecutionContext | null = null;
  /** The call under construction between `call_new` and `call_perform`. */
  pending: OutgoingCall | null = null;
  /** Argument chunks of the call under construction. */
  pendingArg: Uint8Array[] = [];
  /** Reply chunks appended with `msg_reply_data_append`, and their total size in bytes. */
  reply: Uint8Array[] = [];
  replySize = 0;
  /** The instance's stable memory (replaced on reinstall). */
  stable: StableMemory;
  /** The global timer as stored before this execution (set by the executor), nanoseconds. */
  currentTimerNanos = 0n;
  /** The instruction counter of the running execution (`performance_counter`, the rows' costs). */
  readonly meter = new InstructionMeter();
  /** Whether byte counts are charged (false on system subnets: `get_num_instructions_from_bytes`). */
  chargeBytes = true;
  /** Bytes this execution has put in the canister log so far (debug_print), for the log charge. */
  loggedBytes = 0;

  constructor(wide: boolean, stable: StableMemory, host: SystemApiHost) {
    this.wide = wide;
    this.stable = stable;
    this.host = host;
  }

  /** A size result in the module's width (`I`). */
  size(v: number | bigint): I {
    return this.wide ? BigInt(v) : Number(v);
  }

  /** The heap as bytes (a fresh view: the memory may have grown). */
  heap(): Uint8Array {
    return new Uint8Array(this.memory!.buffer);
  }

  /** Records that heap bytes [start, start + length) were written by the System API. */
  markWritten(start: number, length: number): void {
    markRange(this.writtenPages, start, length);
  }

  /**
   * Reads heap bytes; `what` names the slice in the replica's text (`valid_subslice`).
   * @throws CanisterTrap IC0504 when `src + size` is past the heap.
   */
  read(what: string, src: I, size: I): Uint8Array {
    const heap = this.heap();
    const s = n(src);
    const len = n(size);
    if (s + len > heap.length) {
      throw new CanisterTrap(toolchainViolation(`${what}: src=${s} + length=${len} exceeds the slice size=${heap.length}`));
    }
    return heap.slice(s, s + len);
  }

  /**
   * Copies `data[offset .. offset+size]` to heap `dst` (the spec's `_copy` convention); the heap
   * side is checked first, as the replica does. `fn` is e.g. `ic0.msg_arg_data_copy`, `what` the
   * source's name in the replica's text (`payload`, `id`, `msg`, ...).
   * @throws CanisterTrap IC0504 when either range is out of bounds.
   */
  copyOut(fn: string, what: string, data: Uint8Array, dst: I, offset: I, size: I): void {
    const heap = this.heap();
    const d = n(dst);
    const off = n(offset);
    const len = n(size);
    if (d + len > heap.length) {
      throw new CanisterTrap(toolchainViolation(`${fn} heap: src=${d} + length=${len} exceeds the slice size=${heap.length}`));
    }
    if (off + len > data.length) {
      throw new CanisterTrap(toolchainViolation(`${fn} ${what}: src=${off} + length=${len} exceeds the slice size=${data.length}`));
    }
    heap.set(data.subarray(off, off + len), d);
    this.markWritten(d, len);
  }

  /**
   * Writes a 128-bit little-endian amount to heap `dst` (the `*128` functions).
   * @throws CanisterTrap IC0504 when `dst + 16` is past the heap.
   */
  write128(name: string, dst: I, v: bigint): void {
    const heap = this.heap();
    const d = n(dst);
    if (d + 16 > heap.length) {
      throw new CanisterTrap(
        toolchainViolation(`${name} failed because dst + size is out of bounds.Found dst = ${d} and size = 16 while must be <= ${heap.length}`),
      );
    }
    let x = v;
    for (let i = 0; i < 16; i++) {
      heap[d + i] = Number(x & 0xffn);
      x >>= 8n;
    }
    this.markWritten(d, 16);
  }

  /** The balance as the canister currently sees it (start balance adjusted by this execution), cycles. */
  balance(ctx: ExecutionContext): bigint {
    const ch = ctx.changes;
    let sent = 0n;
    for (const c of ch.calls) sent += c.cycles + (c.fee ?? 0n);
    if (this.pending) sent += this.pending.cycles;
    return ctx.balance + ch.cyclesAccepted - ch.cyclesBurned - sent;
  }

  /** Whether the call context has a response (before or during this execution). */
  responded(ctx: ExecutionContext): boolean {
    return ctx.responded || ctx.changes.response !== undefined;
  }

  /** Largest reply: 2 MiB, 3 MiB in (composite) non-replicated queries (system_api.rs). */
  maxReply(ctx: ExecutionContext): number {
    return ctx.apiType === 'non_replicated_query' || ctx.apiType === 'composite_query' ? 3 * 1024 * 1024 : MAX_PAYLOAD_BYTES;
  }

  /**
   * The call under construction.
   * @throws CanisterTrap IC0504 when no `call_new` precedes (`name` is the function in the text).
   */
  needPending(name: string): OutgoingCall {
    if (!this.pending) throw new CanisterTrap(toolchainViolation(`${name} called when no call is under construction.`));
    return this.pending;
  }

  /**
   * Environment variable number `i` (`env_var_name_*`).
   * @throws CanisterTrap IC0504 for an index past the end, with the replica's text.
   */
  envVar(ctx: ExecutionContext, i: I): { name: string; value: string } {
    const v = ctx.environmentVariables[n(i)];
    if (!v) {
      throw new CanisterTrap({
        code: ErrorCode.CanisterContractViolation,
        text: `Environment variable index ${n(i)} is out of bounds. The number of environment variables is ${ctx.environmentVariables.length}.`,
        help: '',
      });
    }
    return v;
  }

  /**
   * The value of the environment variable whose name is at heap `src` (`env_var_value_*`).
   * @throws CanisterTrap IC0504 when no variable has that name.
   */
  envValue(ctx: ExecutionContext, name: string, src: I, size: I): string {
    const key = lossyUtf8.decode(this.read(`ic0.${name}`, src, size));
    const v = ctx.environmentVariables.find((e) => e.name === key);
    if (!v) throw new CanisterTrap({ code: ErrorCode.CanisterContractViolation, text: `Environment variable ${key} not found.`, help: '' });
    return v.value;
  }
}
