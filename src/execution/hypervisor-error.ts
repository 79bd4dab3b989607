/**
 * Errors from running canister code (the replica's `HypervisorError`, rs/interfaces
 * execution_environment/errors.rs) and how they reach users: `Error from Canister <id>: <text>.`
 * followed by the error's help line (`\n<suggestion> See documentation: <link>`). A trap during
 * execution is thrown as a {@link CanisterTrap} from inside the System API or caught from V8 as a
 * `WebAssembly.RuntimeError`, and turned into an `IcError` with the replica's code and text.
 */
import type { Principal } from '@icp-sdk/core/principal';
import { ErrorCode, IcError } from '../types/ic-error.ts';


const DOCS = 'https://internetcomputer.org/docs/current/references/execution-errors';

/** A hypervisor error: the replica's code, its Display text, and its help line. */
export interface HypervisorErrorInfo {
  code: ErrorCode;
  /** The error's Display text (without "Error from Canister ..."). */
  text: string;
  /** `<suggestion> See documentation: <link>`, or '' when the replica gives none. */
  help: string;
}

const help = (suggestion: string, anchor: string): string => `${suggestion} See documentation: ${DOCS}#${anchor}`;
const TRAP_HELP = 'Consider gracefully handling failures from this canister or altering the canister to handle exceptions.';

/** Thrown inside an execution to stop it; carries the hypervisor error it stands for. */
export class CanisterTrap extends Error {
  readonly info: HypervisorErrorInfo;
  constructor(info: HypervisorErrorInfo) {
    super(info.text);
    this.info = info;
  }
}

/** `ic0.trap` (IC0503, `CalledTrap`). `message` is the canister's text (lossy UTF-8). */
export function calledTrap(message: string): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterCalledTrap,
    text: `Canister called \`ic0.trap\` with message: '${message}'`,
    help: help(TRAP_HELP, 'trapped-explicitly'),
  };
}

/**
 * A Wasm trap (IC0502, `Trapped`), e.g. `heap out of bounds`, `stable memory out of bounds`,
 * `unreachable`, `integer division by 0`, `stack overflow` (the replica's `TrapCode` Display).
 */
export function trapped(trapCode: string): HypervisorErrorInfo {
  return { code: ErrorCode.CanisterTrapped, text: `Canister trapped: ${trapCode}`, help: help(TRAP_HELP, 'trapped') };
}

/** The replica's help line for errors a toolchain (compiler/CDK) causes (`ErrorHelp::ToolchainError`). */
export const TOOLCHAIN_HELP =
  'If you are running this canister in a test environment (e.g., dfx), make sure the test environment is up to date. ' +
  'Otherwise, this is likely an error with the compiler/CDK toolchain being used to build the canister. Please report the ' +
  'error to IC devs on the forum: https://forum.dfinity.org and include which language/CDK was used to create the canister.';

/**
 * A System API contract violation a toolchain would cause (IC0504, `ToolchainContractViolation`),
 * e.g. `ic0.msg_reply: the call is already replied`.
 */
export function toolchainViolation(error: string): HypervisorErrorInfo {
  return { code: ErrorCode.CanisterContractViolation, text: `Canister violated contract: ${error}`, help: TOOLCHAIN_HELP };
}

/** A contract violation by the canister's own code (IC0504, `UserContractViolation`), with its help line. */
export function userViolation(error: string, suggestion: string, anchor: string): HypervisorErrorInfo {
  return { code: ErrorCode.CanisterContractViolation, text: `Canister violated contract: ${error}`, help: help(suggestion, anchor) };
}

/** An ic0 function called in a context that does not allow it (system_api.rs `error_for`). */
export function wrongMode(functionName: string, mode: string): HypervisorErrorInfo {
  return userViolation(
    `"${functionName}" cannot be executed in ${mode} mode`,
    'Check the ICP documentation to make sure APIs are being called in the correct message types.',
    'calling-a-system-api-from-the-wrong-mode',
  );
}

/** Not enough liquid cycles for `call_cycles_add128` (IC0504, `InsufficientCyclesBalance`, no help). */
export function outOfCyclesForTransfer(canisterId: Principal): HypervisorErrorInfo {
  return { code: ErrorCode.CanisterContractViolation, text: `Canister ${canisterId.toText()} is out of cycles`, help: '' };
}

