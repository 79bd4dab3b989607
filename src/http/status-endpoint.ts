/**
 * `GET /api/v2/status` (interface spec §"Overview"; the replica's status.rs): CBOR map with the
 * DER root key (133 bytes), `impl_version`, `replica_health_status` = `healthy` and the certified
 * height (number of rounds certified since start; a probe never triggers a certification itself).
 */
import type { EndpointResponse as Response } from './exchange.ts';
import type { ReplicaApi } from './replica-api.ts';
import { sendCbor } from './responses.ts';

/** Writes the status response. */
export function handleStatus(replica: ReplicaApi, res: Response): void {
  sendCbor(res, 200, {
    root_key: replica.rootKey.publicKeyDer,
    impl_version: replica.implVersion,
    replica_health_status: 'healthy',
    certified_height: replica.latestCertifiedHeight,
  });
}
