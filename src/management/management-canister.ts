/**
 * The management canister `aaaaa-aa` (interface spec §"The IC management canister"): one registry
 * entry per method — who may call it by ingress, and its handler — plus the two entry points:
 * `acceptIngress` (the replica's ingress filter, run before a call is accepted) and `execute`
 * (run in a round). Arguments and replies are Candid per candid/ic.did.
 */
import type { Principal } from '@icp-sdk/core/principal';
import * as E from './errors.ts';
import * as L from './canister-lifecycle.ts';
import * as K from './chain-key.ts';
import { fetchCanisterLogs } from './canister-logs.ts';
import * as C from './chunk-store.ts';
import * as S from './canister-snapshots.ts';
import {
  decodeManagementArgs,
  encodeManagementReply,
  isManagementMethod,
  ManagementDecodeError,
  type ManagementMethodName,
} from './interface.ts';
import type { ManagementCall, ManagementEnv, ManagementReply } from './management-context.ts';
import { effectiveCanisterIdOf } from './effective-canister-id.ts';
import { ErrorCode, IcError } from '../types/ic-error.ts';

/**
 * Who may call a method by ingress. `not_allowed`: refused by the replica's ingress parse step
 * (`extract_effective_canister_id`: "can not be called via ingress messages"); `canister_only`:
 * passes that step but is refused by the ingress filter ("Only canisters can call ...");
 * `controllers`: controllers of the effective canister; `provisional`: the provisional whitelist,
 * which on this development replica is everyone (as on PocketIC and dfx).
 */
export type IngressPermission = 'not_allowed' | 'canister_only' | 'controllers' | 'provisional';

/** A registry entry. `handle` is absent for methods this replica does not serve yet. */
interface MethodEntry {
  ingress: IngressPermission;
  // Decoded argument tuple in, reply tuple out.
  handle?: (env: ManagementEnv, call: ManagementCall, args: any[]) => unknown[];
  /** For methods answered later (chain-key signing): decoded arguments in, the accepted request out. */
  defer?: (env: ManagementEnv, call: ManagementCall, args: any[]) => K.ThresholdRequest;
  /** Routed by key id: an argument that does not decode is a routing failure (reject code 3). */
  routedByKeyId?: boolean;
}

const registry: Record<ManagementMethodName, MethodEntry> = {
  provisional_create_canister_with_cycles: {
    ingress: 'provisional',
    handle: (env, call, [a]) => [L.provisionalCreateCanisterWithCycles(env, call, a)],
  },
  provisional_top_up_canister: {
    ingress: 'provisional',
    handle: (env, call, [a]) => (L.provisionalTopUpCanister(env, call, a), []),
  },
  create_canister: { ingress: 'not_allowed', handle: (env, call, [a]) => [L.createCanister(env, call, a)] },
  update_settings: { ingress: 'controllers', handle: (env, call, [a]) => (L.updateSettings(env, call, a), []) },
  install_code: { ingress: 'controllers', handle: (env, call, [a]) => (L.installCode(env, call, a), []) },
  install_chunked_code: { ingress: 'controllers', handle: (env, call, [a]) => (C.installChunkedCode(env, call, a), []) },
  uninstall_code: { ingress: 'controllers', handle: (env, call, [a]) => (L.uninstallCode(env, call, a), []) },
  start_canister: { ingress: 'controllers', handle: (env, call, [a]) => (L.startCanister(env, call, a), []) },
  stop_canister: { ingress: 'controllers', handle: (env, call, [a]) => (L.stopCanister(env, call, a), []) },
  canister_status: { ingress: 'controllers', handle: (env, call, [a]) => [L.canisterStatus(env, call, a)] },
  delete_canister: { ingress: 'controllers', handle: (env, call, [a]) => (L.deleteCanister(env, call, a), []) },
  upload_chunk: { ingress: 'controllers', handle: (env, call, [a]) => [C.uploadChunk(env, call, a)] },
  clear_chunk_store: { ingress: 'controllers', handle: (env, call, [a]) => (C.clearChunkStore(env, call, a), []) },
  stored_chunks: { ingress: 'controllers', handle: (env, call, [a]) => [C.storedChunks(env, call, a)] },
  canister_info: { ingress: 'canister_only' },
  canister_metadata: { ingress: 'canister_only' },
  deposit_cycles: { ingress: 'not_allowed', handle: (env, call, [a]) => (L.depositCycles(env, call, a), []) },
  raw_rand: { ingress: 'not_allowed', handle: (env) => [L.rawRand(env)] },
  http_request: { ingress: 'not_allowed' },
  flexible_http_request: { ingress: 'not_allowed' },
  ecdsa_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.ecdsaPublicKey(env, call, a)] },
  sign_with_ecdsa: { ingress: 'not_allowed', routedByKeyId: true, defer: (env, call, [a]) => K.signWithEcdsa(env, call, a) },
  schnorr_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.schnorrPublicKey(env, call, a)] },
  sign_with_schnorr: { ingress: 'not_allowed', routedByKeyId: true, defer: (env, call, [a]) => K.signWithSchnorr(env, call, a) },
  vetkd_public_key: { ingress: 'not_allowed', routedByKeyId: true, handle: (env, call, [a]) => [K.vetkdPublicKey(env, call, a)] },
  vetkd_derive_key: { ingress: 'not_allowed', routedByKeyId: true, defer: (env, call, [a]) => K.vetkdDeriveKey(env, call, a) },
  bitcoin_get_balance: { ingress: 'not_allowed' },
  bitcoin_get_utxos: { ingress: 'not_allowed' },
  bitcoin_send_transaction: { ingress: 'not_allowed' },
  bitcoin_get_current_fee_percentiles: { ingress: 'not_allowed' },
  bitcoin_get_block_headers: { ingress: 'not_allowed' },
  node_metrics_history: { ingress: 'not_allowed' },
  subnet_info: { ingress: 'not_allowed' },
  take_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => [S.takeCanisterSnapshot(env, call, a)] },
  load_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => (S.loadCanisterSnapshot(env, call, a), []) },
  read_canister_snapshot_metadata: { ingress: 'controllers' },
  read_canister_snapshot_data: { ingress: 'controllers' },
  upload_canister_snapshot_metadata: { ingress: 'controllers' },
  upload_canister_snapshot_data: { ingress: 'controllers' },
  list_canister_snapshots: { ingress: 'controllers', handle: (env, call, [a]) => [S.listCanisterSnapshots(env, call, a)] },
  delete_canister_snapshot: { ingress: 'controllers', handle: (env, call, [a]) => (S.deleteCanisterSnapshot(env, call, a), []) },
  fetch_canister_logs: { ingress: 'not_allowed', handle: (env, call, [a]) => [fetchCanisterLogs(env, call, a)] },
};

