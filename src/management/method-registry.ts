/**
 * The management canister's methods, one registry entry each, typed by method name so each
 * handler receives its own argument tuple (shapes.ts) and returns its own result tuple: who may
 * call it by ingress, the checks the ingress parse step adds to Candid decoding, whether the
 * attached cycles are refunded, whether the call waits for a canister to stop, and whether a
 * payload that does not decode is a routing failure. Methods without a handler are refused as not
 * supported yet.
 */
import type { Principal } from '@icp-sdk/core/principal';
import * as L from './canister-lifecycle.ts';
import * as K from './chain-key.ts';
import { fetchCanisterLogs } from './canister-logs.ts';
import * as C from './chunk-store.ts';
import * as S from './canister-snapshots.ts';
import * as D from './snapshot-data.ts';
import * as E from './errors.ts';
import * as H from './http-request.ts';
import type { ManagementMethodName } from './ic-did.ts';
import type { ManagementCall, ManagementEnv, SlicedExecution } from './management-context.ts';
import type { ManagementArgs, ManagementResult } from './shapes.ts';

/**
 * Who may call a method by ingress. `not_allowed`: refused by the replica's ingress parse step
 * (`extract_effective_canister_id`: "can not be called via ingress messages"); `canister_only`:
 * passes that step but is refused by the ingress filter ("Only canisters can call ...");
 * `controllers`: controllers of the effective canister; `provisional`: the provisional whitelist,
 * which on this development replica is everyone (as on PocketIC and dfx).
 */
export type IngressPermission = 'not_allowed' | 'canister_only' | 'controllers' | 'provisional';

/** A handler's answer for requests answered in a later round (chain-key signing). */
export const ANSWERED_LATER = Symbol('answered later');

/** A handler's answer when canister code runs sliced for it (install_code): the result comes at its end. */
export class RunningExecution<R> {
  readonly execution: SlicedExecution;
  /** The method's result once the execution ended well. */
  readonly result: R;
  constructor(execution: SlicedExecution, result: R) {
    this.execution = execution;
    this.result = result;
  }
}

/** One method's entry. */
export interface MethodEntry<M extends ManagementMethodName> {
  ingress: IngressPermission;
  /** Handles a decoded call; absent for methods this replica does not serve yet. */
  handle?: (env: ManagementEnv, call: ManagementCall, args: ManagementArgs<M>) => ManagementResult<M> | typeof ANSWERED_LATER | RunningExecution<ManagementResult<M>>;
  /** The attached cycles are kept by the method (creation fee, deposit) instead of refunded. */
  keepsPayment?: true;
  /** Routed by key id: an argument that does not decode is a routing failure (reject code 3). */
  routedByKeyId?: true;
  /**
   * Checks of the ingress parse step beyond decoding (the replica's bounded Candid types).
   * @throws IcError IC0408 (`Failed to parse payload …`)
   */
  checkIngressPayload?: (args: ManagementArgs<M>) => void;
  /** The canister the reply waits for to be stopped, if it is stopping after the call. */
  waitsUntilStopped?: (env: ManagementEnv, args: ManagementArgs<M>) => Principal | undefined;
}

/** Largest number of controllers the replica's Candid types admit (`BoundedControllers`). */
const MAX_CONTROLLERS_IN_PAYLOAD = 10;

