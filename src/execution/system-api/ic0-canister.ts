/**
 * `ic0` rows for the canister's view of itself and its environment (interface spec §"Canister
 * id", §"Canister status", §"Canister version", §"Subnet id", §"Controller check", §"Replicated
 * execution check", §"System time", §"Performance counter", §"Root key", §"Environment
 * variables", §"Stable memory", §"Certified data", §"Global timer", §"Cycle cost calculation",
 * §"Debugging aids").
 */
import { Principal } from '@icp-sdk/core/principal';
import type { ThresholdMethod } from '../../types/threshold-method.ts';
import { CanisterTrap, calledTrap, toolchainViolation, trapped, userViolation, wrongMode } from '../hypervisor-error.ts';
import { ALL, ALL_AND_START, apiTypeDisplay, isReplicated, REPLICATED_STATEFUL } from './api-type.ts';
import type { ExecutionContext } from './execution-context.ts';
import { row, type Ic0Row } from './ic0-row.ts';
import { invalidPrincipal, lossyUtf8, MAX_CERTIFIED_DATA_BYTES, n, strictUtf8, u, type I, type SystemApiState } from './system-api-state.ts';

/**
 * `ic0.cost_sign_with_ecdsa` / `cost_sign_with_schnorr` / `cost_vetkd_derive_key` (spec §"Cycle
 * cost calculation"): 0 and the fee written to dst (128-bit LE); 1 for an unknown curve or
 * algorithm code; 2 for a key name no subnet holds (dst untouched).
 * @param prefixes key-id display prefix per curve/algorithm code
 */
function costThreshold(method: ThresholdMethod, prefixes: readonly string[]) {
  const name = `cost_${method}`;
  return (s: SystemApiState, ctx: ExecutionContext, src: I, size: I, code: number, dst: I): number => {
    const bytes = s.read(`ic0.${name}`, src, size);
    const prefix = prefixes[code >>> 0];
    if (prefix === undefined) return 1;
    let keyName: string;
    try {
      keyName = strictUtf8.decode(bytes);
    } catch {
      return 2;
    }
    const fee = ctx.thresholdFee(method, `${prefix}:${keyName}`);
    if (fee === undefined) return 2;
    s.write128(`ic0_${name}`, dst, fee);
    return 0;
  };
}

/** The canister's lossy-UTF-8 text at heap `src` (clamped to the heap: debug_print and trap never fault on it). */
function heapText(s: SystemApiState, src: I, size: I): string {
  const heap = s.heap();
  const from = Math.min(n(src), heap.length);
  const to = Math.min(from + n(size), heap.length);
  return lossyUtf8.decode(heap.subarray(from, to));
}

/** Stable memory access outside its size or the heap (the replica's Wasm trap texts). */
function checkStableAccess(s: SystemApiState, heapOffset: bigint, offset: bigint, size: bigint): void {
  if (!s.stable.inBounds(u(offset), u(size))) throw new CanisterTrap(trapped('stable memory out of bounds'));
  if (n(heapOffset) + n(size) > s.heap().length) throw new CanisterTrap(trapped('heap out of bounds'));
}

