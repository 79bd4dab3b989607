/**
 * The System API (interface spec §"Canister interface (System API)"): the `ic0` import table a
 * canister module is instantiated with. One object per canister instance; each execution installs
 * its {@link ExecutionContext} first, and every function checks that it may run in that context
 * (see api-type.ts), then works on the context, the instance's memory and its stable memory.
 *
 * ABI width: in wasm32 modules pointers and sizes (the spec's `I`) are i32 (JS numbers, read as
 * unsigned); in wasm64 modules (memory64, the default moc output) they are i64 (BigInt). Values the
 * spec types as i64 are BigInt in both.
 *
 * Effects other than memory (response, cycles, calls, timer, certified data) are collected in the
 * context's {@link SystemStateChanges} and applied by the caller only if the execution succeeds.
 */
import { Principal } from '@icp-sdk/core/principal';
import { callFee, canisterCreationFee, httpRequestFee } from '../../cycles/fee-schedule.ts';
import { CanisterTrap, calledTrap, outOfCyclesForTransfer, toolchainViolation, trapped, userViolation, wrongMode } from '../hypervisor-error.ts';
import type { StableMemory } from '../wasm/stable-memory.ts';
import { ErrorCode } from '../../types/ic-error.ts';
import { TOOLCHAIN_HELP, type HypervisorErrorInfo } from '../hypervisor-error.ts';

/** A principal longer than 29 bytes (IC0504, `InvalidPrincipalId`). */
const invalidPrincipal = (): HypervisorErrorInfo => ({
  code: ErrorCode.CanisterContractViolation,
  text: 'Canister provided invalid principal id',
  help: TOOLCHAIN_HELP,
});
import { allowedContexts, apiTypeDisplay, isAllowed, isReplicated, type ApiType } from './api-type.ts';
import type { OutgoingCall, SystemStateChanges } from './system-state-changes.ts';

/** Largest reply/reject/call payload a canister may build: 2 MiB (spec, replica `MAX_INTER_CANISTER_PAYLOAD_IN_BYTES`). */
export const MAX_PAYLOAD_BYTES = 2 * 1024 * 1024;
/** Largest certified data: 32 bytes (spec §"Certified data"). */
export const MAX_CERTIFIED_DATA_BYTES = 32;

/** Everything one execution of canister code may observe. Cycles are bigint cycles; times nanoseconds. */
export interface ExecutionContext {
  apiType: ApiType;
  canisterId: Principal;
  subnetId: Principal;
  /** Nodes in the canister's subnet (fees scale with it). */
  subnetSize: number;
  caller: Principal;
  /** The message argument (reply data in a reply callback). */
  arg: Uint8Array;
  /** The method name (inspect message). */
  methodName: string;
  timeNanos: bigint;
  /** The canister's balance when the execution starts. */
  balance: bigint;
  /** Cycles the call context still has available to accept. */
  cyclesAvailable: bigint;
  /** Cycles refunded by the callee (callbacks). */
  cyclesRefunded: bigint;
  /** Reject code and message (reject callback); code 0 in a reply callback. */
  rejectCode: number;
  rejectMessage: string;
  /** Whether the call context has already been responded to (before this execution). */
  responded: boolean;
  controllers: readonly Principal[];
  /** 1 running, 2 stopping, 3 stopped (`ic0.canister_status`). */
  status: 1 | 2 | 3;
  version: bigint;
  /** DER-encoded BLS root public key (133 bytes). */
  rootKeyDer: Uint8Array;
  /** The data certificate, non-replicated queries only. */
  dataCertificate?: Uint8Array;
  /** `ic0.msg_deadline`: 0 for guaranteed-response calls. */
  deadlineNanos: bigint;
  environmentVariables: readonly { name: string; value: string }[];
  /** Cycles the canister must keep (freezing threshold); the liquid balance is above this. */
  frozenReserveCycles: bigint;
  /**
   * Fee of a chain-key request by this canister for a key id text (`ecdsa:Secp256k1:key_1`), in
   * cycles, or undefined when no subnet holds the key (`ic0.cost_sign_with_*`).
   */
  thresholdFee(method: 'sign_with_ecdsa' | 'sign_with_schnorr' | 'vetkd_derive_key', keyId: string): bigint | undefined;
  /** Collected effects. */
  changes: SystemStateChanges;
}

