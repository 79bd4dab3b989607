/**
 * `GET /api/v2/status` (interface spec §"Overview"; the replica's status.rs): CBOR map with the
 * DER root key (133 bytes), `impl_version`, `replica_health_status` = `healthy` and the certified
 * height (number of rounds certified since start; a probe never triggers a certification itself).
 * The body is encoded once per height. Status requests are normally answered by the front door's
 * thread (front-door-worker.ts) from the same body; this handler serves the rest (HEAD, a head
 * split across reads).
 */
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import type { EndpointResponse as Response } from './exchange.ts';
import type { ReplicaApi } from './replica-api.ts';

/**
 * The status body: CBOR (tag 55799) `{root_key, impl_version, replica_health_status, certified_height}`.
 * @param rootKeyDer the root public key, DER (133 bytes).
 */
export function statusBody(rootKeyDer: Uint8Array, implVersion: string, certifiedHeight: number): Uint8Array {
  return encodeWithSelfDescribedTag({
    root_key: rootKeyDer,
    impl_version: implVersion,
    replica_health_status: 'healthy',
    certified_height: certifiedHeight,
  } as never);
}

const cache = new WeakMap<ReplicaApi, { height: number; body: Buffer }>();

/** Writes the status response. */
export function handleStatus(replica: ReplicaApi, res: Response): void {
  let c = cache.get(replica);
  if (!c || c.height !== replica.latestCertifiedHeight) {
    const body = statusBody(replica.rootKey.publicKeyDer, replica.implVersion, replica.latestCertifiedHeight);
    c = { height: replica.latestCertifiedHeight, body: Buffer.from(body) }; // a copy: the encoder may reuse its buffer
    cache.set(replica, c);
  }
  res.statusCode = 200;
  res.setHeader('content-type', 'application/cbor');
  res.end(c.body);
}