/** Canister and subnet, time, environment, stable memory, certification, timer, costs, debugging. */
export const CANISTER_ROWS: readonly Ic0Row[] = [
  // -- canister and subnet -------------------------------------------------------------------
  row('canister_self_size', [], ['I'], ALL, { base: 500 }, (s, ctx) => s.size(ctx.canisterId.toUint8Array().length)),
  row('canister_self_copy', ['I', 'I', 'I'], [], ALL, { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.canister_self_copy', 'id', ctx.canisterId.toUint8Array(), dst, off, size),
  ),
  row('canister_status', [], ['i32'], ALL, { base: 500 }, (_s, ctx) => ctx.status),
  row('canister_version', [], ['i64'], ALL, { base: 500 }, (_s, ctx) => ctx.version),
  row('subnet_self_size', [], ['I'], ALL, { base: 500 }, (s, ctx) => s.size(ctx.subnetId.toUint8Array().length)),
  row('subnet_self_copy', ['I', 'I', 'I'], [], ALL, { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.subnet_self_copy', 'id', ctx.subnetId.toUint8Array(), dst, off, size),
  ),
  row('is_controller', ['I', 'I'], ['i32'], ALL_AND_START, { base: 1_000, bytesArgs: [1] }, (s, ctx, src: I, size: I) => {
    const bytes = s.read('ic0.is_controller', src, size);
    if (bytes.length > 29) throw new CanisterTrap(invalidPrincipal());
    const p = Principal.fromUint8Array(bytes);
    return ctx.controllers.some((c) => c.compareTo(p) === 'eq') ? 1 : 0;
  }),
  row('in_replicated_execution', [], ['i32'], ALL_AND_START, { base: 500 }, (_s, ctx) => (isReplicated(ctx.apiType) ? 1 : 0)),
  row('time', [], ['i64'], ALL, { base: 500 }, (_s, ctx) => ctx.timeNanos),
  row('performance_counter', ['i32'], ['i64'], ALL_AND_START, { base: 200 }, (s, _ctx, type: number) => {
    if (type !== 0 && type !== 1) throw new CanisterTrap(toolchainViolation(`Error getting performance counter type ${type}`));
    // Read after this call's own 200 were charged (spec §"Performance counter").
    return type === 0 ? s.meter.executed : s.meter.callContextExecuted;
  }),
  row('root_key_size', [], ['I'], REPLICATED_STATEFUL, { base: 500 }, (s, ctx) => s.size(ctx.rootKeyDer.length)),
  row('root_key_copy', ['I', 'I', 'I'], [], REPLICATED_STATEFUL, { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.root_key_copy', 'bytes', ctx.rootKeyDer, dst, off, size),
  ),

  // -- environment variables -----------------------------------------------------------------
  row('env_var_count', [], ['I'], ALL, { base: 500 }, (s, ctx) => s.size(ctx.environmentVariables.length)),
  row('env_var_name_size', ['I'], ['I'], ALL, { base: 500 }, (s, ctx, i: I) => s.size(Buffer.byteLength(s.envVar(ctx, i).name))),
  row('env_var_name_copy', ['I', 'I', 'I', 'I'], [], ALL, { base: 500, bytesArgs: [3] }, (s, ctx, i: I, dst: I, off: I, size: I) =>
    s.copyOut('ic0.env_var_name_copy', 'name', Buffer.from(s.envVar(ctx, i).name), dst, off, size),
  ),
  row('env_var_name_exists', ['I', 'I'], ['i32'], ALL, { base: 500 }, (s, ctx, src: I, size: I) => {
    const name = lossyUtf8.decode(s.read('ic0.env_var_name_exists', src, size));
    return ctx.environmentVariables.some((v) => v.name === name) ? 1 : 0;
  }),
  row('env_var_value_size', ['I', 'I'], ['I'], ALL, { base: 500 }, (s, ctx, src: I, size: I) =>
    s.size(Buffer.byteLength(s.envValue(ctx, 'env_var_value_size', src, size))),
  ),
  row('env_var_value_copy', ['I', 'I', 'I', 'I', 'I'], [], ALL, { base: 500, bytesArgs: [4] }, (s, ctx, src: I, size: I, dst: I, off: I, len: I) =>
    s.copyOut('ic0.env_var_value_copy', 'value', Buffer.from(s.envValue(ctx, 'env_var_value_copy', src, size)), dst, off, len),
  ),

  // -- stable memory (host-side; the replica's Wasm-native stable memory costs grow 100) -------
  row('stable64_size', [], ['i64'], ALL_AND_START, { base: 20 }, (s) => s.stable.sizePages),
  row('stable64_grow', ['i64'], ['i64'], ALL_AND_START, { base: 500 }, (s, _ctx, pages: bigint) => s.stable.grow(u(pages))),
  row('stable64_read', ['i64', 'i64', 'i64'], [], ALL_AND_START, { base: 20, bytesArgs: [2] }, (s, _ctx, dst: bigint, offset: bigint, size: bigint) => {
    checkStableAccess(s, dst, offset, size);
    s.stable.readInto(s.heap(), n(dst), u(offset), n(size));
    s.markWritten(n(dst), n(size));
  }),
  row('stable64_write', ['i64', 'i64', 'i64'], [], ALL_AND_START, { base: 20, bytesArgs: [2] }, (s, _ctx, offset: bigint, src: bigint, size: bigint) => {
    checkStableAccess(s, src, offset, size);
    s.stable.write(u(offset), s.heap().subarray(n(src), n(src) + n(size)));
  }),

  // -- certification and the global timer ----------------------------------------------------
  row('certified_data_set', ['I', 'I'], [], ['I', 'G', 'U', 'Ry', 'Rt', 'T'], { base: 500, bytesArgs: [1] }, (s, ctx, src: I, size: I) => {
    if (n(size) > MAX_CERTIFIED_DATA_BYTES) {
      throw new CanisterTrap(
        userViolation(
          `ic0_certified_data_set failed because the passed data must be no larger than ${MAX_CERTIFIED_DATA_BYTES} bytes. Found ${n(size)} bytes.`,
          'Try certifying just the hash of your data instead of the full contents.',
          'certified_data_set-payload-too-large',
        ),
      );
    }
    ctx.changes.certifiedData = s.read('ic0_certified_data_set', src, size);
  }),
  row('data_certificate_present', [], ['i32'], ALL, { base: 500 }, (_s, ctx) => (ctx.dataCertificate ? 1 : 0)),
  row('data_certificate_size', [], ['I'], ['NRQ', 'CQ'], { base: 500 }, (s, ctx) => {
    if (!ctx.dataCertificate) throw new CanisterTrap(wrongMode('ic0_data_certificate_size', apiTypeDisplay[ctx.apiType]));
    return s.size(ctx.dataCertificate.length);
  }),
  row('data_certificate_copy', ['I', 'I', 'I'], [], ['NRQ', 'CQ'], { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) => {
    if (!ctx.dataCertificate) throw new CanisterTrap(wrongMode('ic0_data_certificate_copy', apiTypeDisplay[ctx.apiType]));
    s.copyOut('ic0.data_certificate_copy', 'certificate', ctx.dataCertificate, dst, off, size);
  }),
  row('global_timer_set', ['i64'], ['i64'], ['I', 'G', 'U', 'Ry', 'Rt', 'C', 'T'], { base: 500 }, (s, ctx, t: bigint) => {
    const prev = ctx.changes.globalTimerNanos ?? s.currentTimerNanos;
    ctx.changes.globalTimerNanos = u(t);
    return prev;
  }),

  // -- costs ---------------------------------------------------------------------------------
  row('cost_call', ['i64', 'i64', 'I'], [], ALL_AND_START, { base: 500 }, (s, ctx, methodNameSize: bigint, payloadSize: bigint, dst: I) =>
    s.write128('ic0_cost_call', dst, ctx.callCost(u(methodNameSize) + u(payloadSize)).total),
  ),
  row('cost_create_canister', ['I'], [], ALL_AND_START, { base: 500 }, (s, ctx, dst: I) =>
    s.write128('ic0_cost_create_canister', dst, ctx.canisterCreationFee),
  ),
  row('cost_http_request', ['i64', 'i64', 'I'], [], ALL_AND_START, { base: 500 }, (s, ctx, requestSize: bigint, maxResponse: bigint, dst: I) =>
    s.write128('ic0_cost_http_request', dst, ctx.httpRequestCost(u(requestSize), u(maxResponse))),
  ),
  row('cost_sign_with_ecdsa', ['I', 'I', 'i32', 'I'], ['i32'], ALL_AND_START, { base: 500, bytesArgs: [1] }, costThreshold('sign_with_ecdsa', ['ecdsa:Secp256k1'])),
  row(
    'cost_sign_with_schnorr',
    ['I', 'I', 'i32', 'I'],
    ['i32'],
    ALL_AND_START,
    { base: 500, bytesArgs: [1] },
    costThreshold('sign_with_schnorr', ['schnorr:Bip340Secp256k1', 'schnorr:Ed25519']),
  ),
  row('cost_vetkd_derive_key', ['I', 'I', 'i32', 'I'], ['i32'], ALL_AND_START, { base: 500, bytesArgs: [1] }, costThreshold('vetkd_derive_key', ['vetkd:Bls12_381_G2'])),

  // -- debugging (bytes charged for what goes to the canister log: ic0-row.ts `logged`) --------
  row('debug_print', ['I', 'I'], [], ALL_AND_START, { base: 100, logged: { length: 1, withLength: false } }, (s, ctx, src: I, size: I) =>
    s.host.debugPrint(ctx.canisterId, heapText(s, src, size), isReplicated(ctx.apiType)),
  ),
  row('trap', ['I', 'I'], [], ALL_AND_START, { base: 500, logged: { length: 1, withLength: true } }, (s, _ctx, src: I, size: I) => {
    throw new CanisterTrap(calledTrap(heapText(s, src, size)));
  }),
];
