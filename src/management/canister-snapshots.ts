/**
 * Canister snapshots (interface spec §"IC method take_canister_snapshot" and following):
 * `take_canister_snapshot` (optionally replacing one, optionally uninstalling the code after),
 * `load_canister_snapshot`, `list_canister_snapshots` (controllers, or whom snapshot_visibility
 * admits) and `delete_canister_snapshot`; durable in SQLite (state/canister-snapshots.ts). The
 * data download/upload methods (`read_canister_snapshot_*`, `upload_canister_snapshot_*`) are not
 * served (README).
 */
import type { Principal } from '@icp-sdk/core/principal';
import { MAX_SNAPSHOTS_PER_CANISTER, snapshotSize, type SnapshotContent, type SnapshotSummary, type StoredSnapshot } from '../state/canister-snapshots.ts';
import type { CanisterState } from '../state/canister-state.ts';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { canisterOrNotFound, requireController, uninstallCode } from './canister-lifecycle.ts';
import { canisterSnapshotNotEnoughCycles } from './errors.ts';
import { visibleTo } from './visibility.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';

type Opt<T> = [] | [T];

/**
 * Charges `c` for a snapshot operation as management-canister instructions: 1 cycle per
 * instruction at 13 nodes, scaled, no base fee, the wasm32 rate whatever the module (dfinity/ic
 * cycles_account_manager.rs `management_canister_cost` / `consume_cycles_for_management_canister_
 * instructions`, the only instruction charge without a prepayment left in the newest manager),
 * above the freezing threshold.
 * @param instructions the operation's instructions (baseline + bytes, + compilation for a load)
 * @throws IcError IC0207 `Canister snapshotting failed with: ...` (canister_manager/types.rs
 *   `CanisterSnapshotNotEnoughCycles`) when the canister cannot pay; nothing is charged then
 */
export function chargeSnapshotOperation(env: ManagementEnv, c: CanisterState, instructions: bigint, caller: Principal): void {
  try {
    env.execution.chargeManagementInstructions(c, instructions, caller);
  } catch (e) {
    if (e instanceof IcError && e.code === ErrorCode.CanisterOutOfCycles) throw canisterSnapshotNotEnoughCycles(e);
    throw e;
  }
}

/**
 * Management-canister instructions charged to the canister for taking, loading or creating (by
 * metadata upload) a snapshot, on top of one per byte of the snapshot (`DEFAULT_CANISTERS_SNAPSHOT_BASELINE_INSTRUCTIONS`; 0 on
 * system subnets, where management instructions are free anyway).
 */
export const SNAPSHOT_BASELINE_INSTRUCTIONS = 2_000_000_000n;
/** Charged for each read of a piece of snapshot data, plus one per byte (`DEFAULT_CANISTERS_SNAPSHOT_DATA_BASELINE_INSTRUCTIONS`). */
export const SNAPSHOT_DATA_BASELINE_INSTRUCTIONS = 5_000_000n;
/** The spec's `snapshot` record. */
export interface SnapshotRecord {
  id: Uint8Array;
  taken_at_timestamp: bigint;
  total_size: bigint;
}

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const record = (s: SnapshotSummary): SnapshotRecord => ({ id: s.id, taken_at_timestamp: s.takenAtNanos, total_size: s.totalSize });

/** The snapshot, which must belong to `c`. @throws IcError IC0305 otherwise */
export function ownSnapshot(env: ManagementEnv, c: CanisterState, id: Uint8Array): StoredSnapshot {
  const s = env.state.snapshots.get(id);
  if (!s || hex(s.canisterId) !== hex(c.canisterId.toUint8Array())) {
    throw new IcError(ErrorCode.CanisterSnapshotNotFound, `Could not find the snapshot ID ${hex(id)} for canister ${c.canisterId.toText()}.`);
  }
  return s;
}

/**
 * `take_canister_snapshot` (controllers): charges the canister 2 B + one instruction per byte of
 * the new snapshot as management-canister instructions.
 * @throws IcError for an empty canister, an unknown `replace_snapshot`, a full snapshot list, or
 *   IC0207 when the canister cannot pay
 */
