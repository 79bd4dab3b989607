/**
 * The replica's validation of call, query and read_state requests (dfinity/ic
 * `rs/validator/src/ingress_validation.rs`, `HttpRequestVerifierImpl`; spec §"Authentication"):
 * ingress expiry window, nonce size, read_state path limits, anonymous sender rules, sender =
 * self-authenticating principal of `sender_pubkey`, the delegation chain (≤ 20, no cycles,
 * ≤ 1000 targets each, not expired, each signed by the previous key), the request signature by
 * the last key, and the target canister among the delegations' targets.
 *
 * Every failure throws `RequestValidationError` whose `message` is the body of the replica's
 * HTTP 400 response: `format!("{err}")` of `RequestValidationError`
 * (`rs/http_endpoints/public/src/common.rs`, `validation_error_to_http_error`).
 */

import { Principal } from '@icp-sdk/core/principal';
import { IC_REQUEST, IC_REQUEST_AUTH_DELEGATION, concatBytes } from '../crypto/domain-separator.ts';
import { CryptoError, hex } from '../crypto/crypto-error.ts';
import { hashOfMap, compareBytes, type HashableMap } from '../crypto/request-id.ts';
import { parsePublicKey, selfAuthenticatingPrincipal, type UserPublicKey } from '../crypto/public-key.ts';
import { verifyBasicSignature } from '../crypto/signature.ts';
import { WebAuthnError, verifyWebAuthnSignature } from '../crypto/webauthn.ts';
import { verifyCanisterSignature } from '../crypto/canister-signature.ts';
import type { Nanos } from '../types/units.ts';
import {
  MalformedEnvelopeError,
  parseRequestEnvelope,
  type Envelope,
  type ParsedEnvelope,
  type RequestType,
  type SignedDelegation,
} from './request-envelope.ts';

export type { Envelope, RequestType } from './request-envelope.ts';

/** `MAX_INGRESS_TTL` (rs/limits): 5 minutes, in nanoseconds. */
export const MAX_INGRESS_TTL_NANOS = 300_000_000_000n;
/** `PERMITTED_DRIFT_AT_VALIDATOR` (rs/limits): 30 seconds, in nanoseconds. */
export const PERMITTED_DRIFT_AT_VALIDATOR_NANOS = 30_000_000_000n;
/** `MAXIMUM_NUMBER_OF_DELEGATIONS` (spec: "must not contain more than 20 delegations"). */
export const MAX_DELEGATIONS = 20;
/** `MAXIMUM_NUMBER_OF_TARGETS_PER_DELEGATION`. */
export const MAX_TARGETS_PER_DELEGATION = 1000;
/** `MAXIMUM_NUMBER_OF_BYTES_IN_NONCE`. */
export const MAX_NONCE_BYTES = 32;
/** `MAXIMUM_NUMBER_OF_PATHS` in a read_state request. */
export const MAX_READ_STATE_PATHS = 1000;
/** `MAXIMUM_NUMBER_OF_LABELS_PER_PATH` in a read_state request. */
export const MAX_LABELS_PER_PATH = 127;

const ANONYMOUS = Uint8Array.of(0x04);
const I64_MAX = (1n << 63n) - 1n;

/** A rejected request: `message` is the replica's response body, `httpStatus` its status. */
export class RequestValidationError extends Error {
  /** HTTP status of the replica's response: 400 for every validation error. */
  readonly httpStatus: number;
  /** The replica's error variant, e.g. `InvalidRequestExpiry`, `InvalidSignature`. */
  readonly kind: string;

  constructor(kind: string, message: string, httpStatus = 400) {
    super(message);
    this.name = 'RequestValidationError';
    this.kind = kind;
    this.httpStatus = httpStatus;
  }
}

/** Options of `validateRequest`. */
export interface ValidateOptions {
  /** The request id of `envelope.content` (32 bytes), as computed by `requestIdOf`. */
  readonly requestId: Uint8Array;
  /** The replica's current time, nanoseconds since the epoch. */
  readonly nowNanos: Nanos;
  /** The endpoint's request type: `/call` → `call`, `/query` → `query`, `/read_state`. */
  readonly requestType: RequestType;
  /**
   * The effective canister id of the URL. Not used for the delegation-target check: like the
   * replica, targets are checked against the content's `canister_id` (so a delegation with
   * targets never authorizes a call to `aaaaa-aa` unless `aaaaa-aa` is among them).
   */
  readonly effectiveCanisterId?: Principal;
  /** The root public key (96-byte compressed G2), needed to verify canister signatures. */
  readonly rootPublicKey?: Uint8Array;
}

/** What a valid request authenticates. */
export interface ValidatedRequest {
  readonly sender: Principal;
  /**
   * Canisters the request may act on: `'all'`, or the intersection of the delegations'
   * targets as principal texts (for read_state: to authorize `/request_status` paths).
   */
  readonly targets: 'all' | ReadonlySet<string>;
}