/** Host services the System API needs besides the context. */
export interface SystemApiHost {
  /** `ic0.debug_print` output; `replicated` for executions whose effects are kept (canister logs). */
  debugPrint(canisterId: Principal, text: string, replicated?: boolean): void;
}

type I = number | bigint;

/** Unsigned value of an `I` or i64 argument. */
const u = (x: I): bigint => (typeof x === 'bigint' ? BigInt.asUintN(64, x) : BigInt(x >>> 0));
const n = (x: I): number => Number(u(x));
const decoder = new TextDecoder('utf-8', { fatal: false });
const strictDecoder = new TextDecoder('utf-8', { fatal: true });

/** The ic0 functions this replica offers, by spec name. */
export const SUPPORTED_IC0 = new Set(Object.keys(allowedContexts));

/** The `ic0` import object of one canister instance, with the per-execution context swapped in. */
export class SystemApi {
  readonly #wide: boolean;
  readonly #host: SystemApiHost;
  #memory: WebAssembly.Memory | null = null;
  #ctx: ExecutionContext | null = null;
  #pending: OutgoingCall | null = null;
  #reply: Uint8Array[] = [];
  #replySize = 0;
  /** The instance's stable memory (replaced on reinstall). */
  stable: StableMemory;

  /**
   * @param wide true for wasm64 modules (i64 pointers and sizes).
   * @param stable the canister's stable memory.
   */
  constructor(wide: boolean, stable: StableMemory, host: SystemApiHost) {
    this.#wide = wide;
    this.stable = stable;
    this.#host = host;
  }

  /** Sets the instance's memory (after instantiation). */
  attachMemory(memory: WebAssembly.Memory): void {
    this.#memory = memory;
  }

  /** Installs the context of the next execution. */
  begin(ctx: ExecutionContext): void {
    this.#ctx = ctx;
    this.#pending = null;
    this.#reply = [];
    this.#replySize = 0;
  }

  /** Ends the execution; a call started with call_new but not performed is dropped (spec). */
  end(): void {
    this.#ctx = null;
    this.#pending = null;
    this.#reply = [];
  }

  // ---- helpers -----------------------------------------------------------------------------

