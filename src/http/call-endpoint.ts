/**
 * `POST /api/v2/canister/<ecid>/call` (asynchronous: 202) and `/api/v3|v4/canister/<ecid>/call`
 * (synchronous: 200 with a certificate of the request's status, or 202 after the replica's 10 s
 * timeout). Interface spec §"Request: Call"; the replica's call_async.rs / call_sync.rs.
 *
 * Order as in the replica: decode envelope → effective canister id check → authentication →
 * size check → ingress filter → induction. A refusal by the ingress filter is a
 * non-replicated rejection (200 with reject fields), not an HTTP error.
 */
import type { EndpointRequest as Request, EndpointResponse as Response } from './exchange.ts';
import { Principal } from '@icp-sdk/core/principal';
import type { ReplicaApi } from './replica-api.ts';
import { errorCodeText, IcError } from '../types/ic-error.ts';
import { authenticate, decodeEnvelope } from './decode-request.ts';
import { HttpError } from './http-error.ts';
import { sendCbor, sendText } from './responses.ts';
import { principalFromUrl } from './url-principal.ts';

/** Largest ingress message (bytes of the signed envelope), as on application subnets: 2 MiB. */
export const MAX_INGRESS_BYTES_PER_MESSAGE = 2 * 1024 * 1024;
/** How long a sync call waits for certification before answering 202 (replica default 10 s). */
export const SYNC_CALL_TIMEOUT_MS = 10_000;

const MANAGEMENT = Principal.managementCanister();

/**
 * Handles a call request.
 * @param version 2 (async), 3 or 4 (sync).
 * @throws HttpError for malformed or unauthenticated requests (mapped by the app).
 */
export async function handleCall(replica: ReplicaApi, req: Request, res: Response, version: 2 | 3 | 4): Promise<void> {
  const body = req.body;
  const ecid = principalFromUrl(String(req.params['ecid']));
  const decoded = replica.profile.time('http_envelope_auth', () => decodeEnvelope(body, 'call'));
  const canisterId = decoded.canisterId!;
  if (canisterId.compareTo(MANAGEMENT) !== 'eq' && canisterId.compareTo(ecid) !== 'eq') {
    throw new HttpError(
      400,
      `Specified CanisterId ${canisterId.toText()} does not match effective canister id in URL ${ecid.toText()}`,
    );
  }
  const env = replica.profile.time('http_envelope_auth', () => authenticate(decoded, ecid, replica.rootKey.publicKey, version, replica.timeNanos()));
  const requestId = env.requestId;
  if (body.length > MAX_INGRESS_BYTES_PER_MESSAGE) {
    throw new HttpError(
      413,
      `Request ${Buffer.from(requestId).toString('hex')} is too large. Message byte size ${body.length} is larger than the max allowed ${MAX_INGRESS_BYTES_PER_MESSAGE}.`,
    );
  }
  let accepted: 'accepted' | 'known';
  try {
    accepted = await replica.submitCall({
      requestId,
      sender: env.sender,
      canisterId,
      methodName: env.methodName!,
      arg: env.arg!,
      expiryNanos: env.ingressExpiry,
      effectiveCanisterId: ecid,
      envelopeBytes: body.length,
    });
  } catch (e) {
    if (!(e instanceof IcError)) throw e;
    const reject = { error_code: errorCodeText(e.code), reject_message: e.message, reject_code: e.rejectCode };
    sendCbor(res, 200, version === 2 ? reject : { status: 'non_replicated_rejection', ...reject });
    return;
  }
  if (version === 2) {
    res.statusCode = 202;
    res.end();
    return;
  }
  const record = await replica.waitForCompletion(requestId, SYNC_CALL_TIMEOUT_MS);
  if (!record) {
    sendText(
      res,
      202,
      accepted === 'known'
        ? 'Duplicate request. Message is already being tracked and executed.'
        : 'Message did not complete execution and certification within the replica defined timeout.',
    );
    return;
  }
  const certificate = await replica.certificateFor([['request_status', requestId]]);
  sendCbor(res, 200, { status: 'replied', certificate });
}
