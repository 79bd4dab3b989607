/**
 * What a subnet charges, formula by formula (dfinity/ic rs/cycles_account_manager
 * cycles_account_manager.rs; constants rs/config subnet_config.rs `CyclesAccountManagerConfig`,
 * gathered in ../shared/reference/cycles.md §1-§3). Every fee is quoted for a 13-node subnet and
 * scaled by `scale_cost` (× size / 13, integer floor); parts are scaled separately, as the replica
 * does.
 *
 * Who pays nothing: a subnet on the `free` cost schedule (PocketIC's
 * `CanisterCyclesCostSchedule::Free`) charges no fee at all — execution, ingress, transmission,
 * storage, compute allocation, canister creation, HTTPS outcalls and chain-key requests (in the
 * replica every one of those use cases has a zero real amount under `Free`; cycles attached to
 * calls, `ic0.cycles_burn128` and a deleted canister's balance still leave the balance). A system
 * (NNS) subnet (`CyclesAccountManagerConfig::system_subnet`) charges none of these either except
 * chain-key requests, which it prices normally (only callers on the NNS subnet are exempt, decided
 * by the caller of {@link SubnetCosts.chainKeyFee}). Pure bigint arithmetic; all amounts are
 * cycles, times in seconds.
 */
import type { ThresholdMethod } from '../types/threshold-method.ts';
import { FEES_AT_13_NODES, REFERENCE_SUBNET_SIZE } from './fee-schedule.ts';

/** `normal` is mainnet's schedule; `free` charges nothing (PocketIC `Free`). */
export type CostSchedule = 'normal' | 'free';

/** Execution mode of a canister's code: wasm64 instructions cost twice as much. */
export type ExecutionMode = 'wasm32' | 'wasm64';

/**
 * Storage fees, at 13 nodes. Mainnet's values are in flux (cycles.md §0): the docs list 127_000
 * per GiB-second and no base fee; ic master has 317_500 and a 10_000 per-second base fee per
 * canister with memory (dfinity/ic PR #10292). Both are configurable.
 */
export interface StorageFees {
  /** `gib_storage_per_second_fee`. */
  gibStoragePerSecond: bigint;
  /** `base_per_second_fee`, charged while the canister uses any memory. */
  basePerSecond: bigint;
}

/** The default storage fees: the developer docs' (Aug 2026) values, no base fee. */
export const DEFAULT_STORAGE_FEES: StorageFees = { gibStoragePerSecond: 127_000n, basePerSecond: 0n };

/** Largest inter-canister payload, bytes: the response-transmission reservation is for this. */
export const MAX_INTER_CANISTER_PAYLOAD_BYTES = 2n * 1024n * 1024n;
/** Per-10-instructions execution fee (`ten_update_instructions_execution_fee`); ×2 for wasm64. */
export const TEN_UPDATE_INSTRUCTIONS_FEE = 10n;
/** `compute_percent_allocated_per_second_fee` at 13 nodes. */
export const COMPUTE_PERCENT_PER_SECOND_FEE = 10_000_000n;
/** Instructions charged per compiled (instrumented) Wasm instruction at install (`DEFAULT_COST_TO_COMPILE_WASM_INSTRUCTION`). */
export const COST_TO_COMPILE_WASM_INSTRUCTION = 6_000n;
/** Storage, compute and base fees are charged at most this often (`duration_between_allocation_charges`), seconds. */
export const SECONDS_BETWEEN_ALLOCATION_CHARGES = 10n;
export const SECONDS_PER_DAY = 86_400n;
const GIB = 1n << 30n;

/** Largest response an HTTPS outcall may ask for (`MAX_CANISTER_HTTP_RESPONSE_BYTES`), bytes: the default `max_response_bytes`. */
export const MAX_HTTP_RESPONSE_BYTES = 2_000_000n;

/** One subnet's prices. */
export class SubnetCosts {
  readonly size: bigint;
  /** Whether the resource fees are charged (false on system subnets and on the free schedule). */
  readonly charging: boolean;
  /** The subnet is on the `free` cost schedule: nothing at all is charged, chain-key fees included. */
  readonly free: boolean;
  readonly storage: StorageFees;

