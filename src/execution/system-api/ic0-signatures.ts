/**
 * The Wasm signatures of the `ic0` functions this replica offers (interface spec §"Overview of
 * imports"), for a module's memory width: `I` is i32 in wasm32 modules and i64 in wasm64
 * modules; i64 values of the spec stay i64 in both. Module validation compares each import
 * against this table.
 */
import type { FunctionSignature, WasmMemoryType } from '../wasm/canister-module.ts';

type T = 'I' | 'i32' | 'i64';
const sig = (params: T[], results: T[] = []): { params: T[]; results: T[] } => ({ params, results });

/** Signatures with `I` for the pointer/size type (spec notation). */
const SPEC: Record<string, { params: T[]; results: T[] }> = {
  msg_arg_data_size: sig([], ['I']),
  msg_arg_data_copy: sig(['I', 'I', 'I']),
  msg_caller_size: sig([], ['I']),
  msg_caller_copy: sig(['I', 'I', 'I']),
  msg_caller_info_data_size: sig([], ['I']),
  msg_caller_info_data_copy: sig(['I', 'I', 'I']),
  msg_caller_info_signer_size: sig([], ['I']),
  msg_caller_info_signer_copy: sig(['I', 'I', 'I']),
  msg_reject_code: sig([], ['i32']),
  msg_reject_msg_size: sig([], ['I']),
  msg_reject_msg_copy: sig(['I', 'I', 'I']),
  msg_deadline: sig([], ['i64']),
  msg_reply_data_append: sig(['I', 'I']),
  msg_reply: sig([]),
  msg_reject: sig(['I', 'I']),
  msg_cycles_available128: sig(['I']),
  msg_cycles_refunded128: sig(['I']),
  msg_cycles_accept128: sig(['i64', 'i64', 'I']),
  cycles_burn128: sig(['i64', 'i64', 'I']),
  canister_self_size: sig([], ['I']),
  canister_self_copy: sig(['I', 'I', 'I']),
  canister_cycle_balance128: sig(['I']),
  canister_liquid_cycle_balance128: sig(['I']),
  canister_status: sig([], ['i32']),
  canister_version: sig([], ['i64']),
  subnet_self_size: sig([], ['I']),
  subnet_self_copy: sig(['I', 'I', 'I']),
  msg_method_name_size: sig([], ['I']),
  msg_method_name_copy: sig(['I', 'I', 'I']),
  accept_message: sig([]),
  call_new: sig(['I', 'I', 'I', 'I', 'I', 'I', 'I', 'I']),
  call_on_cleanup: sig(['I', 'I']),
  call_data_append: sig(['I', 'I']),
  call_with_best_effort_response: sig(['i32']),
  call_cycles_add128: sig(['i64', 'i64']),
  call_perform: sig([], ['i32']),
  stable64_size: sig([], ['i64']),
  stable64_grow: sig(['i64'], ['i64']),
  stable64_write: sig(['i64', 'i64', 'i64']),
  stable64_read: sig(['i64', 'i64', 'i64']),
  root_key_size: sig([], ['I']),
  root_key_copy: sig(['I', 'I', 'I']),
  certified_data_set: sig(['I', 'I']),
  data_certificate_present: sig([], ['i32']),
  data_certificate_size: sig([], ['I']),
  data_certificate_copy: sig(['I', 'I', 'I']),
  time: sig([], ['i64']),
  global_timer_set: sig(['i64'], ['i64']),
  performance_counter: sig(['i32'], ['i64']),
  is_controller: sig(['I', 'I'], ['i32']),
  in_replicated_execution: sig([], ['i32']),
  cost_call: sig(['i64', 'i64', 'I']),
  cost_create_canister: sig(['I']),
  cost_http_request: sig(['i64', 'i64', 'I']),
  cost_sign_with_ecdsa: sig(['I', 'I', 'i32', 'I'], ['i32']),
  cost_sign_with_schnorr: sig(['I', 'I', 'i32', 'I'], ['i32']),
  cost_vetkd_derive_key: sig(['I', 'I', 'i32', 'I'], ['i32']),
  env_var_count: sig([], ['I']),
  env_var_name_size: sig(['I'], ['I']),
  env_var_name_copy: sig(['I', 'I', 'I', 'I']),
  env_var_name_exists: sig(['I', 'I'], ['i32']),
  env_var_value_size: sig(['I', 'I'], ['I']),
  env_var_value_copy: sig(['I', 'I', 'I', 'I', 'I']),
  debug_print: sig(['I', 'I']),
  trap: sig(['I', 'I']),
};

const cache = new Map<WasmMemoryType, ReadonlyMap<string, FunctionSignature>>();

/** The ic0 import table for modules of the given memory width. */
export function ic0Signatures(memoryType: WasmMemoryType): ReadonlyMap<string, FunctionSignature> {
  let m = cache.get(memoryType);
  if (!m) {
    const I = memoryType === 'wasm64' ? 'i64' : 'i32';
    const map = new Map<string, FunctionSignature>();
    for (const [name, s] of Object.entries(SPEC)) {
      map.set(name, {
        params: s.params.map((t) => (t === 'I' ? I : t)),
        results: s.results.map((t) => (t === 'I' ? I : t)),
      });
    }
    cache.set(memoryType, (m = map));
  }
  return m;
}
