/**
 * The effective canister id of a request addressed to the management canister `aaaaa-aa`
 * (interface spec §"Effective canister id", `#http-effective-canister-id`, as of the spec that
 * ships ic.did @ 0484f2cf; reference/http-interface.md §5.7):
 *
 * - update `provisional_create_canister_with_cycles`: any principal may be used;
 * - update `install_chunked_code`: the arg record's `target_canister`;
 * - otherwise (updates and queries): the arg record's `canister_id`, when the method's argument
 *   is a record with a `canister_id : principal` field (an `opt canister_id`, as in
 *   `ecdsa_public_key`, does not count);
 * - otherwise there is none and the request is rejected whatever URL it was sent to.
 *
 * Assumes the method table of `ic-did.ts`; which methods count is derived from their Candid
 * argument types, so the rule follows ic.did. The replica's own `extract_effective_canister_id`
 * (dfinity/ic `rs/types/types/src/messages/ingress_messages.rs`) differs in three places, by
 * design of its ingress filter, not of routing: it gives no id to `provisional_top_up_canister`
 * (any URL is accepted) and refuses `deposit_cycles` and `fetch_canister_logs` over ingress
 * outright; the spec's rule is kept here and those refusals belong to the method permissions.
 * Newer spec text (after 0.45.0) also lets `create_canister` use any principal; not applied.
 */
import { IDL } from '@icp-sdk/core/candid';
import type { Principal } from '@icp-sdk/core/principal';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { decodeManagementArgs, ManagementDecodeError } from './codec.ts';
import { isManagementMethod, managementMethods, type ManagementMethodName } from './ic-did.ts';

/**
 * How a method's effective canister id is found: `any` principal, the arg record's
 * `target_canister` or `canister_id` field, or `none`.
 */
export type EffectiveCanisterIdRule = 'any' | 'target_canister' | 'canister_id' | 'none';

/** HTTP request kinds that carry an effective canister id in their URL. */
export type RequestKind = 'call' | 'query';

function hasPrincipalField(t: IDL.Type | undefined, field: string): boolean {
  // `RecordClass[Symbol.hasInstance]` reads `typeName`, so rule out `undefined` (`raw_rand`) first.
  if (t === undefined || !(t instanceof IDL.RecordClass)) return false;
  const entry = t._fields.find(([name]) => name === field);
  return entry !== undefined && entry[1] instanceof IDL.PrincipalClass;
}

/**
 * The rule that determines the effective canister id of a request to `aaaaa-aa`.
 *
 * @param method the request's `method_name`.
 * @param kind `call` (update, the default) or `query`: the spec's special cases apply to updates only.
 * @returns the rule; `none` for methods not in ic.did.
 */
export function effectiveCanisterIdRule(
  method: string,
  kind: RequestKind = 'call',
): EffectiveCanisterIdRule {
  if (!isManagementMethod(method)) return 'none';
  const argType = managementMethods[method].argTypes[0];
  if (kind === 'call') {
    // Spec: "If the call is to the provisional_create_canister_with_cycles method, then any
    // principal can be used as the effective canister id for this call."
    if (method === 'provisional_create_canister_with_cycles') return 'any';
    // Spec: "If the call is to the install_chunked_code method and the arg is a Candid-encoded
    // record with a target_canister field of type principal, then the effective canister id must
    // be that principal."
    if (method === 'install_chunked_code' && hasPrincipalField(argType, 'target_canister')) {
      return 'target_canister';
    }
  }
  // Spec: "Otherwise, if the arg is a Candid-encoded record with a canister_id field of type
  // principal, then the effective canister id must be that principal."
  if (hasPrincipalField(argType, 'canister_id')) return 'canister_id';
  // Spec: "Otherwise, the call is rejected by the system independently of the effective canister id."
  return 'none';
}

/**
 * The effective canister id of a request to `aaaaa-aa`, read from its Candid argument.
 * The whole argument is decoded at the method's type (as the replica does), not only the field.
 *
 * @param method the request's `method_name`.
 * @param argBytes the request's `arg` (Candid, `DIDL…`).
 * @param kind `call` (default) or `query`.
 * @returns the principal the URL's effective canister id must equal; `'any'` when any principal
 *   may be used; `undefined` when the request has none and must be rejected (see
 *   `noEffectiveCanisterIdError` for the replica's text).
 * @throws IcError IC0408 InvalidManagementPayload, `Failed to parse payload for ic00 method
 *   {method}: IC0408: Error decoding candid: {error}` when the argument does not decode: the
 *   replica's `ParseIngressError::into_user_error` wrapping the `UserError` Display of
 *   `candid_error_to_user_error` (dfinity/ic `rs/types/types/src/messages/ingress_messages.rs`,
 *   `rs/types/management_canister_types/src/lib.rs`); `{error}` is the `@icp-sdk/core/candid`
 *   message, not the Rust decoder's.
 */
export function effectiveCanisterIdOf(
  method: string,
  argBytes: Uint8Array,
  kind: RequestKind = 'call',
): Principal | 'any' | undefined {
  const rule = effectiveCanisterIdRule(method, kind);
  if (rule === 'any') return 'any';
  if (rule === 'none') return undefined;
  const [arg] = decodeForRouting(method as ManagementMethodName, argBytes);
  return (arg as Record<string, Principal>)[rule];
}

function decodeForRouting(method: ManagementMethodName, argBytes: Uint8Array): unknown[] {
  try {
    return decodeManagementArgs(method, argBytes);
  } catch (e) {
    if (!(e instanceof ManagementDecodeError)) throw e;
    // The replica nests the decoder's `UserError` Display (`IC0408: …`) in the outer message.
    const inner = `IC0408: Error decoding candid: ${e.candidMessage}`;
    throw new IcError(
      ErrorCode.InvalidManagementPayload,
      `Failed to parse payload for ic00 method ${method}: ${inner}`,
    );
  }
}

/**
 * The replica's reject for an ingress message to `aaaaa-aa` that has no effective canister id
 * (dfinity/ic `rs/types/types/src/messages/ingress_messages.rs`, `ParseIngressError::into_user_error`):
 * an unknown method is IC0536 CanisterMethodNotFound `ic00 interface does not expose method {m}`;
 * a known one is IC0406 CanisterRejectedMessage `ic00 method {m} can not be called via ingress
 * messages`.
 *
 * @param method the request's `method_name`.
 * @returns the error to reject the request with (reject code 5 or 4 respectively).
 */
export function noEffectiveCanisterIdError(method: string): IcError {
  if (!isManagementMethod(method)) {
    return new IcError(
      ErrorCode.CanisterMethodNotFound,
      `ic00 interface does not expose method ${method}`,
    );
  }
  return new IcError(
    ErrorCode.CanisterRejectedMessage,
    `ic00 method ${method} can not be called via ingress messages`,
  );
}