  /**
   * @param size nodes in the subnet.
   * @param schedule the subnet's cost schedule.
   * @param system a system (NNS) subnet: free, as `CyclesAccountManagerConfig::system_subnet`.
   */
  constructor(size: number, schedule: CostSchedule, system: boolean, storage: StorageFees = DEFAULT_STORAGE_FEES) {
    this.size = BigInt(size);
    this.charging = schedule === 'normal' && !system;
    this.free = schedule === 'free';
    this.storage = storage;
  }

  /**
   * Fee of one chain-key request (`sign_with_ecdsa`, `sign_with_schnorr`, `vetkd_derive_key`)
   * served by this subnet, the key-holding one: 10 B × its size / 13, rounded down (13 nodes →
   * 10_000_000_000, 34 → 26_153_846_153); 0 on the free schedule. System subnets price it too
   * (the replica waives it only for callers on the NNS subnet, which the caller of this decides).
   */
  chainKeyFee(method: ThresholdMethod): bigint {
    if (this.free) return 0n;
    const f = FEES_AT_13_NODES;
    const base = method === 'sign_with_ecdsa' ? f.ecdsaSignature : method === 'sign_with_schnorr' ? f.schnorrSignature : f.vetkdDeriveKey;
    return (base * this.size) / REFERENCE_SUBNET_SIZE;
  }

  /**
   * An HTTPS outcall from this subnet (the replica's `http_request_fee`, also `ic0.cost_http_request`):
   * (3 M + 60 K·n + 400·request bytes + 800·max response bytes)·n for n nodes, not `scale_cost`;
   * 0 on system subnets and on the free schedule.
   * @param requestBytes url + header names and values + body + transform method name and context.
   * @param maxResponseBytes the request's `max_response_bytes` (default {@link MAX_HTTP_RESPONSE_BYTES}).
   */
  httpRequestFee(requestBytes: bigint, maxResponseBytes: bigint): bigint {
    if (!this.charging) return 0n;
    const f = FEES_AT_13_NODES;
    const n = this.size;
    return (f.httpRequestLinearBaseline + f.httpRequestQuadraticBaseline * n + f.httpRequestPerByte * requestBytes + f.httpResponsePerByte * maxResponseBytes) * n;
  }

  /** `scale_cost`: ⌊fee × size / 13⌋, or 0 when the subnet charges nothing. */
  scale(fee: bigint): bigint {
    return this.charging ? (fee * this.size) / REFERENCE_SUBNET_SIZE : 0n;
  }

  /** `convert_instructions_to_cycles`, scaled: instructions at 1 (wasm32) or 2 (wasm64) cycles each at 13 nodes. */
  instructionsCost(instructions: bigint, mode: ExecutionMode): bigint {
    const fee10 = mode === 'wasm64' ? 2n * TEN_UPDATE_INSTRUCTIONS_FEE : TEN_UPDATE_INSTRUCTIONS_FEE;
    return this.scale((fee10 * instructions) / 10n);
  }

  /** `execution_cost`: the 5 M base fee and the instructions, scaled together. */
  executionCost(instructions: bigint, mode: ExecutionMode): bigint {
    const fee10 = mode === 'wasm64' ? 2n * TEN_UPDATE_INSTRUCTIONS_FEE : TEN_UPDATE_INSTRUCTIONS_FEE;
    return this.scale(FEES_AT_13_NODES.updateMessageExecution + (fee10 * instructions) / 10n);
  }

  /** What is refunded after an execution prepaid for `limit` used `used`: the unused instructions, at most the prepayment. */
  executionRefund(limit: bigint, used: bigint, mode: ExecutionMode): bigint {
    const unused = limit > used ? limit - used : 0n;
    const refund = this.instructionsCost(unused, mode);
    const prepaid = this.executionCost(limit, mode);
    return refund < prepaid ? refund : prepaid;
  }