  #c(name: string): ExecutionContext {
    const ctx = this.#ctx;
    if (!ctx) throw new CanisterTrap(wrongMode(`ic0_${name}`, 'start'));
    if (!isAllowed(name, ctx.apiType)) throw new CanisterTrap(wrongMode(`ic0_${name}`, apiTypeDisplay[ctx.apiType]));
    return ctx;
  }

  #size(v: number | bigint): I {
    return this.#wide ? BigInt(v) : Number(v);
  }

  #heap(): Uint8Array {
    return new Uint8Array(this.#memory!.buffer);
  }

  /** Reads heap bytes; `what` names the slice in the replica's text (`valid_subslice`). */
  #read(what: string, src: I, size: I): Uint8Array {
    const heap = this.#heap();
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
   */
  #copyOut(fn: string, what: string, data: Uint8Array, dst: I, offset: I, size: I): void {
    const heap = this.#heap();
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
  }

  /**
   * `ic0.cost_sign_with_ecdsa` / `cost_sign_with_schnorr` / `cost_vetkd_derive_key` (spec §"Cycle
   * cost calculation"): 0 and the fee written to dst (128-bit LE); 1 for an unknown curve or
   * algorithm code; 2 for a key name no subnet holds (dst untouched).
   * @param prefixes key-id display prefix per curve/algorithm code
   */
  #costThreshold(
    name: 'cost_sign_with_ecdsa' | 'cost_sign_with_schnorr' | 'cost_vetkd_derive_key',
    method: 'sign_with_ecdsa' | 'sign_with_schnorr' | 'vetkd_derive_key',
    prefixes: readonly string[],
    src: I,
    size: I,
    code: number,
    dst: I,
  ): number {
    const ctx = this.#c(name);
    const bytes = this.#read(`ic0.${name}`, src, size);
    const prefix = prefixes[code >>> 0];
    if (prefix === undefined) return 1;
    let keyName: string;
    try {
      keyName = strictDecoder.decode(bytes);
    } catch {
      return 2;
    }
    const fee = ctx.thresholdFee(method, `${prefix}:${keyName}`);
    if (fee === undefined) return 2;
    this.#write128(`ic0_${name}`, dst, fee);
    return 0;
  }

  #write128(name: string, dst: I, v: bigint): void {
    const heap = this.#heap();
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
  }

  /** The balance as the canister currently sees it (start balance adjusted by this execution). */
  #balance(ctx: ExecutionContext): bigint {
    const ch = ctx.changes;
    let sent = 0n;
    for (const c of ch.calls) sent += c.cycles;
    if (this.#pending) sent += this.#pending.cycles;
    return ctx.balance + ch.cyclesAccepted - ch.cyclesBurned - sent;
  }

  #responded(ctx: ExecutionContext): boolean {
    return ctx.responded || ctx.changes.response !== undefined;
  }

  // ---- the import table -------------------------------------------------------------------

  /**
   * The `ic0` import object for a module importing `names`.
   * @throws Error for a name this replica does not offer (module validation rejects those first).
   */
  imports(names: Iterable<string>): Record<string, (...args: never[]) => unknown> {
    const all = this.#table();
    const out: Record<string, (...args: never[]) => unknown> = {};
    for (const name of names) {
      const f = all[name];
      if (!f) throw new Error(`ic0.${name} is not offered by this replica`);
      out[name] = f as (...args: never[]) => unknown;
    }
    return out;
  }

  #table(): Record<string, (...args: any[]) => unknown> {
    return {
      // -- message data ------------------------------------------------------------------
      msg_arg_data_size: () => this.#size(this.#c('msg_arg_data_size').arg.length),
      msg_arg_data_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_arg_data_copy', 'payload', this.#c('msg_arg_data_copy').arg, dst, off, size),
      msg_caller_size: () => this.#size(this.#c('msg_caller_size').caller.toUint8Array().length),
      msg_caller_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_caller_copy', 'id', this.#c('msg_caller_copy').caller.toUint8Array(), dst, off, size),
      msg_caller_info_data_size: () => (this.#c('msg_caller_info_data_size'), this.#size(0)),
      msg_caller_info_data_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_caller_info_data_copy', 'data', (this.#c('msg_caller_info_data_copy'), new Uint8Array()), dst, off, size),
      msg_caller_info_signer_size: () => (this.#c('msg_caller_info_signer_size'), this.#size(0)),
      msg_caller_info_signer_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_caller_info_signer_copy', 'signer', (this.#c('msg_caller_info_signer_copy'), new Uint8Array()), dst, off, size),
      msg_reject_code: () => this.#c('msg_reject_code').rejectCode,
      msg_reject_msg_size: () => this.#size(Buffer.byteLength(this.#c('msg_reject_msg_size').rejectMessage)),
      msg_reject_msg_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_reject_msg_copy', 'msg', Buffer.from(this.#c('msg_reject_msg_copy').rejectMessage), dst, off, size),
      msg_deadline: () => this.#c('msg_deadline').deadlineNanos,
      msg_method_name_size: () => this.#size(Buffer.byteLength(this.#c('msg_method_name_size').methodName)),
      msg_method_name_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.msg_method_name_copy', 'payload', Buffer.from(this.#c('msg_method_name_copy').methodName), dst, off, size),
      accept_message: () => {
        const ctx = this.#c('accept_message');
        if (ctx.changes.messageAccepted) throw new CanisterTrap(toolchainViolation('ic0.accept_message: the function was already called.'));
        ctx.changes.messageAccepted = true;
      },

      // -- responding ----------------------------------------------------------------------
      msg_reply_data_append: (src: I, size: I) => {
        const ctx = this.#c('msg_reply_data_append');
        if (this.#responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reply_data_append: the call is already replied.'));
        const data = this.#read('msg.reply', src, size);
        if (this.#replySize + data.length > this.#maxReply(ctx)) {
          throw new CanisterTrap(
            userViolation(
              `ic0.msg_reply_data_append: application payload size (${this.#replySize + data.length}) cannot be larger than ${this.#maxReply(ctx)}.`,
              'Consider checking the response size and returning an error if it is too long.',
              'msg_reply_data_append-payload-too-large',
            ),
          );
        }
        this.#reply.push(data);
        this.#replySize += data.length;
      },
      msg_reply: () => {
        const ctx = this.#c('msg_reply');
        if (this.#responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reply: the call is already replied'));
        ctx.changes.response = { kind: 'reply', data: new Uint8Array(Buffer.concat(this.#reply)) };
        this.#reply = [];
      },
      msg_reject: (src: I, size: I) => {
        const ctx = this.#c('msg_reject');
        if (this.#responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reject: the call is already replied'));
        const bytes = this.#read('ic0.msg_reject', src, size);
        if (bytes.length > this.#maxReply(ctx)) {
          throw new CanisterTrap(
            userViolation(
              `ic0.msg_reject: application payload size (${bytes.length}) cannot be larger than ${this.#maxReply(ctx)}.`,
              'Try truncating the error messages that are too long.',
              'msg_reject-payload-too-large',
            ),
          );
        }
        let message: string;
        try {
          message = strictDecoder.decode(bytes);
        } catch {
          throw new CanisterTrap(toolchainViolation('ic0.msg_reject: invalid UTF-8 string provided'));
        }
        ctx.changes.response = { kind: 'reject', message };
      },

      // -- cycles --------------------------------------------------------------------------
      msg_cycles_available128: (dst: I) => {
        const ctx = this.#c('msg_cycles_available128');
        this.#write128('ic0_msg_cycles_available128', dst, ctx.cyclesAvailable - ctx.changes.cyclesAccepted);
      },
      msg_cycles_refunded128: (dst: I) =>
        this.#write128('ic0_msg_cycles_refunded128', dst, this.#c('msg_cycles_refunded128').cyclesRefunded),
      msg_cycles_accept128: (high: bigint, low: bigint, dst: I) => {
        const ctx = this.#c('msg_cycles_accept128');
        const max = (u(high) << 64n) | u(low);
        const left = ctx.cyclesAvailable - ctx.changes.cyclesAccepted;
        const amount = max < left ? max : left;
        ctx.changes.cyclesAccepted += amount;
        this.#write128('ic0_msg_cycles_accept128', dst, amount);
      },
      cycles_burn128: (high: bigint, low: bigint, dst: I) => {
        const ctx = this.#c('cycles_burn128');
        const want = (u(high) << 64n) | u(low);
        const liquid = this.#balance(ctx) - ctx.frozenReserveCycles;
        const amount = want < liquid ? want : liquid > 0n ? liquid : 0n;
        ctx.changes.cyclesBurned += amount;
        this.#write128('ic0_cycles_burn128', dst, amount);
      },
      canister_cycle_balance128: (dst: I) =>
        this.#write128('ic0_canister_cycle_balance128', dst, this.#balance(this.#c('canister_cycle_balance128'))),
      canister_liquid_cycle_balance128: (dst: I) => {
        const ctx = this.#c('canister_liquid_cycle_balance128');
        const liquid = this.#balance(ctx) - ctx.frozenReserveCycles;
        this.#write128('ic0_canister_liquid_cycle_balance128', dst, liquid > 0n ? liquid : 0n);
      },

      // -- canister and subnet --------------------------------------------------------------
      canister_self_size: () => this.#size(this.#c('canister_self_size').canisterId.toUint8Array().length),
      canister_self_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.canister_self_copy', 'id', this.#c('canister_self_copy').canisterId.toUint8Array(), dst, off, size),
      canister_status: () => this.#c('canister_status').status,
      canister_version: () => this.#c('canister_version').version,
      subnet_self_size: () => this.#size(this.#c('subnet_self_size').subnetId.toUint8Array().length),
      subnet_self_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.subnet_self_copy', 'id', this.#c('subnet_self_copy').subnetId.toUint8Array(), dst, off, size),
      is_controller: (src: I, size: I) => {
        const ctx = this.#c('is_controller');
        const bytes = this.#read('ic0.is_controller', src, size);
        if (bytes.length > 29) throw new CanisterTrap(invalidPrincipal());
        const p = Principal.fromUint8Array(bytes);
        return ctx.controllers.some((c) => c.compareTo(p) === 'eq') ? 1 : 0;
      },
      in_replicated_execution: () => (isReplicated(this.#c('in_replicated_execution').apiType) ? 1 : 0),
      time: () => this.#c('time').timeNanos,
      performance_counter: (type: number) => {
        this.#c('performance_counter');
        if (type !== 0 && type !== 1) {
          throw new CanisterTrap(toolchainViolation(`Error getting performance counter type ${type}`));
        }
        // Instructions are not metered yet (see cycles/): the counters stay at 0.
        return 0n;
      },
      root_key_size: () => this.#size(this.#c('root_key_size').rootKeyDer.length),
      root_key_copy: (dst: I, off: I, size: I) =>
        this.#copyOut('ic0.root_key_copy', 'bytes', this.#c('root_key_copy').rootKeyDer, dst, off, size),
      env_var_count: () => this.#size(this.#c('env_var_count').environmentVariables.length),
      env_var_name_size: (i: I) => this.#size(Buffer.byteLength(this.#envVar('env_var_name_size', i).name)),
      env_var_name_copy: (i: I, dst: I, off: I, size: I) =>
        this.#copyOut('ic0.env_var_name_copy', 'name', Buffer.from(this.#envVar('env_var_name_copy', i).name), dst, off, size),
      env_var_name_exists: (src: I, size: I) => {
        const ctx = this.#c('env_var_name_exists');
        const name = decoder.decode(this.#read('ic0.env_var_name_exists', src, size));
        return ctx.environmentVariables.some((v) => v.name === name) ? 1 : 0;
      },
      env_var_value_size: (src: I, size: I) => this.#size(Buffer.byteLength(this.#envValue('env_var_value_size', src, size))),
      env_var_value_copy: (src: I, size: I, dst: I, off: I, len: I) =>
        this.#copyOut('ic0.env_var_value_copy', 'value', Buffer.from(this.#envValue('env_var_value_copy', src, size)), dst, off, len),

      // -- inter-canister calls ------------------------------------------------------------
      call_new: (cs: I, cn: I, ms: I, mn: I, rf: I, re: I, jf: I, je: I) => {
        this.#c('call_new');
        const callee = this.#read('ic0.call_new callee_src', cs, cn);
        if (callee.length > 29) throw new CanisterTrap(invalidPrincipal());
        const method = decoder.decode(this.#read('ic0.call_new method_name', ms, mn));
        this.#pending = {
          callee: Principal.fromUint8Array(callee),
          method,
          arg: new Uint8Array(),
          cycles: 0n,
          onReply: { fn: u(rf), env: u(re) },
          onReject: { fn: u(jf), env: u(je) },
        };
        this.#pendingArg = [];
      },
      call_on_cleanup: (fn: I, env: I) => {
        this.#c('call_on_cleanup');
        const p = this.#needPending('ic0.call_on_cleanup');
        if (p.onCleanup) {
          throw new CanisterTrap(toolchainViolation('ic0.call_on_cleanup can be called at most once between `ic0.call_new` and `ic0.call_perform`'));
        }
        p.onCleanup = { fn: u(fn), env: u(env) };
      },
      call_data_append: (src: I, size: I) => {
        this.#c('call_data_append');
        this.#needPending('ic0.call_data_append');
        this.#pendingArg.push(this.#read('ic0.call_data_append', src, size));
      },
      call_with_best_effort_response: (timeout: number) => {
        this.#c('call_with_best_effort_response');
        const p = this.#needPending('ic0.call_with_best_effort_response');
        if (p.timeoutSeconds !== undefined) {
          throw new CanisterTrap(toolchainViolation('ic0_call_with_best_effort_response failed because a timeout is already set.'));
        }
        p.timeoutSeconds = Math.min(Math.max(timeout >>> 0, 1), 300);
      },
      call_cycles_add128: (high: bigint, low: bigint) => {
        const ctx = this.#c('call_cycles_add128');
        const p = this.#needPending('ic0_call_cycles_add128');
        const amount = (u(high) << 64n) | u(low);
        const available = this.#balance(ctx) - ctx.frozenReserveCycles;
        if (amount > available) throw new CanisterTrap(outOfCyclesForTransfer(ctx.canisterId));
        p.cycles += amount;
      },
      call_perform: () => {
        const ctx = this.#c('call_perform');
        const p = this.#needPending('ic0.call_perform');
        p.arg = new Uint8Array(Buffer.concat(this.#pendingArg));
        this.#pending = null;
        this.#pendingArg = [];
        if (p.arg.length > MAX_PAYLOAD_BYTES) {
          throw new CanisterTrap(
            userViolation(
              `Request to ${p.callee.toText()}:${p.method} has a payload size of ${p.arg.length}, which exceeds the allowed limit of ${MAX_PAYLOAD_BYTES}.`,
              'Check the canister for errors or redesign the target API to allow shorter messages',
              'canister-made-a-call-with-too-large-payload',
            ),
          );
        }
        ctx.changes.calls.push(p);
        return 0;
      },

      // -- stable memory ---------------------------------------------------------------------
      stable64_size: () => (this.#c('stable64_size'), this.stable.sizePages),
      stable64_grow: (pages: bigint) => (this.#c('stable64_grow'), this.stable.grow(u(pages))),
      stable64_read: (dst: bigint, offset: bigint, size: bigint) => {
        this.#c('stable64_read');
        if (!this.stable.inBounds(u(offset), u(size))) throw new CanisterTrap(trapped('stable memory out of bounds'));
        const heap = this.#heap();
        if (n(dst) + n(size) > heap.length) throw new CanisterTrap(trapped('heap out of bounds'));
        this.stable.readInto(heap, n(dst), u(offset), n(size));
      },
      stable64_write: (offset: bigint, src: bigint, size: bigint) => {
        this.#c('stable64_write');
        if (!this.stable.inBounds(u(offset), u(size))) throw new CanisterTrap(trapped('stable memory out of bounds'));
        const heap = this.#heap();
        if (n(src) + n(size) > heap.length) throw new CanisterTrap(trapped('heap out of bounds'));
        this.stable.write(u(offset), heap.subarray(n(src), n(src) + n(size)));
      },

      // -- certification and timers ----------------------------------------------------------
      certified_data_set: (src: I, size: I) => {
        const ctx = this.#c('certified_data_set');
        if (n(size) > MAX_CERTIFIED_DATA_BYTES) {
          throw new CanisterTrap(
            userViolation(
              `ic0_certified_data_set failed because the passed data must be no larger than ${MAX_CERTIFIED_DATA_BYTES} bytes. Found ${n(size)} bytes.`,
              'Try certifying just the hash of your data instead of the full contents.',
              'certified_data_set-payload-too-large',
            ),
          );
        }
        ctx.changes.certifiedData = this.#read('ic0_certified_data_set', src, size);
      },
      data_certificate_present: () => (this.#c('data_certificate_present').dataCertificate ? 1 : 0),
      data_certificate_size: () => {
        const ctx = this.#c('data_certificate_size');
        if (!ctx.dataCertificate) throw new CanisterTrap(wrongMode('ic0_data_certificate_size', apiTypeDisplay[ctx.apiType]));
        return this.#size(ctx.dataCertificate.length);
      },
      data_certificate_copy: (dst: I, off: I, size: I) => {
        const ctx = this.#c('data_certificate_copy');
        if (!ctx.dataCertificate) throw new CanisterTrap(wrongMode('ic0_data_certificate_copy', apiTypeDisplay[ctx.apiType]));
        this.#copyOut('ic0.data_certificate_copy', 'certificate', ctx.dataCertificate, dst, off, size);
      },
      global_timer_set: (t: bigint) => {
        const ctx = this.#c('global_timer_set');
        const prev = ctx.changes.globalTimerNanos ?? this.currentTimerNanos;
        ctx.changes.globalTimerNanos = u(t);
        return prev;
      },

      // -- costs -------------------------------------------------------------------------------
      cost_call: (methodNameSize: bigint, payloadSize: bigint, dst: I) => {
        const ctx = this.#c('cost_call');
        this.#write128('ic0_cost_call', dst, callFee(u(methodNameSize), u(payloadSize), ctx.subnetSize));
      },
      cost_create_canister: (dst: I) =>
        this.#write128('ic0_cost_create_canister', dst, canisterCreationFee(this.#c('cost_create_canister').subnetSize)),
      cost_http_request: (requestSize: bigint, maxResponse: bigint, dst: I) =>
        this.#write128('ic0_cost_http_request', dst, httpRequestFee(u(requestSize), u(maxResponse), this.#c('cost_http_request').subnetSize)),

      // -- debugging ---------------------------------------------------------------------------
      cost_sign_with_ecdsa: (src: I, size: I, curve: number, dst: I) =>
        this.#costThreshold('cost_sign_with_ecdsa', 'sign_with_ecdsa', ['ecdsa:Secp256k1'], src, size, curve, dst),
      cost_sign_with_schnorr: (src: I, size: I, algorithm: number, dst: I) =>
        this.#costThreshold('cost_sign_with_schnorr', 'sign_with_schnorr', ['schnorr:Bip340Secp256k1', 'schnorr:Ed25519'], src, size, algorithm, dst),
      cost_vetkd_derive_key: (src: I, size: I, curve: number, dst: I) =>
        this.#costThreshold('cost_vetkd_derive_key', 'vetkd_derive_key', ['vetkd:Bls12_381_G2'], src, size, curve, dst),
      debug_print: (src: I, size: I) => {
        const ctx = this.#c('debug_print');
        const heap = this.#heap();
        const s = Math.min(n(src), heap.length);
        const e = Math.min(s + n(size), heap.length);
        this.#host.debugPrint(ctx.canisterId, decoder.decode(heap.subarray(s, e)), isReplicated(ctx.apiType));
      },
      trap: (src: I, size: I) => {
        this.#c('trap');
        const heap = this.#heap();
        const s = Math.min(n(src), heap.length);
        const e = Math.min(s + n(size), heap.length);
        throw new CanisterTrap(calledTrap(decoder.decode(heap.subarray(s, e))));
      },
    };
  }

  #pendingArg: Uint8Array[] = [];

  /** Largest reply: 2 MiB, 3 MiB in (composite) non-replicated queries (system_api.rs). */
  #maxReply(ctx: ExecutionContext): number {
    return ctx.apiType === 'non_replicated_query' || ctx.apiType === 'composite_query' ? 3 * 1024 * 1024 : MAX_PAYLOAD_BYTES;
  }

  /** The global timer as stored before this execution (set by the executor). */
  currentTimerNanos = 0n;

  #needPending(name: string): OutgoingCall {
    if (!this.#pending) {
      throw new CanisterTrap(toolchainViolation(`${name} called when no call is under construction.`));
    }
    return this.#pending;
  }

  #envVar(name: string, i: I): { name: string; value: string } {
    const ctx = this.#c(name);
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

  #envValue(name: string, src: I, size: I): string {
    const ctx = this.#c(name);
    const key = decoder.decode(this.#read(`ic0.${name}`, src, size));
    const v = ctx.environmentVariables.find((e) => e.name === key);
    if (!v) throw new CanisterTrap({ code: ErrorCode.CanisterContractViolation, text: `Environment variable ${key} not found.`, help: '' });
    return v.value;
  }
}
