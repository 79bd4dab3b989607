/**
 * The replica's cycles fee table for a 13-node (reference-size) subnet and its scaling to other
 * subnet sizes (dfinity/ic rs/config/src/subnet_config.rs `CyclesAccountManagerConfig`,
 * rs/cycles_account_manager `scale_cost`: fee × subnet_size / 13, integer division; portal
 * "cycles-cost-formulas"). Pure bigint arithmetic; all amounts are cycles.
 */
import type { ThresholdMethod } from '../types/threshold-method.ts';

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

/**
 * Scales a reference fee to a subnet of `subnetSize` nodes: ⌊fee × size / 13⌋.
 * @param fee cycles at 13 nodes. @param subnetSize number of nodes (≥ 1).
 */
export function scaleFee(fee: bigint, subnetSize: number): bigint {
  return (fee * BigInt(subnetSize)) / REFERENCE_SUBNET_SIZE;
}

/** `create_canister`'s fee on a subnet of `subnetSize` nodes (500B at 13 nodes). */
export function canisterCreationFee(subnetSize: number): bigint {
  return scaleFee(FEES_AT_13_NODES.canisterCreation, subnetSize);
}

/**
 * What an inter-canister call costs its caller (`ic0.cost_call`): the xnet call fee plus the
 * per-byte fee for the method name and payload, scaled by the caller's subnet size.
 * @param methodNameBytes length of the method name. @param payloadBytes length of the argument.
 */
export function callFee(methodNameBytes: bigint, payloadBytes: bigint, subnetSize: number): bigint {
  return scaleFee(FEES_AT_13_NODES.xnetCall + FEES_AT_13_NODES.xnetBytePerByte * (methodNameBytes + payloadBytes), subnetSize);
}

/**
 * An HTTPS outcall's price (`ic0.cost_http_request`, spec §"Cycle cost calculation"):
 * (3M + 60K·n)·n + 400·n·request_size + 800·n·max_response_size, for a subnet of n nodes.
 */
export function httpRequestFee(requestBytes: bigint, maxResponseBytes: bigint, subnetSize: number): bigint {
  const n = BigInt(subnetSize);
  const f = FEES_AT_13_NODES;
  return (
    (f.httpRequestLinearBaseline + f.httpRequestQuadraticBaseline * n) * n +
    f.httpRequestPerByte * n * requestBytes +
    f.httpResponsePerByte * n * maxResponseBytes
  );
}

/**
 * Fee of one chain-key request (`sign_with_ecdsa`, `sign_with_schnorr`, `vetkd_derive_key`),
 * cycles: 10B × size of the key-holding subnet / 13, rounded down (13 nodes → 10_000_000_000,
 * 34 → 26_153_846_153). Free for callers on the NNS subnet (replica: `sign_with_threshold`).
 * @param keySubnetSize nodes of the subnet that holds the key (not the caller's)
 * @param callerOnNns whether the calling canister is on the NNS subnet
 */
export function thresholdRequestFee(method: ThresholdMethod, keySubnetSize: number, callerOnNns: boolean): bigint {
  if (callerOnNns) return 0n;
  const base =
    method === 'sign_with_ecdsa' ? FEES_AT_13_NODES.ecdsaSignature : method === 'sign_with_schnorr' ? FEES_AT_13_NODES.schnorrSignature : FEES_AT_13_NODES.vetkdDeriveKey;
  return scaleFee(base, keySubnetSize);
}