  /** Management-canister instructions (e.g. upload_chunk): at the wasm32 rate, no base fee. */
  managementInstructionsCost(instructions: bigint): bigint {
    return this.scale(instructions);
  }

  /** Ingress induction: `ingress_message_reception_fee` + `ingress_byte_reception_fee` × the signed envelope's size. */
  ingressFee(envelopeBytes: bigint): bigint {
    return this.scale(FEES_AT_13_NODES.ingressMessageReception) + this.scale(FEES_AT_13_NODES.ingressBytePerByte) * envelopeBytes;
  }

  /** Transmission of a request: `xnet_call_fee` + `xnet_byte_transmission_fee` × (method name + payload). */
  requestTransmissionFee(methodAndPayloadBytes: bigint): bigint {
    return this.scale(FEES_AT_13_NODES.xnetCall) + this.scale(FEES_AT_13_NODES.xnetBytePerByte * methodAndPayloadBytes);
  }

  /** The response-transmission reservation: the byte fee for the largest response. */
  responseTransmissionReservation(): bigint {
    return this.scale(FEES_AT_13_NODES.xnetBytePerByte * MAX_INTER_CANISTER_PAYLOAD_BYTES);
  }

  /** What is refunded of the response-transmission reservation once a response of `bytes` arrived. */
  responseTransmissionRefund(bytes: bigint): bigint {
    const reserved = this.responseTransmissionReservation();
    const cost = this.scale(FEES_AT_13_NODES.xnetBytePerByte * bytes);
    return cost < reserved ? reserved - cost : 0n;
  }

  /**
   * Everything `call_perform` withdraws besides the attached cycles (and `ic0.cost_call`):
   * transmission, the response-transmission reservation and the response-execution
   * reservation (`execution_cost` of `messageLimit` in the caller's mode).
   */
  callCost(methodAndPayloadBytes: bigint, messageLimit: bigint, mode: ExecutionMode): { transmission: bigint; responseTransmission: bigint; responseExecution: bigint; total: bigint } {
    const transmission = this.requestTransmissionFee(methodAndPayloadBytes);
    const responseTransmission = this.responseTransmissionReservation();
    const responseExecution = this.executionCost(messageLimit, mode);
    return { transmission, responseTransmission, responseExecution, total: transmission + responseTransmission + responseExecution };
  }

  /** Storage of `bytes` for `seconds`: `scale(⌊bytes × fee × s / 2^30⌋)`. */
  memoryCost(bytes: bigint, seconds: bigint): bigint {
    return this.scale((bytes * this.storage.gibStoragePerSecond * seconds) / GIB);
  }

  /** The per-canister base fee for `seconds` (only while the canister uses memory). */
  baseCost(memoryBytes: bigint, seconds: bigint): bigint {
    return memoryBytes > 0n ? this.scale(this.storage.basePerSecond * seconds) : 0n;
  }

  /** Compute allocation of `percent` for `seconds`. */
  computeAllocationCost(percent: bigint, seconds: bigint): bigint {
    return this.scale(COMPUTE_PERCENT_PER_SECOND_FEE * percent * seconds);
  }

  /**
   * `idle_cycles_burned_per_day`: storage (of max(memory allocation, usage)), base fee and
   * compute allocation for a day.
   */
  idleCyclesBurnedPerDay(memoryBytes: bigint, memoryAllocation: bigint, computePercent: bigint): bigint {
    const billed = memoryAllocation > memoryBytes ? memoryAllocation : memoryBytes;
    return this.memoryCost(billed, SECONDS_PER_DAY) + this.baseCost(memoryBytes, SECONDS_PER_DAY) + this.computeAllocationCost(computePercent, SECONDS_PER_DAY);
  }

  /** `freeze_threshold_cycles`: the idle burn rate over the freezing threshold, minus reserved cycles (saturating). */
  freezingThreshold(idlePerDay: bigint, freezingThresholdSeconds: bigint, reservedCycles = 0n): bigint {
    const t = (idlePerDay * freezingThresholdSeconds) / SECONDS_PER_DAY - reservedCycles;
    return t > 0n ? t : 0n;
  }
}
