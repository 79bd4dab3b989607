/**
 * Domain separators of the interface spec: `ds(s) = byte(|s|) · s` (spec §"Certificate",
 * `domain_sep`). Every signature the IC makes or checks is over `ds(purpose) · message`, so the
 * same bytes can never be valid for two purposes. Pure; the constants are precomputed.
 */

const encoder = new TextEncoder();

/**
 * `byte(|s|) · s` for an ASCII purpose string `s` of at most 255 bytes.
 * @throws RangeError if `s` encodes to more than 255 bytes.
 */
export function domainSeparator(s: string): Uint8Array {
  const bytes = encoder.encode(s);
  if (bytes.length > 255) throw new RangeError(`domain separator too long: ${bytes.length} bytes`);
  const out = new Uint8Array(bytes.length + 1);
  out[0] = bytes.length;
  out.set(bytes, 1);
  return out;
}

/** `\x0Aic-request` (11 bytes): prefix of the bytes a sender signs, before the request id (spec §"Authentication"). */
export const IC_REQUEST = domainSeparator('ic-request');
/** `\x1Aic-request-auth-delegation` (27 bytes): prefix of a signed delegation's hash (spec §"Authentication"). */
export const IC_REQUEST_AUTH_DELEGATION = domainSeparator('ic-request-auth-delegation');
/** `\x0Bic-response` (12 bytes): prefix of a node's query response signature (spec §"Query call"). */
export const IC_RESPONSE = domainSeparator('ic-response');
/** `\x0Dic-state-root` (14 bytes): prefix of the root hash a certificate signs (spec §"Certificate"). */
export const IC_STATE_ROOT = domainSeparator('ic-state-root');

/** Concatenates byte arrays into one new array. */
export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}
