/**
 * `GET /api/v2/status` (interface spec §"Overview"; the replica's status.rs): CBOR map with the
 * DER root key (133 bytes), `impl_version`, `replica_health_status` = `healthy` and the certified
 * height (number of rounds certified since start; a probe never triggers a certification itself).
 */
import type { Response } from 'express';
import type { Replica } from '../replica.ts';
import { sendCbor } from './responses.ts';
import { IMPL_VERSION } from '../version.ts';

/** Writes the status response. */
export function handleStatus(replica: Replica, res: Response): void {
  sendCbor(res, 200, {
    root_key: replica.rootKey.publicKeyDer,
    impl_version: IMPL_VERSION,
    replica_health_status: 'healthy',
    certified_height: replica.latestCertifiedHeight,
  });
}
