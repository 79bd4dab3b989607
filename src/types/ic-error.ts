/**
 * The replica's error model: reject codes (interface spec §"Reject codes") and the replica's
 * `ErrorCode` numbers (dfinity/ic `rs/types/error_types/src/lib.rs`), whose leading digit is the
 * reject code (IC0503 → reject code 5). One `IcError` class carries both plus the replica's exact
 * message text; host bugs stay plain `Error`s. Only `http/` turns errors into HTTP responses.
 * The rejects the replica builds around canister code (routing, canister status, responses) have
 * named constructors at the end; the management canister's are in management/errors.ts and the
 * hypervisor's (traps, contract violations) in execution/hypervisor-error.ts.
 */
import type { Principal } from '@icp-sdk/core/principal';

/** Reject codes 1–6 as on the wire (interface spec §"Reject codes"). */
export const RejectCode = {
  SYS_FATAL: 1,
  SYS_TRANSIENT: 2,
  DESTINATION_INVALID: 3,
  CANISTER_REJECT: 4,
  CANISTER_ERROR: 5,
  SYS_UNKNOWN: 6,
} as const;
export type RejectCode = (typeof RejectCode)[keyof typeof RejectCode];

/**
 * The replica's error codes (`ErrorCode` in rs/types/error_types). The number's hundreds digit is
 * the reject code; the wire form is `IC` + 4 digits (`IC0406`).
 */
