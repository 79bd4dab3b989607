/**
 * A principal's textual form (interface spec §"Textual representation of principals": CRC-32,
 * base32, dash groups), computed once per Principal object. The replica's maps are keyed by
 * canister id text, and `Principal.toText` recomputes the checksum and encoding on every call:
 * 4-7% of the main thread under load went to it. Principal objects are immutable, so the text of
 * one object never changes; the cache holds it weakly (it goes with the object).
 */
import type { Principal } from '@icp-sdk/core/principal';

const texts = new WeakMap<Principal, string>();

/** `p.toText()`, remembered per object (e.g. `rwlgt-iiaaa-aaaaa-aaaaa-cai`). */
export function principalText(p: Principal): string {
  let t = texts.get(p);
  if (t === undefined) {
    t = p.toText();
    texts.set(p, t);
  }
  return t;
}
