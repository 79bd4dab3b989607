/**
 * Canister ids as the replica allocates them (spec §"Principals": opaque ids; the replica uses
 * 10 bytes: a big-endian u64 index followed by 0x01 0x01). Ranges of ids are inclusive
 * `[start, end]` pairs compared by that index.
 */
import { Principal } from '@icp-sdk/core/principal';

/** The two trailing bytes of every replica-allocated canister id. */
const CANISTER_ID_SUFFIX = [0x01, 0x01] as const;

/** True if `p` has the replica's canister id shape (10 bytes ending in 0x01 0x01). */
export function isCanisterIdShape(p: Principal): boolean {
  const b = p.toUint8Array();
  return b.length === 10 && b[8] === CANISTER_ID_SUFFIX[0] && b[9] === CANISTER_ID_SUFFIX[1];
}

/**
 * The u64 index of a canister id.
 * @throws RangeError if `p` is not a 10-byte canister id.
 */
export function canisterIndexOf(p: Principal): bigint {
  if (!isCanisterIdShape(p)) throw new RangeError(`${p.toText()} is not a canister id`);
  const b = p.toUint8Array();
  let n = 0n;
  for (let i = 0; i < 8; i++) n = (n << 8n) | BigInt(b[i]!);
  return n;
}

/**
 * The canister id with u64 index `n`.
 * @throws RangeError if n is outside [0, 2^64).
 */
export function canisterIdFromIndex(n: bigint): Principal {
  if (n < 0n || n >= 1n << 64n) throw new RangeError(`canister index ${n} out of range`);
  const b = new Uint8Array(10);
  let x = n;
  for (let i = 7; i >= 0; i--) {
    b[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  b[8] = CANISTER_ID_SUFFIX[0];
  b[9] = CANISTER_ID_SUFFIX[1];
  return Principal.fromUint8Array(b);
}

/** An inclusive range of canister ids, by index. */
export interface CanisterIdRange {
  start: Principal;
  end: Principal;
}

/** True if canister `id` lies in `range` (both ends inclusive). */
export function rangeContains(range: CanisterIdRange, id: Principal): boolean {
  if (!isCanisterIdShape(id)) return false;
  const i = canisterIndexOf(id);
  return canisterIndexOf(range.start) <= i && i <= canisterIndexOf(range.end);
}