export function takeCanisterSnapshot(
  env: ManagementEnv,
  call: ManagementCall,
  arg: { canister_id: Principal; replace_snapshot: Opt<Uint8Array>; uninstall_code: Opt<boolean> },
): SnapshotRecord {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  if (!c.module) {
    throw new IcError(ErrorCode.CanisterContractViolation, `Canister ${c.canisterId.toText()} is empty (it has no Wasm module): there is nothing to snapshot.`);
  }
  const replace = arg.replace_snapshot[0];
  if (replace) ownSnapshot(env, c, replace);
  else if (env.state.snapshots.list(c.canisterId).length >= MAX_SNAPSHOTS_PER_CANISTER) {
    throw new IcError(
      ErrorCode.CanisterRejectedMessage,
      `Canister ${c.canisterId.toText()} has reached the maximum number of snapshots allowed: ${MAX_SNAPSHOTS_PER_CANISTER}.`,
    );
  }
  const content = env.execution.captureSnapshot(c);
  chargeSnapshotOperation(env, c, SNAPSHOT_BASELINE_INSTRUCTIONS + snapshotSize(content), call.caller);
  const snapshot = storeSnapshot(env, c, call.nowNanos, content, replace);
  if (arg.uninstall_code[0]) uninstallCode(env, call, { canister_id: c.canisterId, sender_canister_version: [] });
  return record(snapshot);
}

/**
 * Stores a new snapshot of `c` with the given content, replacing `replace` (a snapshot id the
 * caller has checked belongs to `c`) if given. Shared by taking and uploading a snapshot.
 * @param nowNanos the round's time (nanoseconds), which the snapshot id and `taken_at_timestamp` carry
 */
export function storeSnapshot(env: ManagementEnv, c: CanisterState, nowNanos: bigint, content: SnapshotContent, replace?: Uint8Array): StoredSnapshot {
  const snapshot = {
    id: env.state.snapshots.newId(c.canisterId, nowNanos),
    canisterId: c.canisterId.toUint8Array(),
    takenAtNanos: nowNanos,
    totalSize: snapshotSize(content),
    content,
  };
  if (replace) env.state.snapshots.delete(replace);
  env.state.snapshots.put(snapshot);
  return snapshot;
}

/**
 * `load_canister_snapshot` (controllers): the canister's code and memories become the snapshot's;
 * charged 2 B + one instruction per byte of the snapshot + the compilation of its module (6000
 * per instrumented instruction, as at install).
 * @throws IcError IC0305 for an unknown snapshot, IC0207 when the canister cannot pay
 */
export function loadCanisterSnapshot(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal; snapshot_id: Uint8Array }): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  const s = ownSnapshot(env, c, arg.snapshot_id);
  // The baseline, the snapshot's bytes and compiling its module (create_execution_state).
  const compile = env.execution.compilationInstructions(c, s.content.module, s.content.moduleHash ?? undefined);
  chargeSnapshotOperation(env, c, SNAPSHOT_BASELINE_INSTRUCTIONS + s.totalSize + compile, call.caller);
  env.execution.restoreSnapshot(c, s.content);
  c.version += 1n;
  env.state.markCanisterDirty(c.canisterId);
}

/** `list_canister_snapshots` (controllers, or whom snapshot_visibility admits). */
export function listCanisterSnapshots(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal }): SnapshotRecord[] {
  const c = canisterOrNotFound(env, arg.canister_id);
  if (!visibleTo(c.settings.snapshot_visibility, c, call.caller)) requireController(c, call.caller);
  return env.state.snapshots.list(c.canisterId).map(record);
}

/** `delete_canister_snapshot` (controllers). */
export function deleteCanisterSnapshot(env: ManagementEnv, call: ManagementCall, arg: { canister_id: Principal; snapshot_id: Uint8Array }): void {
  const c = canisterOrNotFound(env, arg.canister_id);
  requireController(c, call.caller);
  ownSnapshot(env, c, arg.snapshot_id);
  env.state.snapshots.delete(arg.snapshot_id);
}