export const ErrorCode = {
  SubnetOversubscribed: 101,
  MaxNumberOfCanistersReached: 102,
  CanisterQueueFull: 201,
  IngressMessageTimeout: 202,
  CanisterQueueNotEmpty: 203,
  IngressHistoryFull: 204,
  CanisterIdAlreadyExists: 205,
  StopCanisterRequestTimeout: 206,
  CanisterOutOfCycles: 207,
  CertifiedStateUnavailable: 208,
  CanisterInstallCodeRateLimited: 209,
  CanisterHeapDeltaRateLimited: 210,
  CanisterNotFound: 301,
  CanisterSnapshotNotFound: 305,
  InsufficientMemoryAllocation: 402,
  InsufficientCyclesForCreateCanister: 403,
  SubnetNotFound: 404,
  CanisterNotHostedBySubnet: 405,
  CanisterRejectedMessage: 406,
  UnknownManagementMessage: 407,
  InvalidManagementPayload: 408,
  CanisterSnapshotImmutable: 409,
  CanisterTrapped: 502,
  CanisterCalledTrap: 503,
  CanisterContractViolation: 504,
  CanisterInvalidWasm: 505,
  CanisterDidNotReply: 506,
  CanisterOutOfMemory: 507,
  CanisterStopped: 508,
  CanisterStopping: 509,
  CanisterNotStopped: 510,
  CanisterStoppingCancelled: 511,
  CanisterInvalidController: 512,
  CanisterFunctionNotFound: 513,
  CanisterNonEmpty: 514,
  QueryCallGraphLoopDetected: 517,
  InsufficientCyclesInCall: 520,
  CanisterWasmEngineError: 521,
  CanisterInstructionLimitExceeded: 522,
  CanisterMemoryAccessLimitExceeded: 524,
  QueryCallGraphTooDeep: 525,
  QueryCallGraphTotalInstructionLimitExceeded: 526,
  CompositeQueryCalledInReplicatedMode: 527,
  QueryTimeLimitExceeded: 528,
  QueryCallGraphInternal: 529,
  InsufficientCyclesInComputeAllocation: 530,
  InsufficientCyclesInMemoryAllocation: 531,
  InsufficientCyclesInMemoryGrow: 532,
  ReservedCyclesLimitExceededInMemoryAllocation: 533,
  ReservedCyclesLimitExceededInMemoryGrow: 534,
  InsufficientCyclesInMessageMemoryGrow: 535,
  CanisterMethodNotFound: 536,
  CanisterWasmModuleNotFound: 537,
  CanisterAlreadyInstalled: 538,
  CanisterWasmMemoryLimitExceeded: 539,
  ReservedCyclesLimitIsTooLow: 540,
  DeadlineExpired: 601,
  ResponseDropped: 602,
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Wire form of an error code: `IC0406` for 406. */
export function errorCodeText(code: ErrorCode): string {
  return `IC${String(code).padStart(4, '0')}`;
}

/** The reject code an error code maps to: its hundreds digit (`IC0503` → 5). */
export function rejectCodeOf(code: ErrorCode): RejectCode {
  return Math.floor(code / 100) as RejectCode;
}

/**
 * An error the replica would report to a caller: an `ErrorCode` (which fixes the reject code
 * unless `rejectCode` overrides it, as the replica does for chain-key routing errors) and the
 * replica's message text, verbatim.
 */
export class IcError extends Error {
  readonly code: ErrorCode;
  readonly rejectCode: RejectCode;
  /**
   * True for rejects a calling canister sees without the `IC0xxx: ` prefix (the replica builds
   * them as a plain reject context, e.g. routing failures and threshold-signature rejects),
   * false for those it sees as `UserError` Display (`IC0xxx: <text>`).
   */
  readonly bareToCanisters: boolean;

  /**
   * @param code the replica's ErrorCode (e.g. `ErrorCode.CanisterNotFound`).
   * @param message the replica's text, without the `IC0xxx: ` prefix.
   * @param rejectCode reject code on the wire; defaults to the code's hundreds digit.
   * @param options.bareToCanisters see {@link IcError.bareToCanisters}.
   */
  constructor(code: ErrorCode, message: string, rejectCode?: RejectCode, options?: { bareToCanisters?: boolean }) {
    super(message);
    this.name = 'IcError';
    this.code = code;
    this.rejectCode = rejectCode ?? rejectCodeOf(code);
    this.bareToCanisters = options?.bareToCanisters ?? false;
  }

  /** `IC0406` style text of this error's code. */
  get errorCode(): string {
    return errorCodeText(this.code);
  }
}

/** A reject without an error code, as canisters receive it (interface spec §"Reject codes"). */
export interface RejectContext {
  code: RejectCode;
  message: string;
}

// ---- chain-key answers (rs/consensus idkg payload_builder, vetkd): canisters only ------------

/** Reject code 5: a best-effort signing request whose deadline passed before it was answered. */
export function signatureRequestExpired(): RejectContext {
  return { code: RejectCode.CANISTER_ERROR, message: 'Signature request expired' };
}

/** Reject code 4: the request's key left the topology after it was accepted. */
export function invalidKeyIdInSignatureRequest(keyId: string): RejectContext {
  return { code: RejectCode.CANISTER_REJECT, message: `Invalid key_id in signature request: ${keyId}` };
}

/** Reject code 5: signing failed (a host-side failure while combining shares). */
export function thresholdSigningFailed(method: string, detail: string): RejectContext {
  return { code: RejectCode.CANISTER_ERROR, message: `${method} failed: ${detail}` };
}

// ---- rejects built around canister code ---------------------------------------------------------
// Texts from dfinity/ic: the ingress filter and query handler (`Canister <id> not found` / `is
// stopped` / `is stopping`), message routing's reject responses, and the call context manager.
// "Bare" rejects reach calling canisters without the `IC0xxx: ` prefix, as the replica builds them
// as plain reject contexts.

const bare = { bareToCanisters: true } as const;

/** IC0301 (reject code 3): no canister with this id (`Canister <id> not found`, no period). */
export function canisterNotFound(id: Principal): IcError {
  return new IcError(ErrorCode.CanisterNotFound, `Canister ${id.toText()} not found`, undefined, bare);
}

/** IC0508 (reject code 5): a message to a stopped canister. */
export function canisterStopped(id: Principal): IcError {
  return new IcError(ErrorCode.CanisterStopped, `Canister ${id.toText()} is stopped`, undefined, bare);
}

/** IC0509 (reject code 5): a message to a stopping canister. */
export function canisterStopping(id: Principal): IcError {
  return new IcError(ErrorCode.CanisterStopping, `Canister ${id.toText()} is stopping`, undefined, bare);
}

/** IC0508 / IC0509 for a canister that is not running, or undefined when it runs. */
export function canisterNotRunning(id: Principal, status: 'running' | 'stopping' | 'stopped'): IcError | undefined {
  return status === 'stopped' ? canisterStopped(id) : status === 'stopping' ? canisterStopping(id) : undefined;
}

/** IC0537 (ingress filter): a message to a canister without code. */
export function requestedCanisterHasNoWasmModule(): IcError {
  return new IcError(ErrorCode.CanisterWasmModuleNotFound, 'Requested canister has no wasm module');
}

/** IC0406: a query call to `aaaaa-aa` (the management canister has no query methods served here). */
export function managementQueryNotSupported(method: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, `Query call to management canister method ${method} is not supported.`);
}