/**
 * Validates a decoded request envelope as the replica does, in the replica's order.
 * @param envelope the CBOR-decoded body `{content, ?sender_pubkey, ?sender_sig, ?sender_delegation}`.
 * @returns the sender and the canisters the request may act on.
 * @throws RequestValidationError (HTTP 400) with the replica's text for every rejection;
 *   `Failed to deserialize cbor request: ...` / `Malformed request: ...` for a badly shaped
 *   envelope (details after the prefix approximated).
 */
export function validateRequest(envelope: Envelope, options: ValidateOptions): ValidatedRequest {
  let req: ParsedEnvelope;
  try {
    req = parseRequestEnvelope(envelope, options.requestType);
  } catch (e) {
    if (e instanceof MalformedEnvelopeError) throw new RequestValidationError('MalformedRequest', e.message);
    throw e;
  }
  if (options.requestId.length !== 32) throw new RangeError('request id must be 32 bytes');
  const anonymous = compareBytes(req.sender, ANONYMOUS) === 0;
  const now = BigInt(options.nowNanos);

  if (req.paths !== undefined) validatePaths(req.paths);
  // Calls always check expiry; anonymous queries and read_state may carry any (spec 0.29.0).
  if (req.requestType === 'call' || !anonymous) validateIngressExpiry(req.ingressExpiry, now);
  if (req.nonce !== undefined && req.nonce.length > MAX_NONCE_BYTES) {
    throw new RequestValidationError(
      'NonceTooBig',
      `Nonce in request is too big: got ${req.nonce.length} bytes, but at most ${MAX_NONCE_BYTES} are allowed.`,
    );
  }
  const targets = validateUserIdAndSignature(req, anonymous, options, now);
  if (req.canisterId !== undefined && targets !== 'all') {
    const canister = Principal.fromUint8Array(req.canisterId).toText();
    if (!targets.has(canister)) {
      throw new RequestValidationError(
        'CanisterNotInDelegationTargets',
        `Canister '${canister}' is not one of the delegation targets.`,
      );
    }
  }
  return { sender: Principal.fromUint8Array(req.sender), targets };
}

function validatePaths(paths: readonly (readonly Uint8Array[])[]): void {
  if (paths.length > MAX_READ_STATE_PATHS) {
    throw new RequestValidationError(
      'TooManyPaths',
      `Too many paths in read state request: got ${paths.length} paths, but at most ${MAX_READ_STATE_PATHS} are allowed.`,
    );
  }
  for (const p of paths) {
    if (p.length > MAX_LABELS_PER_PATH) {
      throw new RequestValidationError(
        'PathTooLong',
        `At least one path in read state request is too deep: got ${p.length} labels, but at most ${MAX_LABELS_PER_PATH} are allowed.`,
      );
    }
  }
}

function validateIngressExpiry(expiry: bigint, now: bigint): void {
  const min = now;
  const max = now + MAX_INGRESS_TTL_NANOS + PERMITTED_DRIFT_AT_VALIDATOR_NANOS;
  if (min <= expiry && expiry <= max) return;
  throw new RequestValidationError(
    'InvalidRequestExpiry',
    'Invalid request expiry: Specified ingress_expiry not within expected range: ' +
      `Minimum allowed expiry: ${formatReplicaTime(min)}, ` +
      `Maximum allowed expiry: ${formatReplicaTime(max)}, ` +
      `Provided expiry:        ${formatReplicaTime(expiry)}`,
  );
}

function validateUserIdAndSignature(
  req: ParsedEnvelope,
  anonymous: boolean,
  options: ValidateOptions,
  now: bigint,
): 'all' | Set<string> {
  const sender = (): string => Principal.fromUint8Array(req.sender).toText();
  if (req.auth === undefined) {
    if (anonymous) return 'all';
    throw new RequestValidationError('MissingSignature', `Missing signature from user: ${sender()}`);
  }
  if (anonymous) {
    throw new RequestValidationError('AnonymousSignatureNotAllowed', 'Signature is not allowed for the anonymous user.');
  }
  const { pubkey, signature, delegations } = req.auth;
  if (compareBytes(selfAuthenticatingPrincipal(pubkey), req.sender) !== 0) {
    throw new RequestValidationError(
      'UserIdDoesNotMatchPublicKey',
      `The user id '${sender()}' does not match the public key '${hex(pubkey)}'`,
    );
  }
  // validate_signature: chain length, then expiry, then the chain itself.
  if (delegations.length > MAX_DELEGATIONS) {
    throw invalidDelegation(
      `Chain of delegations is too long: got ${delegations.length} delegations, but at most ${MAX_DELEGATIONS} are allowed.`,
    );
  }
  for (const d of delegations) {
    if (d.expiration < now) {
      throw new RequestValidationError(
        'InvalidDelegationExpiry',
        'Invalid delegation expiry: Specified sender delegation has expired:\n' +
          `Provided expiry:    ${formatReplicaTime(d.expiration)}\n` +
          `Local replica time: ${formatReplicaTime(now)}`,
      );
    }
  }
  const { key, targets } = validateDelegations(pubkey, delegations, options);
  const signedBytes = concatBytes(IC_REQUEST, options.requestId);
  const failure = verifySignature(key, signedBytes, signature, options, false);
  if (failure !== null) throw new RequestValidationError('InvalidSignature', `Invalid signature: ${failure}`);
  return targets;
}

