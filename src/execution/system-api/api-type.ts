/**
 * Execution contexts ("API types") of the System API (interface spec §"Overview of imports": the
 * comment after each import lists the contexts I, G, U, RQ, NRQ, CQ, Ry, Rt, CRy, CRt, C, CC, F, T,
 * s; `*` means every context except s), their display names in the replica's trap texts
 * (`"ic0_<name>" cannot be executed in <context> mode`, rs/embedders system_api.rs `error_for`) and
 * the context groups the rows of ic0-table.ts share.
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
  // System tasks: the global timer and the heartbeat (traps name the timer).
  system_task: 'global timer',
};

/** The spec's context letters (§"Overview of imports"). */
export type Letter = 's' | 'I' | 'G' | 'U' | 'RQ' | 'NRQ' | 'CQ' | 'Ry' | 'Rt' | 'CRy' | 'CRt' | 'C' | 'CC' | 'F' | 'T';

/** The letter of each context this replica runs. */
export const letterOf: Record<ApiType, Letter> = {
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

/** `*` in the spec: every context except the start function. */
export const ALL: readonly Letter[] = ['I', 'G', 'U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'CC', 'F', 'T'];
/** `*` and `s`. */
export const ALL_AND_START: readonly Letter[] = [...ALL, 's'];
/** Where a canister may make calls. */
export const CALLS: readonly Letter[] = ['U', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'T'];
/** Where there is a caller with caller info. */
export const CALLER_INFO: readonly Letter[] = ['U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt', 'C', 'CC', 'F'];
/** Where a call context can be replied to or rejected. */
export const REPLY: readonly Letter[] = ['U', 'RQ', 'NRQ', 'CQ', 'Ry', 'Rt', 'CRy', 'CRt'];
/** Replicated contexts that may read the root key, burn cycles. */
export const REPLICATED_STATEFUL: readonly Letter[] = ['I', 'G', 'U', 'RQ', 'Ry', 'Rt', 'C', 'T'];

/** Whether the context runs in replicated mode (`ic0.in_replicated_execution` returns 1). */
export function isReplicated(apiType: ApiType): boolean {
  return apiType !== 'non_replicated_query' && apiType !== 'composite_query' && apiType !== 'inspect_message';
}
