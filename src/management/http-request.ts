/**
 * `http_request` (interface spec §"IC method http_request", canister HTTPS outcalls) as a test
 * server serves it: the request is checked and paid for, then handed to whoever answers outcalls
 * (a PocketIC instance, where a test mocks each response; reference/pocketic-api.md #19, #20). The
 * answer comes in a later round, like a chain-key answer. A replica with nobody to answer
 * outcalls refuses the method as not supported (it never contacts the network).
 *
 * Fee: the replica's legacy formula `(3M + 60K·n + 400·request bytes + 800·max response bytes)·n`
 * for the caller's subnet of n nodes, `max_response_bytes` defaulting to 2 MB (cycles.md
 * §"http_request"); free on system subnets and on the free cost schedule (SubnetCosts).
 */
import type { Principal } from '@icp-sdk/core/principal';
import { ErrorCode, IcError } from '../types/ic-error.ts';
import { notSupported } from './errors.ts';
import type { ManagementCall, ManagementEnv } from './management-context.ts';
import { MAX_HTTP_RESPONSE_BYTES } from '../cycles/subnet-costs.ts';

/** Longest URL (`MAX_CANISTER_HTTP_URL_SIZE`). */
export const MAX_HTTP_URL_BYTES = 8192;

/** Decoded `http_request_args` (ic.did). */
interface HttpRequestArgs {
  url: string;
  max_response_bytes: [] | [bigint];
  method: { get: null } | { post: null } | { head: null };
  headers: { name: string; value: string }[];
  body: [] | [Uint8Array];
  transform: [] | [{ function: [Principal, string]; context: Uint8Array }];
}

/**
 * `http_request` from a canister: checks, charges and hands the request on.
 * @returns true (the answer comes later).
 * @throws IcError when nobody answers outcalls (IC0406 not supported), for a URL or
 *   `max_response_bytes` over the limits, or for too few attached cycles (reject code 4).
 */
export function httpRequest(env: ManagementEnv, call: ManagementCall, arg: unknown): true {
  const a = arg as HttpRequestArgs;
  if (!env.httpRequests || !call.callback || !call.callerSubnet) throw notSupported('http_request');
  const enc = new TextEncoder();
  const urlBytes = enc.encode(a.url).length;
  if (urlBytes > MAX_HTTP_URL_BYTES) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `url size ${urlBytes} exceeds the limit of ${MAX_HTTP_URL_BYTES} bytes`);
  }
  const maxResponse = a.max_response_bytes[0];
  if (maxResponse !== undefined && maxResponse > MAX_HTTP_RESPONSE_BYTES) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `max_response_bytes=${maxResponse} must be at most ${MAX_HTTP_RESPONSE_BYTES}`);
  }
  const transform = a.transform[0];
  const body = a.body[0] ?? new Uint8Array();
  const requestBytes =
    urlBytes +
    a.headers.reduce((n, h) => n + enc.encode(h.name).length + enc.encode(h.value).length, 0) +
    body.length +
    (transform ? enc.encode(transform.function[1]).length + transform.context.length : 0);
  const fee = env.execution.costsOf(call.callerSubnet).httpRequestFee(BigInt(requestBytes), maxResponse ?? MAX_HTTP_RESPONSE_BYTES);
  if (call.payment < fee) {
    throw new IcError(ErrorCode.CanisterRejectedMessage, `http_request request sent with ${call.payment} cycles, but ${fee} cycles are required.`);
  }
  env.httpRequests.accept({
    origin: call.callback,
    subnet: call.callerSubnet,
    url: a.url,
    method: 'get' in a.method ? 'GET' : 'post' in a.method ? 'POST' : 'HEAD',
    headers: a.headers,
    body,
    ...(maxResponse !== undefined ? { maxResponseBytes: maxResponse } : {}),
    ...(transform ? { transform: { canisterId: transform.function[0], method: transform.function[1], context: transform.context } } : {}),
    refundCycles: call.payment - fee,
  });
  return true;
}
