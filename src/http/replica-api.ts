/**
 * What the HTTP interface needs of a replica (the wiring's `Replica` provides it): keys for
 * envelopes and responses, the ingress path (submit, wait), queries, certificates and the state
 * read_state authorizes against. Declared here so `http/` imports only downwards.
 */
import type { Principal } from '@icp-sdk/core/principal';
import type { RootKeyPair } from '../crypto/certificate.ts';
import type { Path } from '../crypto/hash-tree.ts';
import type { NodeKey } from '../crypto/node-key.ts';
import type { IngressMessage } from '../execution/ingress-message.ts';
import type { MessageOutcome } from '../execution/message-outcome.ts';
import type { CanisterMetadata } from '../execution/wasm/custom-sections.ts';
import type { ReplicatedState } from '../state/replicated-state.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { Nanos } from '../types/units.ts';
import type { DashboardState } from './dashboard-state.ts';

/** The replica as the HTTP endpoints use it. */
export interface ReplicaApi {
  /** The BLS root key (`/api/v2/status` `root_key`, certificates). */
  readonly rootKey: RootKeyPair;
  /** The node's Ed25519 key, which signs query responses. */
  readonly nodeKey: NodeKey;
  /** `chainkey-replica <version>` (`/api/v2/status` `impl_version`). */
  readonly implVersion: string;
  /**
   * The replica's time now (nanoseconds since the epoch; virtual under a test clock): what
   * `ingress_expiry` is checked against and query responses are stamped with.
   */
  timeNanos(): Nanos;
  /** Height of the latest certified state. */
  readonly certifiedHeight: number;
  /** Height of the latest certification, without certifying anything (status probes stay cheap). */
  readonly latestCertifiedHeight: number;
  /** Whether the ingress pool is at its bound (calls are then refused with 503). */
  ingressPoolIsFull(): boolean;
  /** Canisters and the ingress history, read by read_state's authorization. */
  readonly state: Pick<ReplicatedState, 'canister' | 'ingress'>;
  /** Phase timings (the bench's breakdown). */
  readonly profile: { time<T>(phase: string, fn: () => T): T };
  /**
   * Accepts a validated call for the next round.
   * @throws IcError when the ingress filter refuses it.
   */
  submitCall(msg: IngressMessage): Promise<'accepted' | 'known'>;
  /** The ingress record once the call completed, or undefined after `timeoutMs`. */
  waitForCompletion(requestId: Uint8Array, timeoutMs: number): Promise<IngressRecord | undefined>;
  /** Runs a query call. */
  query(sender: Principal, canisterId: Principal, methodName: string, arg: Uint8Array): Promise<MessageOutcome>;
  /** A CBOR certificate covering `paths` of the latest certified state. */
  certificateFor(paths: readonly Path[]): Promise<Uint8Array>;
  /** Where request log lines go (request-log.ts), if the request log is on. */
  readonly requestLog?: ((line: string) => void) | undefined;
  /** The canister's metadata sections by name, or undefined for an unknown or empty canister. */
  canisterMetadata(canisterId: Principal): ReadonlyMap<string, CanisterMetadata> | undefined;
  /** What `/_/dashboard` shows (subnets, nodes, keys, canisters, recent chain-key requests); no dashboard if absent. */
  dashboardState?(): DashboardState;
}
