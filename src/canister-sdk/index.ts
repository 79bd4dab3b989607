/**
 * `chainkey-replica/canister`: the API a TypeScript canister is written against.
 *
 *   import { defineCanister, update, query } from 'chainkey-replica/canister';
 *   export default defineCanister({
 *     candid: 'service : { inc : () -> (nat); get : () -> (nat) query }',
 *     state: () => ({ count: 0n }),
 *     methods: {
 *       inc: update((ctx) => ++ctx.state.count),
 *       get: query((ctx) => ctx.state.count),
 *     },
 *   });
 *
 * Inside the replica the module runs in its own V8 context (no Node or Web APIs, no imports
 * but this one) and these functions come from the replica's canister runtime
 * (src/execution/typescript/canister-runtime.js); the definitions here give editors and `tsc`
 * the types, and let a module be imported outside the replica (e.g. by `deploy`).
 *
 * Values follow the Candid JS conventions of @icp-sdk/core, except that principals are text
 * (`'aaaaa-aa'`): nat/int/nat64/int64 are bigint, smaller integers and floats are number, blob is
 * Uint8Array, opt is `[]` / `[value]`, variants are `{ tag: value }`, tuples are arrays. A method
 * with one result returns the value, with several an array, with none `undefined`.
 */

/** What a handler gets: the message, the canister, and the System API in JavaScript terms. */
export interface CanisterContext<S> {
  /** The caller's principal (text); '' in the timer and upgrade hooks. */
  readonly caller: string;
  /** This canister's id (text). */
  readonly self: string;
  /** The canister's state (JSON with bigints and Uint8Arrays), committed after each execution. */
  state: S;
  /** `ic0.time`: nanoseconds since the epoch. */
  time(): bigint;
  cycles: {
    /** `ic0.canister_cycle_balance128`. */
    balance(): bigint;
    /** Cycles attached to this call not yet accepted (`ic0.msg_cycles_available128`). */
    available(): bigint;
    /** Accepts up to `max` attached cycles; returns the amount accepted (`ic0.msg_cycles_accept128`). */
    accept(max: bigint): bigint;
    /** Cycles refunded with the last awaited call's response (`ic0.msg_cycles_refunded128`). */
    refunded(): bigint;
  };
  /**
   * Calls another canister (or `aaaaa-aa`) as a real inter-canister message: the state is committed
   * before the call goes out, the handler resumes in the response's execution.
   * @param options.cycles cycles attached (`ic0.call_cycles_add128`), taken from the balance
   * @param options.candid the callee's service description (not needed for `aaaaa-aa`)
   * @returns the decoded reply (one value, an array of several, or undefined)
   * @throws CallError with the reject code and message the replica gives a Wasm canister
   */
  call<T = unknown>(canisterId: string, method: string, args?: unknown[], options?: { cycles?: bigint; candid?: string }): Promise<T>;
  /** 32 random bytes from `aaaaa-aa`'s raw_rand. */
  rawRand(): Promise<Uint8Array>;
  /** Rejects the call (reject code 4, CANISTER_REJECT); the handler's return value is then ignored. */
  reject(message: string): void;
  /** Traps (`ic0.trap`): the execution's changes are rolled back, the caller gets reject code 5. */
  trap(message: string): never;
  /** `ic0.debug_print`. */
  print(text: string): void;
  /** `ic0.global_timer_set`: the `timer` hook runs at `atNanos` (0 cancels); returns the previous deadline. */
  setTimer(atNanos: bigint): bigint;
  /** `ic0.certified_data_set` (≤ 32 bytes). */
  setCertifiedData(bytes: Uint8Array): void;
  /** SHA-256 of `bytes` (32 bytes). */
  sha256(bytes: Uint8Array): Uint8Array;
  /** RIPEMD-160 of `bytes` (20 bytes), e.g. for Bitcoin addresses. */
  ripemd160(bytes: Uint8Array): Uint8Array;
  /** SHA-224 of `bytes` (28 bytes), e.g. for ICP ledger account identifiers. */
  sha224(bytes: Uint8Array): Uint8Array;
  /** CRC-32 (ISO-HDLC, as zlib) of `bytes`, an unsigned 32-bit number. */
  crc32(bytes: Uint8Array): number;
  /** The raw bytes of a principal given as text (0–29 bytes). @throws on malformed text */
  principalToBytes(text: string): Uint8Array;
  /** The text form of a principal given by its raw bytes. @throws on more than 29 bytes */
  principalFromBytes(bytes: Uint8Array): string;
}

/** A handler: `(ctx, ...candidArgs) => result` (or a promise of it). */
export type Handler<S> = (ctx: CanisterContext<S>, ...args: any[]) => unknown;

/** A method: an update (state kept) or a query (state changes discarded). */
export interface MethodDefinition<S> {
  kind: 'update' | 'query';
  handler: Handler<S>;
}

/** A TypeScript canister. */
export interface CanisterDefinition<S> {
  /** The Candid service, e.g. `service : (init) -> { m : (text) -> (nat) query }`. */
  candid: string;
  /** The initial state (called at install and reinstall). */
  state?: () => S;
  /** One entry per service method. */
  methods: Record<string, MethodDefinition<S>>;
  /** canister_init, with the service's init arguments. */
  init?: Handler<S>;
  /** canister_pre_upgrade, on the old code. */
  preUpgrade?: Handler<S>;
  /** canister_post_upgrade, on the new code (the state is kept), with the init arguments. */
  postUpgrade?: Handler<S>;
  /** canister_global_timer. */
  timer?: Handler<S>;
}

/** The reject of an inter-canister call. */
export class CallError extends Error {
  /** 1 SYS_FATAL … 6 SYS_UNKNOWN. */
  readonly rejectCode: number;
  constructor(rejectCode: number, message: string) {
    super(message);
    this.name = 'CallError';
    this.rejectCode = rejectCode;
  }
}

/** Declares a canister; the module's default export. */
export function defineCanister<S>(definition: CanisterDefinition<S>): CanisterDefinition<S> {
  return definition;
}

/** An update method. */
export function update<S>(handler: Handler<S>): MethodDefinition<S> {
  return { kind: 'update', handler };
}

/** A query method. */
export function query<S>(handler: Handler<S>): MethodDefinition<S> {
  return { kind: 'query', handler };
}