function validateDelegations(
  senderPubkey: Uint8Array,
  delegations: readonly SignedDelegation[],
  options: ValidateOptions,
): { key: Uint8Array; targets: 'all' | Set<string> } {
  // No public key may appear twice in the chain (sender key included).
  const seen = new Set([hex(senderPubkey)]);
  for (const d of delegations) {
    const k = hex(d.pubkey);
    if (seen.has(k)) {
      throw invalidDelegation(`Chain of delegations contains at least one cycle: first repeating public key encountered ${k}`);
    }
    seen.add(k);
  }
  for (const d of delegations) {
    if (d.targets !== undefined && d.targets.length > MAX_TARGETS_PER_DELEGATION) {
      throw invalidDelegation(
        `Delegation target error: expected at most ${MAX_TARGETS_PER_DELEGATION} targets per delegation, but got ${d.targets.length}`,
      );
    }
  }
  let key = senderPubkey;
  let targets: 'all' | Set<string> = 'all';
  for (const d of delegations) {
    const signedBytes = concatBytes(IC_REQUEST_AUTH_DELEGATION, delegationHash(d));
    const failure = verifySignature(key, signedBytes, d.signature, options, true);
    if (failure !== null) throw invalidDelegation(failure);
    if (d.targets !== undefined) {
      const set = new Set<string>();
      for (const t of d.targets) {
        if (t.length > 29) {
          throw invalidDelegation('Delegation target error: Error parsing canister ID: Bytes is longer than 29 bytes.');
        }
        set.add(Principal.fromUint8Array(t).toText());
      }
      const previous: 'all' | Set<string> = targets;
      targets = previous === 'all' ? set : new Set([...previous].filter((c: string) => set.has(c)));
    }
    key = d.pubkey;
  }
  return { key, targets };
}

/** The hash a delegation signature covers: `hash_of_map({pubkey, expiration, ?targets})`. */
export function delegationHash(d: Pick<SignedDelegation, 'pubkey' | 'expiration' | 'targets'>): Uint8Array {
  const map: HashableMap = { pubkey: d.pubkey, expiration: d.expiration, targets: d.targets };
  return hashOfMap(map);
}

// Verifies one signature by a DER key; returns the AuthenticationError text, or null if valid.
function verifySignature(
  der: Uint8Array,
  signedBytes: Uint8Array,
  signature: Uint8Array,
  options: ValidateOptions,
  inDelegation: boolean,
): string | null {
  let key: UserPublicKey;
  try {
    key = parsePublicKey(der);
  } catch (e) {
    if (e instanceof CryptoError) return `Invalid public key: ${e.message}`;
    throw e;
  }
  try {
    switch (key.kind) {
      case 'webauthn':
        verifyWebAuthnSignature(key, signedBytes, signature);
        return null;
      case 'canister-signature':
        if (options.rootPublicKey === undefined) {
          return 'Invalid canister signature: no root of trust: the root public key is not configured';
        }
        verifyCanisterSignature(key, signedBytes, signature, options.rootPublicKey);
        return null;
      default:
        verifyBasicSignature(key, signedBytes, signature, { allowRsa: inDelegation });
        return null;
    }
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    if (e instanceof WebAuthnError) return `WebAuthn error: ${e.message}`;
    if (!(e instanceof CryptoError)) throw e;
    return key.kind === 'canister-signature'
      ? `Invalid canister signature: ${e.message}`
      : `Invalid basic signature: ${e.message}`;
  }
}

function invalidDelegation(detail: string): RequestValidationError {
  return new RequestValidationError('InvalidDelegation', `Invalid delegation: ${detail}`);
}

/**
 * Formats an IC time as the replica's `Time` `Display` (chrono `DateTime<Utc>`):
 * `2025-05-01 23:55:18.005285297 UTC`; the fraction is omitted when zero and otherwise printed
 * with 3, 6 or 9 digits, whichever is exact. Values above `i64::MAX` print as `<n>ns`.
 * @param nanos nanoseconds since the Unix epoch.
 */
export function formatReplicaTime(nanos: bigint): string {
  if (nanos > I64_MAX || nanos < 0n) return `${nanos}ns`;
  const seconds = nanos / 1_000_000_000n;
  const frac = Number(nanos % 1_000_000_000n);
  const d = new Date(Number(seconds) * 1000);
  const pad = (n: number, w = 2): string => String(n).padStart(w, '0');
  let s =
    `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  if (frac !== 0) {
    if (frac % 1_000_000 === 0) s += `.${pad(frac / 1_000_000, 3)}`;
    else if (frac % 1_000 === 0) s += `.${pad(frac / 1_000, 6)}`;
    else s += `.${pad(frac, 9)}`;
  }
  return `${s} UTC`;
}
