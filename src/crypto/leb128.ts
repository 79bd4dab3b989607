/**
 * LEB128, the integer encoding of representation-independent hashing (spec
 * §"Representation-independent hashing of structured data") and of numbers stored in the
 * certified state tree (spec §"Certificate": "natural numbers are leb128-encoded"). Shortest
 * form only: `0` is `[0x00]`, 624485 is `[0xE5, 0x8E, 0x26]`, -123456 is `[0xC0, 0xBB, 0x78]`.
 */

/**
 * Unsigned LEB128 of a natural number.
 * @param n a non-negative safe integer or bigint.
 * @returns 1 or more bytes, shortest form.
 * @throws RangeError if `n` is negative, or a number that is not a safe integer.
 */
export function encodeUleb128(n: number | bigint): Uint8Array {
  let v = toBigInt(n);
  if (v < 0n) throw new RangeError(`ULEB128 needs a natural number, got ${v}`);
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v !== 0n) byte |= 0x80;
    out.push(byte);
  } while (v !== 0n);
  return Uint8Array.from(out);
}

/**
 * Signed LEB128 (two's complement) of an integer.
 * @param n a safe integer or bigint.
 * @returns 1 or more bytes, shortest form.
 * @throws RangeError if `n` is a number that is not a safe integer.
 */
export function encodeSleb128(n: number | bigint): Uint8Array {
  let v = toBigInt(n);
  const out: number[] = [];
  for (;;) {
    const byte = Number(v & 0x7fn);
    v >>= 7n; // arithmetic shift for bigint
    const signBitSet = (byte & 0x40) !== 0;
    if ((v === 0n && !signBitSet) || (v === -1n && signBitSet)) {
      out.push(byte);
      return Uint8Array.from(out);
    }
    out.push(byte | 0x80);
  }
}

/**
 * Decodes an unsigned LEB128 value that spans the whole input (as a certified `/time` leaf does).
 * @returns the value as bigint.
 * @throws RangeError if the input is empty, truncated, or has bytes after the last group.
 */
export function decodeUleb128(bytes: Uint8Array): bigint {
  let result = 0n;
  let shift = 0n;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    result |= BigInt(b & 0x7f) << shift;
    shift += 7n;
    if ((b & 0x80) === 0) {
      if (i !== bytes.length - 1) throw new RangeError('ULEB128: trailing bytes after the last group');
      return result;
    }
  }
  throw new RangeError('ULEB128: truncated input');
}

function toBigInt(n: number | bigint): bigint {
  if (typeof n === 'bigint') return n;
  if (!Number.isSafeInteger(n)) throw new RangeError(`LEB128 needs an integer, got ${n}`);
  return BigInt(n);
}