/** IC0406 (reject code 4): the canister rejected the call with `ic0.msg_reject(message)`. */
export function canisterRejected(message: string): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, message, undefined, bare);
}

/**
 * IC0506 (reject code 5): the call context closed without a response. Users see
 * `Canister <id> did not reply to the call`; calling canisters `No response`.
 */
export function canisterDidNotReply(id: Principal, toCanister = false): IcError {
  return toCanister
    ? new IcError(ErrorCode.CanisterDidNotReply, 'No response', undefined, bare)
    : new IcError(ErrorCode.CanisterDidNotReply, `Canister ${id.toText()} did not reply to the call`);
}

/** IC0406 (reject code 4): open call contexts of a canister that was uninstalled or reinstalled. */
export function canisterUninstalled(): IcError {
  return new IcError(ErrorCode.CanisterRejectedMessage, 'Canister has been uninstalled.', undefined, bare);
}

/**
 * A pending `stop_canister` cancelled by `start_canister`: IC0511 (reject code 5)
 * `Canister <id>'s stop request was cancelled.` for users; reject code 4
 * `Canister <id>'s stop request cancelled` for calling canisters (the replica's two texts).
 */
export function stopRequestCancelled(id: Principal, toCanister = false): IcError {
  return toCanister
    ? new IcError(ErrorCode.CanisterStoppingCancelled, `Canister ${id.toText()}'s stop request cancelled`, RejectCode.CANISTER_REJECT, bare)
    : new IcError(ErrorCode.CanisterStoppingCancelled, `Canister ${id.toText()}'s stop request was cancelled.`);
}

/** IC0601 (reject code 6): a best-effort call's deadline passed before its response. */
export function callDeadlineExpired(): IcError {
  return new IcError(ErrorCode.DeadlineExpired, 'Call deadline has expired.', undefined, bare);
}

/** IC0527: a composite query method called as an update. */
export function compositeQueryCalledInReplicatedMode(): IcError {
  return new IcError(ErrorCode.CompositeQueryCalledInReplicatedMode, 'Composite query cannot be called in replicated mode');
}

// ---- cycles (rs/types CanisterOutOfCyclesError, rs/execution_environment query frozen check) ----

/**
 * IC0207 `CanisterOutOfCycles` (reject code 2): the canister cannot pay `requested` cycles above
 * its freezing threshold. The top-up amount is shown only to a controller (`reveal_top_up`).
 */
export function canisterOutOfCycles(id: Principal, available: bigint, requested: bigint, threshold: bigint, revealTopUp: boolean): IcError {
  const text = revealTopUp
    ? `Canister ${id.toText()} is out of cycles: please top up the canister with at least ${threshold + requested - available} additional cycles`
    : `Canister ${id.toText()} is out of cycles`;
  return new IcError(ErrorCode.CanisterOutOfCycles, text);
}

/** IC0207 for a query to a frozen canister (balance below its freezing threshold). */
export function canisterFrozenForQueries(id: Principal): IcError {
  return new IcError(
    ErrorCode.CanisterOutOfCycles,
    `Canister ${id.toText()} is unable to process query calls because it's frozen. Please top up the canister with cycles and try again.`,
  );
}
