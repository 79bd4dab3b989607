/**
 * The ingress pool is at its bound (the replica's `IngressPoolThrottler::exceeds_threshold`:
 * messages accepted and not yet taken into a round, by count and by bytes). HTTP answers it with
 * 503 and the replica's text, {@link INGRESS_POOL_OVERLOADED}; it is not an IC reject (nothing was
 * accepted, no reject code).
 */

/** The replica's HTTP 503 text when its ingress pool is full (rs/http_endpoints/public). */
export const INGRESS_POOL_OVERLOADED = 'Service is overloaded, try again later.';

/** Thrown by `Replica.submitCall` when a call would enter a full ingress pool. */
export class IngressPoolFull extends Error {
  constructor() {
    super(INGRESS_POOL_OVERLOADED);
    this.name = 'IngressPoolFull';
  }
}