/** `accept_message` was not called in canister_inspect_message (IC0406, `MessageRejected`). */
export function messageRejected(): HypervisorErrorInfo {
  return { code: ErrorCode.CanisterRejectedMessage, text: 'Canister rejected the message', help: '' };
}

/** The called method is not exported (IC0536, `MethodNotFound`). `kind` is `update` or `query`. */
export function methodNotFound(kind: 'update' | 'query' | 'composite_query', name: string): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterMethodNotFound,
    text: `Canister has no ${kind} method '${name}'.`,
    help: help('Check that the method being called is exported by the target canister.', 'method-not-found'),
  };
}

/** The canister has no module (IC0537, `WasmModuleNotFound`). */
export function wasmModuleNotFound(): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterWasmModuleNotFound,
    text: 'Attempted to execute a message, but the canister contains no Wasm module.',
    help: help('Please install code to this canister before calling it.', 'wasm-module-not-found'),
  };
}

/**
 * An update, init or post_upgrade grew the Wasm memory past the canister's `wasm_memory_limit`
 * (IC0539, the replica's `WasmMemoryLimitExceeded` and its help).
 * @param limit the setting, bytes. @param peak the memory size the execution reached, bytes.
 */
export function wasmMemoryLimitExceeded(limit: bigint, peak: bigint): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterWasmMemoryLimitExceeded,
    text:
      `Canister exceeded its current Wasm memory limit of ${limit} bytes. The peak Wasm memory usage was ${peak} bytes. ` +
      'If the canister reaches 4GiB, then it may stop functioning and may become unrecoverable. ' +
      'Please reach out to the canister owner to investigate the reason for the increased memory usage. ' +
      'It might be necessary to move data from the Wasm memory to the stable memory. ' +
      'If such high Wasm memory usage is expected and safe, then the developer can increase the Wasm memory limit in the canister settings.',
    help: help(
      'Try checking the canister for a possible memory leak or modifying it to use more stable memory instead of Wasm memory.',
      'wasm-memory-limit-exceeded',
    ),
  };
}

/** A callback table index that names no function (IC0513, `FunctionNotFound`). */
export function functionNotFound(tableIndex: bigint): HypervisorErrorInfo {
  return {
    code: ErrorCode.CanisterFunctionNotFound,
    text: `Canister requested to invoke a non-existent Wasm function ${tableIndex} from table 0`,
    help: TOOLCHAIN_HELP,
  };
}

/**
 * Maps an exception thrown while running canister code to a hypervisor error: our own traps,
 * V8's Wasm traps (`WebAssembly.RuntimeError` messages), and stack exhaustion.
 * @throws the original error if it is neither (a host bug).
 */
export function hypervisorErrorOf(e: unknown): HypervisorErrorInfo {
  if (e instanceof CanisterTrap) return e.info;
  if (e instanceof WebAssembly.RuntimeError) {
    const m = e.message;
    if (m.includes('unreachable')) return trapped('unreachable');
    if (m.includes('memory access out of bounds')) return trapped('heap out of bounds');
    if (m.includes('divide by zero') || m.includes('remainder by zero')) return trapped('integer division by 0');
    if (m.includes('table index is out of bounds') || m.includes('table access')) return trapped('table out of bounds');
    if (m.includes('signature mismatch')) return toolchainViolation('function invocation does not match its signature');
    // wasmtime's other trap codes (overflow, bad conversion, null call) all show as `unknown`.
    return trapped('unknown');
  }
  if (e instanceof RangeError && /call stack/i.test(e.message)) return trapped('stack overflow');
  // The host could not allocate what the canister asked for: the replica reports it as out of memory.
  if (e instanceof RangeError && /allocation failed|Invalid typed array length|Array buffer/i.test(e.message)) {
    return { code: ErrorCode.CanisterOutOfMemory, text: 'Canister cannot grow its memory usage.', help: '' };
  }
  throw e;
}

/**
 * The user-facing error for a hypervisor error in canister `canisterId` (errors.rs
 * `into_user_error`): `Error from Canister <id>: <text>` and, only when there is help,
 * `.\n<help>` (so a text ending in `.` shows `..`).
 */
export function userErrorOf(canisterId: Principal, info: HypervisorErrorInfo): IcError {
  const tail = info.help ? `.\n${info.help}` : '';
  return new IcError(info.code, `Error from Canister ${canisterId.toText()}: ${info.text}${tail}`);
}
