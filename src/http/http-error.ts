/**
 * An HTTP-level refusal of a request (spec §"HTTP interface": malformed envelopes and failed
 * validation are answered with 4xx and a plain-text body, not with a reject).
 */

/** A 4xx (or 5xx for host faults) answer with a plain-text message. */
export class HttpError extends Error {
  readonly status: number;

  /**
   * @param status HTTP status code, e.g. 400.
   * @param message the plain-text body, naming what is wrong.
   */
  constructor(status: number, message: string) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
  }
}
