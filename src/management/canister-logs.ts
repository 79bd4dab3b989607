/**
 * `fetch_canister_logs` (interface spec §"IC method fetch_canister_logs"): the records of a
 * canister's log buffer (state/canister-logs.ts), to whoever `log_visibility` admits — the
 * controllers (default), anyone (`public`), or the `allowed_viewers` and the controllers — as a
 * query call from a user or a call from a canister, optionally filtered by index or timestamp
 * range `[start, end)` (the filter icp-cli sends).
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { CanisterLogRecord } from '../state/canister-logs.ts';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { canisterOrNotFound } from './canister-lifecycle.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';
import { visibleTo } from './visibility.ts';

type Opt<T> = [] | [T];
type Range = { start: bigint; end: bigint };
/** The `filter` argument. */
export type CanisterLogFilter = { by_idx: Range } | { by_timestamp_nanos: Range };

/**
 * `fetch_canister_logs`.
 * @throws IcError IC0301 for an unknown canister; IC0406 `Caller … is not allowed to query ic00
 * method fetch_canister_logs` when log_visibility does not admit the caller.
 */
export function fetchCanisterLogs(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Principal; filter: Opt<CanisterLogFilter> },
): { canister_log_records: CanisterLogRecord[] } {
  const c = canisterOrNotFound(env, arg.canister_id);
  if (!visibleTo(c.settings.log_visibility, c, call.caller)) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `Caller ${call.caller.toText()} is not allowed to query ic00 method fetch_canister_logs`);
  }
  let records = env.state.logs.records(c.canisterId);
  const f = arg.filter[0];
  if (f && 'by_idx' in f) records = records.filter((r) => r.idx >= f.by_idx.start && r.idx < f.by_idx.end);
  if (f && 'by_timestamp_nanos' in f) {
    const { start, end } = f.by_timestamp_nanos;
    records = records.filter((r) => r.timestamp_nanos >= start && r.timestamp_nanos < end);
  }
  return { canister_log_records: records };
}
