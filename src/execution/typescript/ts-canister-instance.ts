/**
 * A running TypeScript canister: its own V8 context (ts-module.ts) driven through the same
 * System API a Wasm canister imports. Every effect — reading the argument, replying, rejecting,
 * calls with cycles, accepting cycles, timers, certified data, debug printing — is an `ic0`
 * call on the canister's SystemApi with a small scratch memory as its heap, so the replica's
 * checks, traps, cycles accounting and message routing apply exactly as for Wasm.
 *
 * Executions and state: `callExport` (a method, init, upgrade hooks, the timer) and `callTable`
 * (the reply or reject of an awaited call) each run the canister's code until its handler
 * returns or awaits a call, with the microtask queue drained inside the time limit. The state
 * (`ctx.state`, JSON with bigints and bytes) is then saved into stable memory through
 * `ic0.stable64_write`, so it commits with the execution, rolls back with a trap or a query,
 * survives upgrades and is checkpointed with the round. A thrown error is a trap
 * (`ic0.trap` with its message); a handler that runs past the time limit is cut off.
 *
 * Limits: the continuations of awaited calls live in the context's memory and are lost on a
 * restart (their responses then trap with a clear message, as no Wasm table entry would exist).
 * The scratch heap is not canister state and is never checkpointed.
 */
import { IDL } from '@icp-sdk/core/candid';
import { Principal } from '@icp-sdk/core/principal';
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha224, sha256 } from '@noble/hashes/sha2.js';
import { crc32 } from 'node:zlib';
import vm from 'node:vm';
import { candidInterfaceFromText } from '../../candid/candid-text.ts';
import { isManagementMethod, managementMethods } from '../../management/ic-did.ts';
import { calledTrap, CanisterTrap, type HypervisorErrorInfo } from '../hypervisor-error.ts';
import { instructionLimitExceeded } from '../instruction-meter.ts';
import type { SystemApi } from '../system-api/system-api.ts';
import { SUPPORTED_IC0 } from '../system-api/ic0-table.ts';
import type { InstanceSnapshot } from '../wasm/canister-instance.ts';
import { valuesFromCanister, valuesToCanister } from './candid-values.ts';
import { evaluateInContext, newCanisterContext, type TsCanisterModule } from './ts-module.ts';

const PAGE = 65_536;
/** What canister code sees when a host operation trapped: the execution is over whatever it does. */
const TRAPPED = 'chainkey-replica: the canister trapped';
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

type Ic0 = Record<string, (...args: any[]) => any>;

