/**
 * The management canister's threshold (chain-key) signing methods by wire name (interface spec
 * §"IC method `sign_with_ecdsa`", `sign_with_schnorr`, `vetkd_derive_key`): the methods answered in a
 * later round from a pre-signature and charged the per-key-subnet signing fee.
 */

/** The three chain-key signing methods, as `as const` data and as a union. */
export const THRESHOLD_METHODS = ['sign_with_ecdsa', 'sign_with_schnorr', 'vetkd_derive_key'] as const;
/** `sign_with_ecdsa` | `sign_with_schnorr` | `vetkd_derive_key`. */
export type ThresholdMethod = (typeof THRESHOLD_METHODS)[number];

/** Whether a management method name is one of the threshold signing methods. */
export function isThresholdMethod(method: string): method is ThresholdMethod {
  return (THRESHOLD_METHODS as readonly string[]).includes(method);
}
