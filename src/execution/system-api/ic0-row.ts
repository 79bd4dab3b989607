/**
 * The shape of one row of the `ic0` table (ic0-table.ts): everything this replica knows about one
 * System API function, in one place, as the interface spec's own import table and ic-hs's
 * `Imp.hs` have it (name, Wasm signature, the contexts it may be called in, its instruction cost,
 * the implementation). The import object, the supported-import list, module validation's
 * signature table and the context check are all derived from the rows.
 */
import type { Letter } from './api-type.ts';
import type { ExecutionContext } from './execution-context.ts';
import type { SystemApiState } from './system-api-state.ts';

/** A Wasm value type in spec notation: `I` is i32 in wasm32 modules and i64 in wasm64 modules. */
export type Ic0ValueType = 'I' | 'i32' | 'i64';

/**
 * What a call costs in instructions, as the replica charges it before running the function
 * (rs/embedders `system_api_complexity.rs` `overhead` and `linker.rs` `charge_for_cpu[_and_mem]`;
 * values from ../shared/reference/cycles.md §4; the per-byte factors re-checked against
 * linker.rs). system-api.ts charges it to the instruction meter before the function runs.
 */
export interface Ic0Cost {
  /** Fixed overhead, instructions. */
  readonly base: number;
  /**
   * Positions (0-based) of the arguments that are byte counts; their sum, times `byteFactor`, is
   * charged at the subnet's per-byte rate (1 instruction per byte on application subnets, 0 on
   * system subnets: `get_num_instructions_from_bytes`). Absent when the call copies no bytes.
   */
  readonly bytesArgs?: readonly number[];
  /**
   * Multiplier on the bytes: 50 for payload handed to the replica (`msg_reply_data_append`,
   * `msg_reject`, `call_data_append`: `BYTE_TRANSMISSION_COST_FACTOR`); 1 when absent.
   */
  readonly byteFactor?: number;
  /**
   * A message of argument `length` bytes goes to the canister log (`debug_print`, `trap`): the
   * bytes charged are 2 × the bytes the log allocates (min(length, capacity)) + 50 × the bytes
   * transmitted (min(length, the log's free bytes)), plus `length` itself when `withLength`
   * (dfinity/ic rs/embedders/src/wasmtime_embedder/linker.rs `logging_charge_bytes`: trap adds the
   * length; debug_print adds it only where debug printing is on, i.e. system subnets, which
   * charge no bytes). Replaces `bytesArgs`.
   */
  readonly logged?: { readonly length: number; readonly withLength: boolean };
}

/** An `ic0` function's implementation: the checked context, then the Wasm arguments. */
// The Wasm arguments are typed in each row (I, i32 number, i64 bigint); `any` lets rows name them.
export type Ic0Impl = (s: SystemApiState, ctx: ExecutionContext, ...args: any[]) => unknown;

/** One `ic0` function. */
export interface Ic0Row {
  /** The spec name, without the `ic0.` module prefix (`msg_reply_data_append`). */
  readonly name: string;
  /** Parameter and result types in spec notation. */
  readonly params: readonly Ic0ValueType[];
  readonly results: readonly Ic0ValueType[];
  /** The contexts it may be called in (spec letters); elsewhere it traps (IC0504 wrong mode). */
  readonly contexts: readonly Letter[];
  readonly cost: Ic0Cost;
  readonly impl: Ic0Impl;
}

/** Builds a row from its spec signature (`(I, I) -> I`-style lists) and the rest. */
export function row(
  name: string,
  params: readonly Ic0ValueType[],
  results: readonly Ic0ValueType[],
  contexts: readonly Letter[],
  cost: Ic0Cost,
  impl: Ic0Impl,
): Ic0Row {
  return { name, params, results, contexts, cost, impl };
}