const registry: { [M in ManagementMethodName]: MethodEntry<M> } = {
  provisional_create_canister_with_cycles: {
    ingress: 'provisional',
    handle: (env, call, [a]) => [L.provisionalCreateCanisterWithCycles(env, call, a)],
  },
  provisional_top_up_canister: { ingress: 'provisional', handle: (env, call, [a]) => (L.provisionalTopUpCanister(env, call, a), []) },
  create_canister: { ingress: 'not_allowed', keepsPayment: true, handle: (env, call, [a]) => [L.createCanister(env, call, a)] },
  update_settings: {
    ingress: 'controllers',
    handle: (env, call, [a]) => (L.updateSettings(env, call, a), []),
    checkIngressPayload: ([a]) => {
      const controllers = a.settings.controllers[0];
      if (controllers && controllers.length > MAX_CONTROLLERS_IN_PAYLOAD) {
        throw E.failedToParsePayload('update_settings', `Deserialize error: The number of elements exceeds maximum allowed ${MAX_CONTROLLERS_IN_PAYLOAD}`);
      }
    },
  },
  install_code: { ingress: 'controllers', handle: (env, call, [a]) => new RunningExecution(L.installCode(env, call, a), []) },
  install_chunked_code: { ingress: 'controllers', handle: (env, call, [a]) => new RunningExecution(C.installChunkedCode(env, call, a), []) },
  uninstall_code: { ingress: 'controllers', handle: (env, call, [a]) => (L.uninstallCode(env, call, a), []) },
  start_canister: { ingress: 'controllers', handle: (env, call, [a]) => (L.startCanister(env, call, a), []) },
  stop_canister: {
    ingress: 'controllers',
    handle: (env, call, [a]) => (L.stopCanister(env, call, a), []),
    waitsUntilStopped: (env, [a]) => (env.state.canister(a.canister_id)?.status === 'stopping' ? a.canister_id : undefined),
  },
  canister_status: { ingress: 'controllers', handle: (env, call, [a]) => [L.canisterStatus(env, call, a)] },
  delete_canister: { ingress: 'controllers', handle: (env, call, [a]) => (L.deleteCanister(env, call, a), []) },
  upload_chunk: { ingress: 'controllers', handle: (env, call, [a]) => [C.uploadChunk(env, call, a)] },
  clear_chunk_store: { ingress: 'controllers', handle: (env, call, [a]) => (C.clearChunkStore(env, call, a), []) },
  stored_chunks: { ingress: 'controllers', handle: (env, call, [a]) => [C.storedChunks(env, call, a)] },
  canister_info: { ingress: 'canister_only' },
  canister_metadata: { ingress: 'canister_only' },
  deposit_cycles: { ingress: 'not_allowed', keepsPayment: true, handle: (env, call, [a]) => (L.depositCycles(env, call, a), []) },
  raw_rand: { ingress: 'not_allowed', handle: (env) => [L.rawRand(env)] },
  http_request: { ingress: 'not_allowed', handle: (env, call, [a]) => (H.httpRequest(env, call, a), ANSWERED_LATER) },
  flexible_http_request: { ingress: 'not_allowed' },
  ecdsa_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.ecdsaPublicKey(env, call, a)] },
  sign_with_ecdsa: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => (K.signWithEcdsa(env, call, a), ANSWERED_LATER) },
  schnorr_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.schnorrPublicKey(env, call, a)] },
  sign_with_schnorr: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => (K.signWithSchnorr(env, call, a), ANSWERED_LATER) },
  vetkd_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.vetkdPublicKey(env, call, a)] },
  vetkd_derive_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => (K.vetkdDeriveKey(env, call, a), ANSWERED_LATER) },
  bitcoin_get_balance: { ingress: 'not_allowed' },
  bitcoin_get_utxos: { ingress: 'not_allowed' },
  bitcoin_send_transaction: { ingress: 'not_allowed' },
  bitcoin_get_current_fee_percentiles: { ingress: 'not_allowed' },
  bitcoin_get_block_headers: { ingress: 'not_allowed' },
  node_metrics_history: { ingress: 'not_allowed' },
  subnet_info: { ingress: 'not_allowed' },
  take_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => [S.takeCanisterSnapshot(env, call, a)] },
  load_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => (S.loadCanisterSnapshot(env, call, a), []) },
  read_canister_snapshot_metadata: { ingress: 'controllers', handle: (env, call, [a]) => [D.readCanisterSnapshotMetadata(env, call, a)] },
  read_canister_snapshot_data: { ingress: 'controllers', handle: (env, call, [a]) => [D.readCanisterSnapshotData(env, call, a)] },
  upload_canister_snapshot_metadata: { ingress: 'controllers', handle: (env, call, [a]) => [D.uploadCanisterSnapshotMetadata(env, call, a)] },
  upload_canister_snapshot_data: { ingress: 'controllers', handle: (env, call, [a]) => (D.uploadCanisterSnapshotData(env, call, a), []) },
  list_canister_snapshots: { ingress: 'controllers', handle: (env, call, [a]) => [S.listCanisterSnapshots(env, call, a)] },
  delete_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => (S.deleteCanisterSnapshot(env, call, a), []) },
  fetch_canister_logs: { ingress: 'not_allowed', handle: (env, call, [a]) => [fetchCanisterLogs(env, call, a)] },
};

/** The entry of method `M` (typed by the method name). */
export function methodEntry<M extends ManagementMethodName>(method: M): MethodEntry<M> {
  return registry[method] as MethodEntry<M>;
}
