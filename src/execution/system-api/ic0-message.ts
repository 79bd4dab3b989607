/**
 * `ic0` rows for the message itself (interface spec §"Message data", §"Method name" in inspect
 * message, §"Responding", §"Cycles"): what the canister reads about the message it is executing,
 * how it replies or rejects, and the cycles it accepts, burns and sees. One row per function; see
 * ic0-row.ts for the columns.
 */
import { CanisterTrap, toolchainViolation, userViolation } from '../hypervisor-error.ts';
import { ALL, CALLER_INFO, REPLICATED_STATEFUL, REPLY } from './api-type.ts';
import { row, type Ic0Row } from './ic0-row.ts';
import { strictUtf8, u, type I } from './system-api-state.ts';

const NO_BYTES = new Uint8Array();
/** Contexts with an argument: I U RQ NRQ CQ Ry CRy F. */
const ARG = ['I', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'CRy', 'F'] as const;
/** Contexts where cycles came with the message: U RQ Rt Ry. */
const CYCLES_IN = ['U', 'RQ', 'Rt', 'Ry'] as const;

/** Message data, inspect-message functions, responding and cycles. */
export const MESSAGE_ROWS: readonly Ic0Row[] = [
  // -- message data --------------------------------------------------------------------------
  row('msg_arg_data_size', [], ['I'], ARG, { base: 500 }, (s, ctx) => s.size(ctx.arg.length)),
  row('msg_arg_data_copy', ['I', 'I', 'I'], [], ARG, { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_arg_data_copy', 'payload', ctx.arg, dst, off, size),
  ),
  row('msg_caller_size', [], ['I'], ALL, { base: 500 }, (s, ctx) => s.size(ctx.caller.toUint8Array().length)),
  row('msg_caller_copy', ['I', 'I', 'I'], [], ALL, { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_caller_copy', 'id', ctx.caller.toUint8Array(), dst, off, size),
  ),
  // Caller info (attributes of the caller's identity) is always empty here.
  row('msg_caller_info_data_size', [], ['I'], CALLER_INFO, { base: 500 }, (s) => s.size(0)),
  row('msg_caller_info_data_copy', ['I', 'I', 'I'], [], CALLER_INFO, { base: 500, bytesArgs: [2] }, (s, _ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_caller_info_data_copy', 'data', NO_BYTES, dst, off, size),
  ),
  row('msg_caller_info_signer_size', [], ['I'], CALLER_INFO, { base: 500 }, (s) => s.size(0)),
  row('msg_caller_info_signer_copy', ['I', 'I', 'I'], [], CALLER_INFO, { base: 500, bytesArgs: [2] }, (s, _ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_caller_info_signer_copy', 'signer', NO_BYTES, dst, off, size),
  ),
  // The spec also lists C for msg_reject_code; the replica traps there (system_api.rs), and so do we.
  row('msg_reject_code', [], ['i32'], ['Ry', 'Rt', 'CRy', 'CRt'], { base: 500 }, (_s, ctx) => ctx.rejectCode),
  row('msg_reject_msg_size', [], ['I'], ['Rt', 'CRt'], { base: 500 }, (s, ctx) => s.size(Buffer.byteLength(ctx.rejectMessage))),
  row('msg_reject_msg_copy', ['I', 'I', 'I'], [], ['Rt', 'CRt'], { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_reject_msg_copy', 'msg', Buffer.from(ctx.rejectMessage), dst, off, size),
  ),
  row('msg_deadline', [], ['i64'], REPLY, { base: 500 }, (_s, ctx) => ctx.deadlineNanos),
  row('msg_method_name_size', [], ['I'], ['F'], { base: 500 }, (s, ctx) => s.size(Buffer.byteLength(ctx.methodName))),
  row('msg_method_name_copy', ['I', 'I', 'I'], [], ['F'], { base: 500, bytesArgs: [2] }, (s, ctx, dst: I, off: I, size: I) =>
    s.copyOut('ic0.msg_method_name_copy', 'payload', Buffer.from(ctx.methodName), dst, off, size),
  ),
  row('accept_message', [], [], ['F'], { base: 500 }, (_s, ctx) => {
    if (ctx.changes.messageAccepted) throw new CanisterTrap(toolchainViolation('ic0.accept_message: the function was already called.'));
    ctx.changes.messageAccepted = true;
  }),

  // -- responding ----------------------------------------------------------------------------
  row('msg_reply_data_append', ['I', 'I'], [], REPLY, { base: 500, bytesArgs: [1], byteFactor: 50 }, (s, ctx, src: I, size: I) => {
    if (s.responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reply_data_append: the call is already replied.'));
    const data = s.read('msg.reply', src, size);
    if (s.replySize + data.length > s.maxReply(ctx)) {
      throw new CanisterTrap(
        userViolation(
          `ic0.msg_reply_data_append: application payload size (${s.replySize + data.length}) cannot be larger than ${s.maxReply(ctx)}.`,
          'Consider checking the response size and returning an error if it is too long.',
          'msg_reply_data_append-payload-too-large',
        ),
      );
    }
    s.reply.push(data);
    s.replySize += data.length;
  }),
  row('msg_reply', [], [], REPLY, { base: 500 }, (s, ctx) => {
    if (s.responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reply: the call is already replied'));
    ctx.changes.response = { kind: 'reply', data: new Uint8Array(Buffer.concat(s.reply)) };
    s.reply = [];
  }),
  row('msg_reject', ['I', 'I'], [], REPLY, { base: 500, bytesArgs: [1], byteFactor: 50 }, (s, ctx, src: I, size: I) => {
    if (s.responded(ctx)) throw new CanisterTrap(toolchainViolation('ic0.msg_reject: the call is already replied'));
    const bytes = s.read('ic0.msg_reject', src, size);
    if (bytes.length > s.maxReply(ctx)) {
      throw new CanisterTrap(
        userViolation(
          `ic0.msg_reject: application payload size (${bytes.length}) cannot be larger than ${s.maxReply(ctx)}.`,
          'Try truncating the error messages that are too long.',
          'msg_reject-payload-too-large',
        ),
      );
    }
    let message: string;
    try {
      message = strictUtf8.decode(bytes);
    } catch {
      throw new CanisterTrap(toolchainViolation('ic0.msg_reject: invalid UTF-8 string provided'));
    }
    ctx.changes.response = { kind: 'reject', message };
  }),

  // -- cycles --------------------------------------------------------------------------------
  row('msg_cycles_available128', ['I'], [], CYCLES_IN, { base: 500 }, (s, ctx, dst: I) =>
    s.write128('ic0_msg_cycles_available128', dst, ctx.cyclesAvailable - ctx.changes.cyclesAccepted),
  ),
  row('msg_cycles_refunded128', ['I'], [], ['Rt', 'Ry'], { base: 500 }, (s, ctx, dst: I) =>
    s.write128('ic0_msg_cycles_refunded128', dst, ctx.cyclesRefunded),
  ),
  row('msg_cycles_accept128', ['i64', 'i64', 'I'], [], CYCLES_IN, { base: 500 }, (s, ctx, high: bigint, low: bigint, dst: I) => {
    const max = (u(high) << 64n) | u(low);
    const left = ctx.cyclesAvailable - ctx.changes.cyclesAccepted;
    const amount = max < left ? max : left;
    ctx.changes.cyclesAccepted += amount;
    s.write128('ic0_msg_cycles_accept128', dst, amount);
  }),
  row('cycles_burn128', ['i64', 'i64', 'I'], [], REPLICATED_STATEFUL, { base: 500 }, (s, ctx, high: bigint, low: bigint, dst: I) => {
    const want = (u(high) << 64n) | u(low);
    const liquid = s.balance(ctx) - ctx.frozenReserveCycles;
    const amount = want < liquid ? want : liquid > 0n ? liquid : 0n;
    ctx.changes.cyclesBurned += amount;
    s.write128('ic0_cycles_burn128', dst, amount);
  }),
  row('canister_cycle_balance128', ['I'], [], ALL, { base: 500 }, (s, ctx, dst: I) =>
    s.write128('ic0_canister_cycle_balance128', dst, s.balance(ctx)),
  ),
  row('canister_liquid_cycle_balance128', ['I'], [], ALL, { base: 500 }, (s, ctx, dst: I) => {
    const liquid = s.balance(ctx) - ctx.frozenReserveCycles;
    s.write128('ic0_canister_liquid_cycle_balance128', dst, liquid > 0n ? liquid : 0n);
  }),
];
