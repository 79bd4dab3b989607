/**
 * A wasm32 canister (WAT) that forwards calls: method `go_<i>` performs call i of its spec and
 * replies with what came back (the reply bytes, or the reject code and message). Used to hold
 * call contexts open across rounds and to drive management calls such as sign_with_ecdsa from
 * a canister without a Motoko compile.
 */
import type { Principal } from '@icp-sdk/core/principal';

/** One call a canister method makes (`go_<i>`); its callbacks reply with what came back. */
export interface CallSpec {
  callee: Principal;
  method: string;
  arg: Uint8Array;
  cycles?: bigint;
  /** `call_with_best_effort_response(timeout)`, seconds. */
  timeoutSeconds?: number;
  /** The reply callback traps; `call_on_cleanup` then prints `cleanup ran`. */
  trapInReplyWithCleanup?: boolean;
}

const bytesWat = (b: Uint8Array): string => [...b].map((x) => `\\${x.toString(16).padStart(2, '0')}`).join('');

/**
 * A wasm32 canister whose `go_<i>` performs call i and does not reply itself: the reply callback
 * replies with the reply bytes, the reject callback with [reject code, ...reject message].
 */
export function forwarderWat(calls: readonly CallSpec[]): string {
  let offset = 2048;
  const data: string[] = [];
  const place = (b: Uint8Array): [number, number] => {
    const at = offset;
    data.push(`(data (i32.const ${at}) "${bytesWat(b)}")`);
    offset += b.length + 16;
    return [at, b.length];
  };
  const methods = calls.map((c, i) => {
    const [calleeAt, calleeLen] = place(c.callee.toUint8Array());
    const [methodAt, methodLen] = place(new TextEncoder().encode(c.method));
    const [argAt, argLen] = place(c.arg);
    const onReply = c.trapInReplyWithCleanup ? 2 : 0;
    const cycles = c.cycles ?? 0n;
    return `(func (export "canister_update go_${i}")
    (call $call_new (i32.const ${calleeAt}) (i32.const ${calleeLen}) (i32.const ${methodAt}) (i32.const ${methodLen}) (i32.const ${onReply}) (i32.const 0) (i32.const 1) (i32.const 0))
    ${c.trapInReplyWithCleanup ? '(call $on_cleanup (i32.const 3) (i32.const 0))' : ''}
    (call $data (i32.const ${argAt}) (i32.const ${argLen}))
    ${c.timeoutSeconds !== undefined ? `(call $best_effort (i32.const ${c.timeoutSeconds}))` : ''}
    ${cycles > 0n ? `(call $cycles (i64.const ${cycles >> 64n}) (i64.const ${cycles & ((1n << 64n) - 1n)}))` : ''}
    (drop (call $perform)))`;
  });
  return `
(module
  (import "ic0" "call_new" (func $call_new (param i32 i32 i32 i32 i32 i32 i32 i32)))
  (import "ic0" "call_data_append" (func $data (param i32 i32)))
  (import "ic0" "call_cycles_add128" (func $cycles (param i64 i64)))
  (import "ic0" "call_with_best_effort_response" (func $best_effort (param i32)))
  (import "ic0" "call_on_cleanup" (func $on_cleanup (param i32 i32)))
  (import "ic0" "call_perform" (func $perform (result i32)))
  (import "ic0" "msg_arg_data_size" (func $arg_size (result i32)))
  (import "ic0" "msg_arg_data_copy" (func $arg_copy (param i32 i32 i32)))
  (import "ic0" "msg_reject_code" (func $reject_code (result i32)))
  (import "ic0" "msg_reject_msg_size" (func $reject_size (result i32)))
  (import "ic0" "msg_reject_msg_copy" (func $reject_copy (param i32 i32 i32)))
  (import "ic0" "msg_reply_data_append" (func $append (param i32 i32)))
  (import "ic0" "msg_reply" (func $reply))
  (import "ic0" "debug_print" (func $print (param i32 i32)))
  (memory 2)
  (table 4 funcref)
  (elem (i32.const 0) $on_reply $on_reject $on_reply_trap $on_cleanup_cb)
  (data (i32.const 1024) "cleanup ran")
  ${data.join('\n  ')}
  (func $on_reply (param i32) (local $n i32)
    (local.set $n (call $arg_size))
    (call $arg_copy (i32.const 65536) (i32.const 0) (local.get $n))
    (call $append (i32.const 65536) (local.get $n))
    (call $reply))
  (func $on_reject (param i32) (local $n i32)
    (i32.store8 (i32.const 65536) (call $reject_code))
    (local.set $n (call $reject_size))
    (call $reject_copy (i32.const 65537) (i32.const 0) (local.get $n))
    (call $append (i32.const 65536) (i32.add (local.get $n) (i32.const 1)))
    (call $reply))
  (func $on_reply_trap (param i32) unreachable)
  (func $on_cleanup_cb (param i32) (call $print (i32.const 1024) (i32.const 11)))
  ${methods.join('\n  ')}
)`;
}
