/**
 * The replica's cycles fee table for a 13-node (reference-size) subnet (dfinity/ic
 * rs/config/src/subnet_config.rs `CyclesAccountManagerConfig::application_subnet`; portal
 * "cycles-cost-formulas"). Scaling to other subnet sizes and the cost schedules are in
 * subnet-costs.ts. All amounts are cycles.
 */

/** The size fees are quoted for (`DEFAULT_REFERENCE_SUBNET_SIZE`). */
export const REFERENCE_SUBNET_SIZE = 13n;

/** Fees at the reference subnet size, cycles. */
export const FEES_AT_13_NODES = {
  canisterCreation: 500_000_000_000n,
  updateMessageExecution: 5_000_000n,
  /** Per instruction executed in an update (×1 cycle/instruction at 13 nodes). */
  perUpdateInstruction: 1n,
  xnetCall: 260_000n,
  xnetBytePerByte: 1_000n,
  ingressMessageReception: 1_200_000n,
  ingressBytePerByte: 2_000n,
  /** Per GiB of storage per second. */
  gibStoragePerSecond: 127_000n,
  ecdsaSignature: 10_000_000_000n,
  schnorrSignature: 10_000_000_000n,
  vetkdDeriveKey: 10_000_000_000n,
  httpRequestLinearBaseline: 3_000_000n,
  httpRequestQuadraticBaseline: 60_000n,
  httpRequestPerByte: 400n,
  httpResponsePerByte: 800n,
} as const;
