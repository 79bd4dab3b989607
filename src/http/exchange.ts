/**
 * What an endpoint handler sees of an HTTP exchange: the route's parameters, the request body
 * (read in full, at most 5 MiB) and node's response object.
 */
import type { ServerResponse } from 'node:http';

/** A routed request with its body. */
export interface EndpointRequest {
  /** Path parameters, URL-decoded (`ecid`: the effective canister or subnet id as text). */
  readonly params: Readonly<Record<string, string>>;
  /** The whole request body. */
  readonly body: Buffer;
}

/** The response being written. */
export type EndpointResponse = ServerResponse;