/** One TypeScript canister's live code and context. */
export class TsCanisterInstance {
  readonly module: TsCanisterModule;
  readonly api: SystemApi;
  readonly #ic0: Ic0;
  readonly #heap: WebAssembly.Memory;
  readonly #context: vm.Context;
  #trap: HypervisorErrorInfo | null = null;
  /** Return types of each awaited call, by call number. */
  readonly #calls = new Map<number, readonly IDL.Type[]>();
  readonly #candidCache = new Map<string, IDL.ServiceClass>();
  /**
   * `committed` / `rolledBack` not yet told to the runtime: they run at the start of the next
   * execution, inside its evaluation, instead of in evaluations of their own. Each guarded
   * evaluation costs a watchdog thread (0.2–1 ms on a loaded 2-core machine, most of a trivial
   * message's cost), and nothing of the canister runs in between, so the order is the same.
   */
  #pending: ('committed' | 'rolledBack')[] = [];
  static readonly #dispatch = new vm.Script(
    '(() => { const c = JSON.parse(globalThis.__ckrCall); const r = __ckr.runtime; for (const p of c.pre) r[p](); return r[c.op](...c.args); })()',
  );

  /**
   * Creates the canister's context, installs the runtime and evaluates the module.
   * @throws Error if the module fails to evaluate (it was checked at install, so only on a host bug)
   */
  constructor(module: TsCanisterModule, api: SystemApi) {
    this.module = module;
    this.api = api;
    this.#heap = new WebAssembly.Memory({ initial: 1 });
    api.attachMemory(this.#heap);
    this.#ic0 = api.imports(SUPPORTED_IC0) as Ic0;
    this.#context = newCanisterContext(`canister ${Buffer.from(module.hash).toString('hex').slice(0, 12)}`);
    evaluateInContext(module, this.#context, (op: unknown, ...args: unknown[]) => this.#host(String(op), args), module.timeoutMs);
  }

  // ---- the bridge: primitives in, primitives out -------------------------------------------------

  #host(op: string, args: unknown[]): string | number | bigint | boolean {
    if (this.#trap) throw TRAPPED;
    try {
      return this.#op(op, args);
    } catch (e) {
      if (e === TRAPPED) throw TRAPPED;
      this.#trap = e instanceof CanisterTrap ? e.info : calledTrap(`${op}: ${e instanceof Error ? e.message : String(e)}`);
      throw TRAPPED;
    }
  }

  #op(op: string, a: unknown[]): string | number | bigint | boolean {
    const ic0 = this.#ic0;
    switch (op) {
      case 'caller':
        try {
          return this.#principal(ic0.msg_caller_size!(), (dst, off, size) => ic0.msg_caller_copy!(dst, off, size));
        } catch (e) {
          if (e instanceof CanisterTrap) return ''; // system tasks have no caller
          throw e;
        }
      case 'self':
        return this.#principal(ic0.canister_self_size!(), (dst, off, size) => ic0.canister_self_copy!(dst, off, size));
      case 'time':
        return BigInt(ic0.time!());
      case 'balance':
        return this.#read128((dst) => ic0.canister_cycle_balance128!(dst));
      case 'cyclesAvailable':
        return this.#read128((dst) => ic0.msg_cycles_available128!(dst));
      case 'cyclesRefunded':
        return this.#read128((dst) => ic0.msg_cycles_refunded128!(dst));
      case 'cyclesAccept': {
        const max = BigInt(a[0] as bigint);
        return this.#read128((dst) => ic0.msg_cycles_accept128!(BigInt.asUintN(64, max >> 64n), BigInt.asUintN(64, max), dst));
      }
      case 'call':
        return this.#call(Number(a[0]), String(a[1]), String(a[2]), String(a[3]), BigInt(a[4] as bigint), String(a[5]));
      case 'reply': {
        const method = this.module.methods.get(String(a[0]));
        if (!method) throw new Error(`no method ${String(a[0])}`);
        const bytes = new Uint8Array(IDL.encode(method.retTypes, valuesFromCanister(method.retTypes, String(a[1]))));
        const p = this.#put(bytes);
        ic0.msg_reply_data_append!(p, bytes.length);
        ic0.msg_reply!();
        return true;
      }
      case 'reject': {
        const bytes = utf8.encode(String(a[0]));
        ic0.msg_reject!(this.#put(bytes), bytes.length);
        return true;
      }
      case 'trap': {
        const bytes = utf8.encode(String(a[0]));
        ic0.trap!(this.#put(bytes), bytes.length);
        return true;
      }
      case 'print': {
        const bytes = utf8.encode(String(a[0]));
        ic0.debug_print!(this.#put(bytes), bytes.length);
        return true;
      }
      case 'setTimer':
        return BigInt(ic0.global_timer_set!(BigInt(a[0] as bigint)));
      case 'certifiedDataSet': {
        const [bytes] = valuesFromCanister([IDL.Vec(IDL.Nat8)], String(a[0])) as [Uint8Array];
        ic0.certified_data_set!(this.#put(bytes), bytes.length);
        return true;
      }
      case 'stateLoad':
        return this.#stateLoad();
      case 'stateSave':
        this.#stateSave(String(a[0]));
        return true;
      case 'sha256':
      case 'ripemd160': {
        const [bytes] = valuesFromCanister([IDL.Vec(IDL.Nat8)], String(a[0])) as [Uint8Array];
        return valuesToCanister([IDL.Vec(IDL.Nat8)], [op === 'sha256' ? sha256(bytes) : ripemd160(bytes)]);
      }
      case 'sha224': {
        const [bytes] = valuesFromCanister([IDL.Vec(IDL.Nat8)], String(a[0])) as [Uint8Array];
        return valuesToCanister([IDL.Vec(IDL.Nat8)], [sha224(bytes)]);
      }
      case 'crc32': {
        const [bytes] = valuesFromCanister([IDL.Vec(IDL.Nat8)], String(a[0])) as [Uint8Array];
        return crc32(bytes);
      }
      case 'principalToBytes':
        return valuesToCanister([IDL.Vec(IDL.Nat8)], [Principal.fromText(String(a[0])).toUint8Array()]);
      case 'principalFromBytes': {
        const [bytes] = valuesFromCanister([IDL.Vec(IDL.Nat8)], String(a[0])) as [Uint8Array];
        return Principal.fromUint8Array(bytes).toText();
      }
      default:
        throw new Error(`unknown operation ${op}`);
    }
  }

  /** Bytes placed at the start of the scratch heap (grown as needed); returns their offset. */
  #put(bytes: Uint8Array, offset = 0): number {
    this.#room(offset + bytes.length);
    new Uint8Array(this.#heap.buffer).set(bytes, offset);
    return offset;
  }

  #take(offset: number, length: number): Uint8Array {
    return new Uint8Array(this.#heap.buffer, offset, length).slice();
  }

  /** Grows the scratch heap to hold `bytes` (plus 16 for a 128-bit result). */
  #room(bytes: number): void {
    if (bytes + 16 > this.#heap.buffer.byteLength) this.#heap.grow(Math.ceil((bytes + 16 - this.#heap.buffer.byteLength) / PAGE));
  }

  #principal(size: number, copy: (dst: number, off: number, size: number) => void): string {
    this.#room(size);
    copy(0, 0, size);
    return Principal.fromUint8Array(this.#take(0, size)).toText();
  }

  #read128(f: (dst: number) => void): bigint {
    f(0);
    const b = this.#take(0, 16);
    let v = 0n;
    for (let i = 15; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
    return v;
  }

  #argData(): Uint8Array {
    const size = this.#ic0.msg_arg_data_size!() as number;
    this.#room(size);
    this.#ic0.msg_arg_data_copy!(0, 0, size);
    return this.#take(0, size);
  }

  #serviceOf(candid: string): IDL.ServiceClass {
    let s = this.#candidCache.get(candid);
    if (!s) {
      s = candidInterfaceFromText(candid).idlFactory({ IDL }) as IDL.ServiceClass;
      this.#candidCache.set(candid, s);
    }
    return s;
  }

  /** `ctx.call`: ic0.call_new with table entries 2k (reply) and 2k+1 (reject), env k. */
  #call(k: number, callee: string, method: string, argsWire: string, cycles: bigint, candid: string): number {
    let argTypes: readonly IDL.Type[];
    let retTypes: readonly IDL.Type[];
    if (callee === 'aaaaa-aa' && isManagementMethod(method)) {
      ({ argTypes, retTypes } = managementMethods[method]);
    } else {
      if (candid === '') throw new Error(`ctx.call('${callee}', '${method}'): pass the callee's Candid service as { candid: 'service : { ... }' }`);
      const func = this.#serviceOf(candid)._fields.find(([n]) => n === method)?.[1];
      if (!func) throw new Error(`ctx.call: the given Candid service has no method '${method}'`);
      ({ argTypes, retTypes } = func);
    }
    const arg = new Uint8Array(IDL.encode([...argTypes], valuesFromCanister(argTypes, argsWire)));
    const calleeBytes = Principal.fromText(callee).toUint8Array();
    const methodBytes = utf8.encode(method);
    const pc = this.#put(calleeBytes, 0);
    const pm = this.#put(methodBytes, calleeBytes.length);
    this.#ic0.call_new!(pc, calleeBytes.length, pm, methodBytes.length, 2 * k, k, 2 * k + 1, k);
    const pa = this.#put(arg, 0);
    this.#ic0.call_data_append!(pa, arg.length);
    if (cycles > 0n) this.#ic0.call_cycles_add128!(BigInt.asUintN(64, cycles >> 64n), BigInt.asUintN(64, cycles));
    const code = this.#ic0.call_perform!() as number;
    if (code === 0) this.#calls.set(k, retTypes);
    return code;
  }

  /** The saved state: stable memory = u64 LE length ‖ JSON; '' when never saved. */
  #stateLoad(): string {
    if (BigInt(this.#ic0.stable64_size!()) === 0n) return '';
    this.#room(8);
    this.#ic0.stable64_read!(0n, 0n, 8n);
    const len = Number(new DataView(this.#heap.buffer).getBigUint64(0, true));
    this.#room(len);
    this.#ic0.stable64_read!(0n, 8n, BigInt(len));
    return utf8Decoder.decode(this.#take(0, len));
  }

  #stateSave(json: string): void {
    const body = utf8.encode(json);
    const total = BigInt(body.length + 8);
    const pages = (total + BigInt(PAGE) - 1n) / BigInt(PAGE);
    const have = BigInt(this.#ic0.stable64_size!());
    if (have < pages && BigInt(this.#ic0.stable64_grow!(pages - have)) === -1n) throw new Error('out of stable memory for the canister state');
    const buf = new Uint8Array(body.length + 8);
    new DataView(buf.buffer).setBigUint64(0, BigInt(body.length), true);
    buf.set(body, 8);
    this.#ic0.stable64_write!(0n, BigInt(this.#put(buf)), BigInt(buf.length));
  }

  // ---- running canister code ----------------------------------------------------------------------

  /** Runs a runtime operation in the context under the time limit. */
  #run(op: string, args: (string | number | boolean)[]): unknown {
    const pre = this.#pending;
    this.#pending = [];
    (this.#context as Record<string, unknown>).__ckrCall = JSON.stringify({ pre, op, args });
    try {
      return TsCanisterInstance.#dispatch.runInContext(this.#context, { timeout: this.module.timeoutMs });
    } catch (e) {
      if (e === TRAPPED || this.#trap) throw new CanisterTrap(this.#trap ?? calledTrap('trapped'));
      if ((e as { code?: string })?.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') throw this.#limitExceeded();
      throw new CanisterTrap(calledTrap(e instanceof Error ? e.message : String(e)));
    }
  }

  /**
   * The time limit stands for the execution's instruction limit (V8 code is not metered): running
   * past it ends the message as running past the limit does for Wasm — IC0522 with the replica's
   * text naming the limit of this kind of message, and the whole limit counted as executed (and
   * charged).
   */
  #limitExceeded(): CanisterTrap {
    const meter = this.api.meter;
    if (meter.limit > meter.executed) meter.chargeAfterwards(meter.limit - meter.executed);
    return new CanisterTrap(instructionLimitExceeded(meter.limitToReport));
  }

  /** Ends an execution: a trap (recorded or thrown by the handler) or the state saved. */
  #end(): void {
    const result = this.#run('end', []);
    if (this.#trap) throw new CanisterTrap(this.#trap);
    if (typeof result === 'string' && result !== '') throw new CanisterTrap(calledTrap(result));
  }

  #decode(types: readonly IDL.Type[], bytes: Uint8Array, what: string): string {
    try {
      return valuesToCanister(types, IDL.decode([...types], bytes));
    } catch (e) {
      throw new CanisterTrap(calledTrap(`failed to decode ${what}: ${(e as Error).message}`));
    }
  }

  /** Whether the canister has this export (`canister_update m`, `canister_init`, ...). */
  hasExport(name: string): boolean {
    const [kind, method] = name.split(' ');
    if (method !== undefined) return kind === 'canister_update' ? this.module.updateMethods.has(method) : kind === 'canister_query' && this.module.queryMethods.has(method);
    return this.module.systemMethods.has(name);
  }

  /** No start function in TypeScript canisters. */
  runStart(): void {}

  /** No start function in TypeScript canisters. */
  runStartSliced(): Promise<void> {
    return Promise.resolve();
  }

  /** {@link callExport} as a promise (TypeScript handlers are not sliced; they have a time limit). */
  callExportSliced(name: string): Promise<void> {
    try {
      this.callExport(name);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** {@link callTable} as a promise. */
  callTableSliced(fn: bigint, env: bigint): Promise<boolean> {
    try {
      return Promise.resolve(this.callTable(fn, env));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Runs a method or system method (see {@link hasExport}) until it returns or awaits. */
  callExport(name: string): void {
    this.#trap = null;
    const [kind, method] = name.split(' ');
    if (method !== undefined) {
      const m = this.module.methods.get(method);
      if (!m) throw new CanisterTrap(calledTrap(`no method ${method}`));
      const args = this.#decode(m.argTypes, this.#argData(), `the arguments of ${method}`);
      this.#run('invoke', [m.kind, method, args, m.retTypes.length]);
    } else if (name === 'canister_init' || name === 'canister_post_upgrade') {
      const args = this.#decode(this.module.initTypes, this.#argData(), 'the init arguments');
      this.#run('invoke', ['system', name === 'canister_init' ? 'init' : 'postUpgrade', args, -1]);
    } else if (name === 'canister_pre_upgrade') {
      this.#run('invoke', ['system', 'preUpgrade', '', -1]);
    } else if (name === 'canister_global_timer') {
      this.#run('invoke', ['system', 'timer', '', -1]);
    } else {
      throw new CanisterTrap(calledTrap(`no export ${name}`));
    }
    this.#end();
  }

  /**
   * Resumes the handler awaiting call `env` with its reply (`fn` even) or reject (`fn` odd).
   * @returns true (a missing continuation traps with an explanation)
   */
  callTable(fn: bigint, env: bigint): boolean {
    this.#trap = null;
    const k = Number(env);
    const isReply = fn % 2n === 0n;
    const retTypes = this.#calls.get(k);
    this.#calls.delete(k);
    if (!retTypes) {
      throw new CanisterTrap(calledTrap(`no handler awaits call ${k} (continuations of TypeScript canisters do not survive a restart)`));
    }
    let found: unknown;
    if (isReply) {
      const values = this.#decode(retTypes, this.#argData(), 'the reply');
      found = this.#run('resume', [k, true, values, 0, '']);
    } else {
      const code = this.#ic0.msg_reject_code!() as number;
      const size = this.#ic0.msg_reject_msg_size!() as number;
      this.#room(size);
      this.#ic0.msg_reject_msg_copy!(0, 0, size);
      found = this.#run('resume', [k, false, '', code, utf8Decoder.decode(this.#take(0, size))]);
    }
    if (found !== true) throw new CanisterTrap(calledTrap(`no handler awaits call ${k}`));
    this.#end();
    return true;
  }

  /** Keeps the execution's state (told to the runtime at the next execution's start). */
  commit(): void {
    this.#pending.push('committed');
  }

  /** Restores the state of the last commit (a trap, or the end of a query), at the next execution's start. */
  rollback(): void {
    this.#pending.push('rolledBack');
  }

  /** Size of the scratch heap (TypeScript canisters keep their state in stable memory). */
  get memoryBytes(): number {
    return this.#heap.buffer.byteLength;
  }

  snapshot(): InstanceSnapshot {
    return { memoryBytes: this.#heap.buffer.byteLength, globals: [] };
  }

  /** Nothing to checkpoint beyond stable memory. */
  takeDirtyPages(): { replaceAll: boolean; pages: [number, Uint8Array | undefined][] } {
    return { replaceAll: false, pages: [] };
  }

  load(): void {}

  committedMemory(): { bytes: number; pages: [number, Uint8Array][] } {
    return { bytes: this.#heap.buffer.byteLength, pages: [] };
  }
}
