/**
 * Representation-independent hashing of structured data (spec §"Representation-independent
 * hashing of structured data") and request ids (spec §"Request ids"). Works on values as they
 * come out of CBOR decoding of an envelope: `Uint8Array` = blob (hashed as is), `string` = text
 * (UTF-8), non-negative `number`/`bigint` = nat (ULEB128), negative = int (SLEB128), array =
 * `H(concat of H(elem))`, plain object or `Map` = nested map (recursive). `undefined` fields
 * count as absent, like omitted optional fields. SHA-256 throughout.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { concatBytes } from './domain-separator.ts';
import { encodeSleb128, encodeUleb128 } from './leb128.ts';

/** A value that can be hashed: what a CBOR decoder yields for envelope content. */
export type HashableValue =
  | Uint8Array
  | string
  | number
  | bigint
  | readonly HashableValue[]
  | HashableMap;
/** A map of field name to value; `undefined` values are treated as absent fields. */
export type HashableMap =
  | { readonly [key: string]: HashableValue | undefined }
  | ReadonlyMap<string, HashableValue | undefined>;

/** A request id: the 32-byte representation-independent hash of a request's `content` map. */
export type RequestId = Uint8Array & { readonly __brand: 'RequestId' };

const encoder = new TextEncoder();

/**
 * Hash of one field value (spec §"Representation-independent hashing", "Field values are
 * hashed as follows").
 * @returns 32 bytes.
 * @throws TypeError for values of other types (boolean, null, float, class instances other
 *   than Uint8Array/Map); RangeError for non-integer numbers.
 */
export function hashValue(value: HashableValue): Uint8Array {
  if (value instanceof Uint8Array) return sha256(value);
  if (typeof value === 'string') return sha256(encoder.encode(value));
  if (typeof value === 'number' || typeof value === 'bigint') {
    const negative = typeof value === 'bigint' ? value < 0n : value < 0;
    return sha256(negative ? encodeSleb128(value) : encodeUleb128(value));
  }
  if (Array.isArray(value)) {
    return sha256(concatBytes(...(value as readonly HashableValue[]).map(hashValue)));
  }
  if (value instanceof Map || isPlainObject(value)) return hashOfMap(value as HashableMap);
  throw new TypeError(`cannot hash a value of type ${describe(value)}`);
}

/**
 * `hash_of_map`: for each present field `H(key) · H(value)`, sorted bytewise, concatenated,
 * hashed (spec §"Representation-independent hashing of structured data").
 * @param map a plain object or `Map` of field name to value.
 * @returns 32 bytes.
 * @throws TypeError / RangeError as `hashValue` for unhashable field values.
 */
export function hashOfMap(map: HashableMap): Uint8Array {
  const entries: [string, HashableValue | undefined][] =
    map instanceof Map ? [...map.entries()] : Object.entries(map);
  const pairs: Uint8Array[] = [];
  for (const [key, value] of entries) {
    if (value === undefined) continue;
    pairs.push(concatBytes(sha256(encoder.encode(key)), hashValue(value)));
  }
  pairs.sort(compareBytes);
  return sha256(concatBytes(...pairs));
}

/**
 * The request id of an envelope's `content` map (spec §"Request ids").
 * @param content the decoded `content` map (all fields it carries, including any the replica
 *   does not know, e.g. `sender_info`, are hashed).
 * @returns the 32-byte request id.
 * @throws as `hashOfMap`.
 */
export function requestIdOf(content: HashableMap): RequestId {
  return hashOfMap(content) as RequestId;
}

/** Lexicographic byte comparison: negative if `a < b`, 0 if equal, positive if `a > b`. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object') return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'object';
  return typeof v;
}
