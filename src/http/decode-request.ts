/**
 * From an HTTP body to an authenticated request: CBOR decoding, envelope shape (request-envelope.ts),
 * the request id over the content as sent (spec §"Request ids"), and the replica's validation
 * (request-validator.ts: expiry, sender, signatures, delegations). Failures become HTTP 400
 * with the replica's texts.
 */
import { decode } from '@dfinity/cbor';
import { Principal } from '@icp-sdk/core/principal';
import { requestIdOf } from '../crypto/request-id.ts';
import type { Nanos } from '../types/units.ts';
import { HttpError } from './http-error.ts';
import { MalformedEnvelopeError, parseRequestEnvelope, type Envelope, type RequestType } from './request-envelope.ts';
import { RequestValidationError, validateRequest } from './request-validator.ts';

/** A decoded request whose shape is checked (not yet authenticated). */
export interface DecodedEnvelope {
  envelope: Envelope;
  requestType: RequestType;
  /** 32-byte request id. */
  requestId: Uint8Array;
  sender: Principal;
  /** nanoseconds since the epoch. */
  ingressExpiry: bigint;
  /** call/query. */
  canisterId?: Principal;
  methodName?: string;
  arg?: Uint8Array;
  /** read_state. */
  paths?: Uint8Array[][];
}

/** An authenticated request. */
export interface DecodedRequest extends DecodedEnvelope {
  /** Intersection of the delegations' targets, or undefined for no restriction. */
  delegationTargets?: Principal[];
  /** API version of the endpoint (2 or 3) — read_state authorization differs. */
  apiVersion: number;
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/**
 * Rebuilds decoded CBOR maps from their own keys only. The CBOR decoder assigns keys to plain
 * objects, so a map key `__proto__` would become the object's prototype and let absent fields be
 * read through it; the replica's deserializer treats such a key as an unknown field and ignores
 * it, which is what dropping it here does.
 */
function ownDataOnly(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(ownDataOnly);
  if (!isMap(v)) return v;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = ownDataOnly(v[k]);
  return out;
}

/**
 * Decodes and shape-checks a request body.
 * @throws HttpError 400 `Failed to deserialize cbor request: ...` or `Malformed request: ...`.
 */
export function decodeEnvelope(body: Uint8Array, requestType: RequestType): DecodedEnvelope {
  let value: unknown;
  try {
    value = ownDataOnly(decode(body));
  } catch (e) {
    throw new HttpError(400, `Failed to deserialize cbor request: ${(e as Error).message}`);
  }
  if (!isMap(value)) throw new HttpError(400, 'Failed to deserialize cbor request: invalid type: expected a map');
  const envelope = value as unknown as Envelope;
  let parsed: ReturnType<typeof parseRequestEnvelope>;
  try {
    parsed = parseRequestEnvelope(envelope, requestType);
  } catch (e) {
    if (e instanceof MalformedEnvelopeError) throw new HttpError(400, e.message);
    throw e;
  }
  const content = envelope.content as Record<string, unknown>;
  let requestId: Uint8Array;
  try {
    requestId = requestIdOf(content as never);
  } catch (e) {
    throw new HttpError(400, `Failed to deserialize cbor request: ${(e as Error).message}`);
  }
  return {
    envelope,
    requestType,
    requestId,
    sender: Principal.fromUint8Array(new Uint8Array(parsed.sender)),
    ingressExpiry: parsed.ingressExpiry,
    ...(parsed.canisterId && { canisterId: Principal.fromUint8Array(new Uint8Array(parsed.canisterId)) }),
    ...(parsed.methodName !== undefined && { methodName: parsed.methodName }),
    ...(content['arg'] instanceof Uint8Array && { arg: new Uint8Array(content['arg']) }),
    ...(parsed.paths && { paths: parsed.paths.map((p) => p.map((l) => new Uint8Array(l))) }),
  };
}

/**
 * Authenticates a decoded request (the replica's validator).
 * @param rootPublicKey 96-byte root key (for canister signatures in delegation chains).
 * @param nowNanos the replica's time (nanoseconds since the epoch) that `ingress_expiry` and
 *   delegation expiry are checked against: its clock, virtual under a test clock.
 * @throws HttpError with the validator's status (400) and text.
 */
export function authenticate(d: DecodedEnvelope, effectiveCanisterId: Principal, rootPublicKey: Uint8Array, apiVersion: number, nowNanos: Nanos): DecodedRequest {
  try {
    const v = validateRequest(d.envelope, {
      requestId: d.requestId,
      nowNanos,
      requestType: d.requestType,
      effectiveCanisterId,
      rootPublicKey,
    });
    return {
      ...d,
      apiVersion,
      ...(v.targets !== 'all' && { delegationTargets: [...v.targets].map((t) => Principal.fromText(t)) }),
    };
  } catch (e) {
    if (e instanceof RequestValidationError) throw new HttpError(e.httpStatus, e.message);
    throw e;
  }
}

/** Decodes and authenticates in one step (read_state, where no check sits between the two). */
export function decodeRequest(body: Uint8Array, requestType: RequestType, ecid: Principal, rootPublicKey: Uint8Array, apiVersion: number, nowNanos: Nanos): DecodedRequest {
  return authenticate(decodeEnvelope(body, requestType), ecid, rootPublicKey, apiVersion, nowNanos);
}
