/**
 * The replica's error model: reject codes (interface spec §"Reject codes") and the replica's
 * `ErrorCode` numbers (dfinity/ic `rs/types/error_types/src/lib.rs`), whose leading digit is the
 * reject code (IC0503 → reject code 5). One `IcError` class carries both plus the replica's exact
 * message text; host bugs stay plain `Error`s. Only `http/` turns errors into HTTP responses.
 */

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
   * @param code the replica's ErrorCode (e.g. `ErrorCode.CanisterNotFound`).
   * @param message the replica's text, without the `IC0xxx: ` prefix.
   * @param rejectCode reject code on the wire; defaults to the code's hundreds digit.
   */
  /**
   * True for rejects a calling canister sees without the `IC0xxx: ` prefix (the replica builds
   * them as a plain reject context, e.g. routing failures and threshold-signature rejects),
   * false for those it sees as `UserError` Display (`IC0xxx: <text>`).
   */
  readonly bareToCanisters: boolean;

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
