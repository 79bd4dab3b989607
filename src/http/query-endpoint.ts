/**
 * `POST /api/v2|v3/canister/<ecid>/query` (interface spec §"Request: Query call"): runs the query
 * without consensus and answers with the reply or reject, signed by the node key
 * (`signatures: [{timestamp, signature, identity}]`, spec §"Query call signatures").
 */
import type { EndpointRequest as Request, EndpointResponse as Response } from './exchange.ts';
import { Principal } from '@icp-sdk/core/principal';
import { signQueryResponse } from '../crypto/node-key.ts';
import type { ReplicaApi } from './replica-api.ts';
import { authenticate, decodeEnvelope } from './decode-request.ts';
import { HttpError } from './http-error.ts';
import { sendCbor } from './responses.ts';
import { principalFromUrl } from './url-principal.ts';

const MANAGEMENT = Principal.managementCanister();

/**
 * Handles a query request.
 * @throws HttpError for malformed or unauthenticated requests.
 */
export async function handleQuery(replica: ReplicaApi, req: Request, res: Response): Promise<void> {
  const ecid = principalFromUrl(String(req.params['ecid']));
  const decoded = decodeEnvelope(req.body, 'query');
  const canisterId = decoded.canisterId!;
  if (canisterId.compareTo(MANAGEMENT) !== 'eq' && canisterId.compareTo(ecid) !== 'eq') {
    throw new HttpError(
      400,
      `Specified CanisterId ${canisterId.toText()} does not match effective canister id in URL ${ecid.toText()}`,
    );
  }
  const env = authenticate(decoded, ecid, replica.rootKey.publicKey, 3, replica.timeNanos());
  const requestId = env.requestId;
  const outcome = await replica.query(env.sender, canisterId, env.methodName!, env.arg!);
  // Stamped with the replica's time, which agents compare with their clock synced to `/time`.
  const timestamp = replica.timeNanos();
  const response =
    outcome.kind === 'replied'
      ? { status: 'replied' as const, reply: { arg: outcome.reply } }
      : {
          status: 'rejected' as const,
          reject_code: outcome.rejectCode,
          reject_message: outcome.rejectMessage,
          error_code: outcome.errorCode,
        };
  const signature = signQueryResponse(replica.nodeKey, response, requestId, timestamp);
  sendCbor(res, 200, { ...response, signatures: [signature] });
}
