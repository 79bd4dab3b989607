/**
 * `POST /api/v2|v3/canister/<ecid>/read_state` and `/api/v2|v3/subnet/<id>/read_state`
 * (interface spec §"Request: Read state"): authorizes each requested path as the replica does
 * (dfinity/ic `rs/http_endpoints/public/src/read_state.rs`), then answers with a certificate of
 * the latest certified state pruned to those paths plus `/time`.
 */
import type { EndpointRequest as Request, EndpointResponse as Response } from './exchange.ts';
import { Principal } from '@icp-sdk/core/principal';
import type { ReplicaApi } from './replica-api.ts';
import { decodeRequest, type DecodedRequest } from './decode-request.ts';
import { HttpError } from './http-error.ts';
import { sendCbor } from './responses.ts';
import { principalFromUrl } from './url-principal.ts';

const dec = new TextDecoder('utf-8', { fatal: true });
const text = (b: Uint8Array | undefined): string | undefined => {
  if (b === undefined) return undefined;
  try {
    return dec.decode(b);
  } catch {
    return undefined;
  }
};

const invalidPath = (): HttpError => new HttpError(404, 'Invalid path requested.');

function principalLabel(b: Uint8Array): Principal {
  if (b.length > 29) throw new HttpError(400, `Could not parse principal ID: Bytes is longer than 29 bytes..`);
  return Principal.fromUint8Array(new Uint8Array(b));
}

/**
 * Checks the paths against the replica's rules for the given target.
 * @throws HttpError 400/403/404 with the replica's texts.
 */
function authorizePaths(replica: ReplicaApi, req: DecodedRequest, target: 'canister' | 'subnet', ecid: Principal): void {
  let requestId: Uint8Array | undefined;
  for (const path of req.paths!) {
    const [head, ...rest] = path;
    const h = text(head);
    switch (h) {
      case 'time':
        if (rest.length !== 0) throw invalidPath();
        break;
      case 'subnet': {
        if (rest.length === 0) break;
        principalLabel(rest[0]!);
        const sub = text(rest[1]);
        if (rest.length === 1) break;
        if (sub === 'public_key' || sub === 'type') {
          if (rest.length !== 2) throw invalidPath();
        } else if (sub === 'canister_ranges') {
          if (rest.length !== 2) throw invalidPath();
        } else if (sub === 'node') {
          if (rest.length > 4) throw invalidPath();
          if (rest.length >= 3) principalLabel(rest[2]!);
          if (rest.length === 4 && text(rest[3]) !== 'public_key') throw invalidPath();
        } else if (sub === 'metrics') {
          if (target !== 'subnet' || rest.length !== 2) throw invalidPath();
          const sid = principalLabel(rest[0]!);
          if (sid.compareTo(ecid) !== 'eq') {
            throw new HttpError(400, `Effective principal id in URL ${ecid.toText()} does not match requested principal id: ${sid.toText()}.`);
          }
        } else {
          throw invalidPath();
        }
        break;
      }
      case 'canister_ranges':
        if (target !== 'subnet' || rest.length !== 1) throw invalidPath();
        principalLabel(rest[0]!);
        break;
      case 'canister': {
        if (target !== 'canister' || rest.length < 2) throw invalidPath();
        const cid = principalLabel(rest[0]!);
        const leaf = text(rest[1]);
        if (leaf === 'module_hash' || leaf === 'controllers') {
          if (rest.length !== 2) throw invalidPath();
        } else if (leaf === 'metadata') {
          if (rest.length !== 3) throw invalidPath();
          const name = text(rest[2]);
          if (name === undefined) throw new HttpError(400, 'Could not parse the custom section name: invalid utf-8 sequence.');
          if (cid.compareTo(ecid) === 'eq') {
            const section = replica.canisterMetadata(cid)?.get(name);
            const c = replica.state.canister(cid);
            if (section?.visibility === 'private' && !c?.controllers.some((p) => p.compareTo(req.sender) === 'eq')) {
              throw new HttpError(403, `Custom section ${name.slice(0, 100)} can only be requested by the controllers of the canister.`);
            }
          }
        } else {
          throw invalidPath();
        }
        if (cid.compareTo(ecid) !== 'eq') {
          throw new HttpError(400, `Effective principal id in URL ${ecid.toText()} does not match requested principal id: ${cid.toText()}.`);
        }
        break;
      }
      case 'request_status': {
        if (target === 'subnet' && req.apiVersion === 2) throw invalidPath();
        if (rest.length < 1 || rest.length > 2) throw invalidPath();
        if (rest.length === 2 && !['status', 'reply', 'reject_code', 'reject_message', 'error_code'].includes(text(rest[1]) ?? '')) {
          throw invalidPath();
        }
        const rid = rest[0]!;
        if (rid.length !== 32) throw new HttpError(400, 'Invalid request id in paths. Maybe the request ID is not of 32 bytes in length?!');
        if (requestId && Buffer.compare(Buffer.from(requestId), Buffer.from(rid)) !== 0) {
          throw new HttpError(
            400,
            `More than one non-unique request ID exists in request_status paths: ${Buffer.from(requestId).toString('hex')} and ${Buffer.from(rid).toString('hex')}.`,
          );
        }
        requestId = rid;
        const entry = replica.state.ingress(rid);
        if (entry) {
          if (Buffer.compare(Buffer.from(entry.sender), Buffer.from(req.sender.toUint8Array())) !== 0) {
            throw new HttpError(403, 'The user tries to access Request ID not signed by the caller.');
          }
          if (req.delegationTargets && !req.delegationTargets.some((t) => Buffer.compare(Buffer.from(t.toUint8Array()), Buffer.from(entry.canisterId)) === 0)) {
            throw new HttpError(403, 'The user tries to access request IDs for canisters not belonging to sender delegation targets.');
          }
        }
        break;
      }
      default:
        throw invalidPath();
    }
  }
}

/**
 * Handles a read_state request.
 * @param target `canister` for `/canister/<id>/read_state`, `subnet` for `/subnet/<id>/read_state`.
 * @param apiVersion 2 or 3 (v3 refuses request_status on the subnet endpoint only for v2, as the replica).
 */
export async function handleReadState(
  replica: ReplicaApi,
  req: Request,
  res: Response,
  target: 'canister' | 'subnet',
  apiVersion: 2 | 3,
): Promise<void> {
  const ecid = principalFromUrl(String(req.params['ecid']));
  const decoded = decodeRequest(req.body, 'read_state', ecid, replica.rootKey.publicKey, apiVersion, replica.timeNanos());
  authorizePaths(replica, decoded, target, ecid);
  const certificate = await replica.certificateFor(decoded.paths!.map((p) => [...p]));
  sendCbor(res, 200, { certificate });
}