/** Largest number of controllers the replica's Candid types admit (`BoundedControllers`). */
const MAX_CONTROLLERS_IN_PAYLOAD = 10;

/**
 * The ingress checks for calls to `aaaaa-aa`, in the replica's order: the parse step
 * (`extract_effective_canister_id`: method known, callable by ingress, payload decodes), then the
 * ingress filter (`should_accept_ingress_message`: canister-only methods, controllers).
 * @throws IcError with the replica's code and text when the message is refused.
 */
export function acceptIngress(env: ManagementEnv, sender: Principal, method: string, arg: Uint8Array): void {
  if (!isManagementMethod(method)) throw E.ic00DoesNotExposeMethod(method);
  const entry = registry[method];
  if (entry.ingress === 'not_allowed') throw E.notCallableViaIngress(method);
  if (entry.ingress === 'provisional') return;
  let target: Principal | 'any' | undefined;
  try {
    target = effectiveCanisterIdOf(method, arg);
  } catch (e) {
    if (e instanceof ManagementDecodeError) throw E.failedToParsePayload(method, e.candidMessage);
    throw e;
  }
  if (method === 'update_settings') {
    const [a] = decodeManagementArgs('update_settings', arg);
    const controllers = a.settings.controllers[0];
    if (controllers && controllers.length > MAX_CONTROLLERS_IN_PAYLOAD) {
      throw E.failedToParsePayload(
        method,
        `Deserialize error: The number of elements exceeds maximum allowed ${MAX_CONTROLLERS_IN_PAYLOAD}`,
      );
    }
  }
  if (entry.ingress === 'canister_only') throw E.onlyCanistersCanCall(method);
  if (target === undefined || target === 'any') throw E.notCallableViaIngress(method);
  const c = env.state.canister(target);
  if (!c) throw E.canisterNotFoundAtIngress(target);
  if (!c.controllers.some((p) => p.compareTo(sender) === 'eq')) throw E.onlyControllersCanCall(target, method);
}

/** Methods ic.did marks `query`: answered to query calls from users (non-replicated). */
const QUERY_METHODS: ReadonlySet<string> = new Set(['canister_status', 'fetch_canister_logs']);

/**
 * A query call to the management canister (interface spec: `canister_status` and
 * `fetch_canister_logs` are queries): runs the method's handler on the current state, whose
 * checks (controllers, visibility) apply to the sender; nothing it does is kept.
 * @returns the Candid reply
 * @throws IcError for a reject; IC0406 `Query call to management canister method … is not
 * supported.` for every other method, as the replica answers.
 */
export function query(env: ManagementEnv, sender: Principal, method: string, arg: Uint8Array, nowNanos: bigint): Uint8Array {
  if (!QUERY_METHODS.has(method)) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `Query call to management canister method ${method} is not supported.`);
  }
  return execute(env, { caller: sender, callerIsCanister: false, method, arg, payment: 0n, nowNanos, queryCall: true }).reply;
}

/**
 * Executes one call to the management canister.
 * @returns the Candid reply and the cycles refunded to the caller.
 * @throws IcError for every reject (the caller's attached cycles are then all refunded).
 */
export function execute(env: ManagementEnv, call: ManagementCall): ManagementReply {
  const { method } = call;
  if (!isManagementMethod(method)) throw E.managementCanisterHasNoMethod(method);
  const entry = registry[method];
  if (!call.callerIsCanister && !call.queryCall && (entry.ingress === 'canister_only' || entry.ingress === 'not_allowed')) {
    throw E.notCallableViaIngress(method);
  }
  if (!entry.handle && !entry.defer) throw E.notSupported(method);
  let args: unknown[];
  try {
    args = decodeManagementArgs(method, call.arg) as unknown[];
  } catch (e) {
    if (e instanceof ManagementDecodeError) {
      throw entry.routedByKeyId ? K.routingDecodeError(method, e.candidMessage) : E.candidDecodeError(e.candidMessage);
    }
    throw e;
  }
  if (entry.defer) return { reply: new Uint8Array(), refund: 0n, thresholdRequest: entry.defer(env, call, args) };
  const result = entry.handle!(env, call, args);
  const refund = method === 'deposit_cycles' || method === 'create_canister' ? 0n : call.payment;
  const reply: ManagementReply = { reply: encodeManagementReply(method, result as never), refund };
  if (method === 'stop_canister') {
    const target = (args[0] as { canister_id: Principal }).canister_id;
    if (env.state.canister(target)?.status === 'stopping') reply.deferredUntilStopped = target;
  }
  return reply;
}

