/**
 * `ic0` rows for inter-canister calls (interface spec §"Inter-canister method calls"): a call is
 * built with `call_new`, optionally given a cleanup callback, argument bytes, a best-effort
 * timeout and cycles, and sent with `call_perform`; the performed call is collected in the
 * execution's changes and enqueued by execution only if the execution succeeds.
 */
import { Principal } from '@icp-sdk/core/principal';
import { CanisterTrap, outOfCyclesForTransfer, toolchainViolation, userViolation } from '../hypervisor-error.ts';
import { CALLS } from './api-type.ts';
import { row, type Ic0Row } from './ic0-row.ts';
import { invalidPrincipal, lossyUtf8, MAX_PAYLOAD_BYTES, u, type I } from './system-api-state.ts';

/** Requests one canister may have outstanding to one other canister (the replica's output queue). */
export const OUTPUT_QUEUE_CAPACITY = 500;
/** What `ic0.call_perform` returns for a call it could not enqueue: reject code SYS_TRANSIENT. */
const REJECT_SYS_TRANSIENT = 2;

/** The call functions. */
export const CALL_ROWS: readonly Ic0Row[] = [
  row(
    'call_new',
    ['I', 'I', 'I', 'I', 'I', 'I', 'I', 'I'],
    [],
    CALLS,
    { base: 1_500, bytesArgs: [1, 3] },
    (s, _ctx, cs: I, cn: I, ms: I, mn: I, rf: I, re: I, jf: I, je: I) => {
      const callee = s.read('ic0.call_new callee_src', cs, cn);
      if (callee.length > 29) throw new CanisterTrap(invalidPrincipal());
      const method = lossyUtf8.decode(s.read('ic0.call_new method_name', ms, mn));
      s.pending = {
        callee: Principal.fromUint8Array(callee),
        method,
        arg: new Uint8Array(),
        cycles: 0n,
        onReply: { fn: u(rf), env: u(re) },
        onReject: { fn: u(jf), env: u(je) },
      };
      s.pendingArg = [];
    },
  ),
  row('call_on_cleanup', ['I', 'I'], [], CALLS, { base: 500 }, (s, _ctx, fn: I, env: I) => {
    const p = s.needPending('ic0.call_on_cleanup');
    if (p.onCleanup) {
      throw new CanisterTrap(toolchainViolation('ic0.call_on_cleanup can be called at most once between `ic0.call_new` and `ic0.call_perform`'));
    }
    p.onCleanup = { fn: u(fn), env: u(env) };
  }),
  row('call_data_append', ['I', 'I'], [], CALLS, { base: 500, bytesArgs: [1], byteFactor: 50 }, (s, _ctx, src: I, size: I) => {
    s.needPending('ic0.call_data_append');
    s.pendingArg.push(s.read('ic0.call_data_append', src, size));
  }),
  row('call_with_best_effort_response', ['i32'], [], CALLS, { base: 500 }, (s, _ctx, timeout: number) => {
    const p = s.needPending('ic0.call_with_best_effort_response');
    if (p.timeoutSeconds !== undefined) {
      throw new CanisterTrap(toolchainViolation('ic0_call_with_best_effort_response failed because a timeout is already set.'));
    }
    p.timeoutSeconds = Math.min(Math.max(timeout >>> 0, 1), 300);
  }),
  row('call_cycles_add128', ['i64', 'i64'], [], ['U', 'Ry', 'Rt', 'T'], { base: 500 }, (s, ctx, high: bigint, low: bigint) => {
    const p = s.needPending('ic0_call_cycles_add128');
    const amount = (u(high) << 64n) | u(low);
    const available = s.balance(ctx) - ctx.frozenReserveCycles;
    if (amount > available) throw new CanisterTrap(outOfCyclesForTransfer(ctx.canisterId));
    p.cycles += amount;
  }),
  row('call_perform', [], ['i32'], CALLS, { base: 5_000 }, (s, ctx) => {
    const p = s.needPending('ic0.call_perform');
    p.arg = new Uint8Array(Buffer.concat(s.pendingArg));
    s.pending = null;
    s.pendingArg = [];
    if (p.arg.length > MAX_PAYLOAD_BYTES) {
      throw new CanisterTrap(
        userViolation(
          `Request to ${p.callee.toText()}:${p.method} has a payload size of ${p.arg.length}, which exceeds the allowed limit of ${MAX_PAYLOAD_BYTES}.`,
          'Check the canister for errors or redesign the target API to allow shorter messages',
          'canister-made-a-call-with-too-large-payload',
        ),
      );
    }
    // The output queue to the callee (the replica's DEFAULT_QUEUE_CAPACITY): with 500 calls to
    // it outstanding the call is not made and call_perform returns SYS_TRANSIENT (2); its cycles
    // stay with the caller and no callback is registered (system_api push_output_request).
    const outstanding = ctx.outstandingCallsTo?.(p.callee) ?? 0;
    if (outstanding + ctx.changes.calls.length >= OUTPUT_QUEUE_CAPACITY) {
      const queued = outstanding + ctx.changes.calls.filter((q) => q.callee.compareTo(p.callee) === 'eq').length;
      if (queued >= OUTPUT_QUEUE_CAPACITY) return REJECT_SYS_TRANSIENT;
    }
    // The fees and reservations leave the balance with the attached cycles, above the freezing
    // threshold, or nothing happens and the call is not made (`withdraw_request_cycles`: 2 = SYS_TRANSIENT).
    const fee = ctx.callCost(BigInt(Buffer.byteLength(p.method) + p.arg.length)).total;
    if (p.cycles + fee > s.balance(ctx) - ctx.frozenReserveCycles) return 2;
    p.fee = fee;
    ctx.changes.calls.push(p);
    return 0;
  }),
];
