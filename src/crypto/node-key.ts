/**
 * The emulated node's Ed25519 signing key and query response signatures (spec §"Query call":
 * "signatures"; dfinity/ic `QueryResponseHash` in `rs/types/types/src/messages/http.rs`).
 * A node signs `"\x0Bic-response" · hash_of_map(response)` where the map is
 * `{status: "replied", reply: {arg}, timestamp, request_id}` or
 * `{status: "rejected", reject_code, reject_message, error_code, timestamp, request_id}`.
 * Agents find the key at `/subnet/<subnet_id>/node/<node_id>/public_key` (DER, 44 bytes).
 *
 * Pure: the key is derived from a caller-supplied 32-byte seed.
 */

import { createPrivateKey, createPublicKey, sign as nodeSign, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { IC_RESPONSE, concatBytes } from './domain-separator.ts';
import { hashOfMap } from './request-id.ts';
import { selfAuthenticatingPrincipal } from './public-key.ts';
import type { Nanos } from '../types/units.ts';

/** PKCS#8 v1 prefix of an Ed25519 private key (16 bytes; the 32-byte seed follows), RFC 8410. */
const PKCS8_ED25519_PREFIX = Uint8Array.from(Buffer.from('302e020100300506032b657004220420', 'hex'));

/** A node's signing key. */
export interface NodeKey {
  /** The RFC 8032 seed, 32 bytes. */
  readonly seed: Uint8Array;
  /** SubjectPublicKeyInfo DER of the public key, 44 bytes. */
  readonly publicKeyDer: Uint8Array;
  /** Raw Ed25519 public key, 32 bytes. */
  readonly publicKey: Uint8Array;
  /** The node id: self-authenticating principal of `publicKeyDer`, 29 bytes. */
  readonly nodeId: Uint8Array;
  /** @internal the key object used for signing. */
  readonly privateKey: KeyObject;
}

/**
 * Derives a node key from a seed.
 * @param seed 32 bytes (RFC 8032 private key).
 * @throws RangeError if `seed` is not 32 bytes.
 */
export function nodeKeyFromSeed(seed: Uint8Array): NodeKey {
  if (seed.length !== 32) throw new RangeError(`node key seed must be 32 bytes, got ${seed.length}`);
  const privateKey = createPrivateKey({
    key: Buffer.from(concatBytes(PKCS8_ED25519_PREFIX, seed)),
    format: 'der',
    type: 'pkcs8',
  });
  const publicKeyDer = new Uint8Array(createPublicKey(privateKey).export({ format: 'der', type: 'spki' }));
  return {
    seed: Uint8Array.from(seed),
    publicKeyDer,
    publicKey: publicKeyDer.slice(12),
    nodeId: selfAuthenticatingPrincipal(publicKeyDer),
    privateKey,
  };
}

/** A query response as the replica returns it (without the signatures). */
export type QueryResponse =
  | { readonly status: 'replied'; readonly reply: { readonly arg: Uint8Array } }
  | {
      readonly status: 'rejected';
      /** Reject code 1–6. */
      readonly reject_code: number;
      readonly reject_message: string;
      /** The replica's error code, e.g. `IC0503`. */
      readonly error_code: string;
    };

/** One entry of a query response's `signatures` array. */
export interface NodeSignature {
  /** Nanoseconds since the epoch at which the node signed. */
  readonly timestamp: Nanos;
  /** Ed25519 signature, 64 bytes. */
  readonly signature: Uint8Array;
  /** The node id, 29 bytes. */
  readonly identity: Uint8Array;
}

/**
 * The 32-byte hash a node signs for a query response (`QueryResponseHash`).
 * @param requestId the query's request id, 32 bytes.
 * @param timestamp signing time, nanoseconds.
 */
export function queryResponseHash(response: QueryResponse, requestId: Uint8Array, timestamp: Nanos): Uint8Array {
  if (response.status === 'replied') {
    return hashOfMap({ status: 'replied', reply: { arg: response.reply.arg }, timestamp, request_id: requestId });
  }
  return hashOfMap({
    status: 'rejected',
    reject_code: response.reject_code,
    reject_message: response.reject_message,
    error_code: response.error_code,
    timestamp,
    request_id: requestId,
  });
}

/**
 * Signs a query response: Ed25519 over `"\x0Bic-response" · queryResponseHash(...)`.
 * @param requestId the query's request id, 32 bytes.
 * @param timestamp signing time in nanoseconds (the caller's clock; `crypto/` has none).
 * @returns the `signatures` entry to send.
 */
export function signQueryResponse(
  key: NodeKey,
  response: QueryResponse,
  requestId: Uint8Array,
  timestamp: Nanos,
): NodeSignature {
  const message = concatBytes(IC_RESPONSE, queryResponseHash(response, requestId, timestamp));
  const signature = new Uint8Array(nodeSign(null, message, key.privateKey));
  return { timestamp, signature, identity: key.nodeId };
}

/**
 * Verifies a query response signature against a node's DER public key.
 * @param publicKeyDer Ed25519 SubjectPublicKeyInfo, 44 bytes.
 * @returns whether the signature verifies.
 */
export function verifyQueryResponseSignature(
  publicKeyDer: Uint8Array,
  response: QueryResponse,
  requestId: Uint8Array,
  sig: NodeSignature,
): boolean {
  const message = concatBytes(IC_RESPONSE, queryResponseHash(response, requestId, sig.timestamp));
  try {
    const key = createPublicKey({ key: Buffer.from(publicKeyDer), format: 'der', type: 'spki' });
    return nodeVerify(null, message, key, sig.signature);
  } catch {
    return false;
  }
}
