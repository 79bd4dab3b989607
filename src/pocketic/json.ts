/**
 * JSON as the PocketIC server speaks it (serde_json): u64 and u128 values are bare digits, both in
 * requests (PicJS sends `{"nanos_since_epoch":1893456000000000000}` through json-with-bigint) and
 * in responses. `JSON.parse` alone rounds such numbers to doubles, so integers outside the safe
 * range are read from their source text (the reviver's `context.source`, Node ≥ 21) as bigints,
 * and bigints are written back as raw JSON digits (`JSON.rawJSON`).
 */

type Reviver = (this: unknown, key: string, value: unknown, context?: { source?: string }) => unknown;
const jsonWithRaw = JSON as unknown as { rawJSON(text: string): unknown; parse(text: string, reviver: Reviver): unknown };

/**
 * Parses JSON text; integers beyond ±(2^53 − 1) become bigints (exact), all else as `JSON.parse`.
 * @throws SyntaxError for malformed JSON.
 */
export function parseJson(text: string): unknown {
  return jsonWithRaw.parse(text, (_key, value, context) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source && /^-?\d+$/.test(context.source)) {
      return BigInt(context.source);
    }
    return value;
  });
}

/** Serialises a value to JSON, bigints as bare digits (u64/u128 as serde_json writes them). */
export function stringifyJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? jsonWithRaw.rawJSON(v.toString()) : v));
}

/**
 * Reads a non-negative integer field (number or bigint) as a bigint.
 * @throws TypeError naming the field when it is missing, negative or not an integer.
 */
export function uintField(obj: unknown, field: string): bigint {
  const v = (obj as Record<string, unknown> | null)?.[field];
  if (typeof v === 'bigint' && v >= 0n) return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new TypeError(`expected a non-negative integer in field "${field}"`);
}
