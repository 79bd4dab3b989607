/**
 * Execution contexts ("API types") of the System API and which `ic0` functions each may call
 * (interface spec §"Overview of imports": the comment after each import lists the contexts
 * I, G, U, RQ, NRQ, CQ, Ry, Rt, CRy, CRt, C, CC, F, T, s; `*` means every context except s).
 * Calling a function outside its contexts traps with the replica's text
 * (`"ic0_<name>" cannot be executed in <context> mode`, rs/embedders system_api.rs `error_for`).
 */

/** The contexts a canister function can run in (spec letters in comments). */
export const ApiType = {
  /** s: the Wasm start function. */
  start: 'start',
  /** I: canister_init and canister_post_upgrade. */
  init: 'init',
  /** G: canister_pre_upgrade. */
  pre_upgrade: 'pre_upgrade',
  /** U: canister_update, and canister_query methods called by update (replicated) — see RQ. */
  update: 'update',
  /** RQ: a canister_query method executed in replicated mode (called as an update). */
  replicated_query: 'replicated_query',
  /** NRQ: a canister_query method executed as a query call. */
  non_replicated_query: 'non_replicated_query',
  /** CQ: canister_composite_query. */
  composite_query: 'composite_query',
  /** Ry: a reply callback. */
  reply_callback: 'reply_callback',
  /** Rt: a reject callback. */
  reject_callback: 'reject_callback',
  /** C: a cleanup callback. */
  cleanup: 'cleanup',
  /** F: canister_inspect_message. */
  inspect_message: 'inspect_message',
  /** T: system tasks: canister_global_timer, canister_heartbeat, canister_on_low_wasm_memory. */
  system_task: 'system_task',
} as const;
export type ApiType = (typeof ApiType)[keyof typeof ApiType];

/** How the replica names a context in its trap texts (`ApiType` Display in rs/system_api). */
export const apiTypeDisplay: Record<ApiType, string> = {
  start: 'start',
  init: 'init',
  pre_upgrade: 'pre upgrade',
  update: 'update',
  replicated_query: 'replicated query',
  non_replicated_query: 'non replicated query',
  composite_query: 'composite query',
  reply_callback: 'reply callback',
  reject_callback: 'reject callback',
  cleanup: 'cleanup',
  inspect_message: 'inspect message',
  // The only system task this replica runs is the global timer (heartbeats are not run).
  system_task: 'global timer',
};

type Letter = 's' | 'I' | 'G' | 'U' | 'RQ' | 'NRQ' | 'CQ' | 'Ry' | 'Rt' | 'CRy' | 'CRt' | 'C' | 'CC' | 'F' | 'T';

const letterOf: Record<ApiType, Letter> = {
  start: 's',
  init: 'I',
  pre_upgrade: 'G',
  update: 'U',
  replicated_query: 'RQ',
  non_replicated_query: 'NRQ',
  composite_query: 'CQ',
  reply_callback: 'Ry',
  reject_callback: 'Rt',
  cleanup: 'C',
  inspect_message: 'F',
  system_task: 'T',
};

const ALL: Letter[] = ['I', 'G', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'CC', 'F', 'T'];
const ALL_AND_START: Letter[] = [...ALL, 's'];
const CALLS: Letter[] = ['U', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'T'];
const CALLER_INFO: Letter[] = ['U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'CC', 'F'];
const REPLY: Letter[] = ['U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt'];

/**
 * The contexts each `ic0` function may be called in, as the spec's import overview lists them.
 * Functions not listed here are not offered to canisters.
 */
export const allowedContexts: Record<string, readonly Letter[]> = {
  msg_arg_data_size: ['I', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'CRy', 'F'],
  msg_arg_data_copy: ['I', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'CRy', 'F'],
  msg_caller_size: ALL,
  msg_caller_copy: ALL,
  msg_caller_info_data_size: CALLER_INFO,
  msg_caller_info_data_copy: CALLER_INFO,
  msg_caller_info_signer_size: CALLER_INFO,
  msg_caller_info_signer_copy: CALLER_INFO,
  // The spec also lists C; the replica traps there (system_api.rs), and so do we.
  msg_reject_code: ['Ry', 'Rt', 'CRy', 'CRt'],
  msg_reject_msg_size: ['Rt', 'CRt'],
  msg_reject_msg_copy: ['Rt', 'CRt'],
  msg_deadline: ['U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt'],
  msg_reply_data_append: REPLY,
  msg_reply: REPLY,
  msg_reject: REPLY,
  msg_cycles_available128: ['U', 'RQ', 'Rt', 'Ry'],
  msg_cycles_refunded128: ['Rt', 'Ry'],
  msg_cycles_accept128: ['U', 'RQ', 'Rt', 'Ry'],
  cycles_burn128: ['I', 'G', 'U', 'RQ', 'Ry', 'Rt', 'C', 'T'],
  canister_self_size: ALL,
  canister_self_copy: ALL,
  canister_cycle_balance128: ALL,
  canister_liquid_cycle_balance128: ALL,
  canister_status: ALL,
  canister_version: ALL,
  subnet_self_size: ALL,
  subnet_self_copy: ALL,
  msg_method_name_size: ['F'],
  msg_method_name_copy: ['F'],
  accept_message: ['F'],
  call_new: CALLS,
  call_on_cleanup: CALLS,
  call_data_append: CALLS,
  call_with_best_effort_response: CALLS,
  call_cycles_add128: ['U', 'Ry', 'Rt', 'T'],
  call_perform: CALLS,
  stable64_size: ALL_AND_START,
  stable64_grow: ALL_AND_START,
  stable64_write: ALL_AND_START,
  stable64_read: ALL_AND_START,
  root_key_size: ['I', 'G', 'U', 'RQ', 'Ry', 'Rt', 'C', 'T'],
  root_key_copy: ['I', 'G', 'U', 'RQ', 'Ry', 'Rt', 'C', 'T'],
  certified_data_set: ['I', 'G', 'U', 'Ry', 'Rt', 'T'],
  data_certificate_present: ALL,
  data_certificate_size: ['NRQ', 'CQ'],
  data_certificate_copy: ['NRQ', 'CQ'],
  time: ALL,
  global_timer_set: ['I', 'G', 'U', 'Ry', 'Rt', 'C', 'T'],
  performance_counter: ALL_AND_START,
  is_controller: ALL_AND_START,
  in_replicated_execution: ALL_AND_START,
  cost_call: ALL_AND_START,
  cost_create_canister: ALL_AND_START,
  cost_http_request: ALL_AND_START,
  cost_sign_with_ecdsa: ALL_AND_START,
  cost_sign_with_schnorr: ALL_AND_START,
  cost_vetkd_derive_key: ALL_AND_START,
  env_var_count: ALL,
  env_var_name_size: ALL,
  env_var_name_copy: ALL,
  env_var_name_exists: ALL,
  env_var_value_size: ALL,
  env_var_value_copy: ALL,
  debug_print: ALL_AND_START,
  trap: ALL_AND_START,
};

/** Whether `ic0.<name>` may be called in `apiType`. Unknown names are never allowed. */
export function isAllowed(name: string, apiType: ApiType): boolean {
  return allowedContexts[name]?.includes(letterOf[apiType]) ?? false;
}

/** Whether the context runs in replicated mode (`ic0.in_replicated_execution` returns 1). */
export function isReplicated(apiType: ApiType): boolean {
  return apiType !== 'non_replicated_query' && apiType !== 'composite_query' && apiType !== 'inspect_message';
}
