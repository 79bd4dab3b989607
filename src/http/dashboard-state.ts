/**
 * The JSON body of `GET /_/dashboard/state`: what the dashboard page shows. Plain JSON (cycles,
 * nanoseconds and other 64-bit numbers as decimal strings) so the page needs no parsing help.
 * The wiring builds it (src/dashboard.ts); `http/` only serves it.
 */

/** A simulated node of a subnet running the threshold protocol. */
export interface DashboardNode {
  /** Node id, `<subnet name>/<index>`. */
  id: string;
  /** `live`, or the injected fault: `crashed`, `slow`, `byzantine` (reference idkg.md §5.5). */
  state: 'live' | 'crashed' | 'slow' | 'byzantine';
  /** The fault behaviours (faults.ts names), empty for an honest node. */
  behaviours: string[];
}

/** A subnet of the topology. */
export interface DashboardSubnet {
  name: string;
  /** Subnet id, principal text. */
  subnetId: string;
  kind: string;
  /** Declared size (sets the fees). */
  size: number;
  /** Simulated nodes running the threshold protocol (empty for a subnet without threshold keys). */
  nodes: DashboardNode[];
  /** f + 1 or more nodes down: no new pre-signatures. */
  stalled: boolean;
}

/** A master key with its current key transcript and pre-signature pool. */
export interface DashboardKey {
  /** Key id text, e.g. `ecdsa:Secp256k1:test_key_1`. */
  keyId: string;
  /** Name of the holding subnet. */
  subnet: string;
  /** Receivers of the key transcript (n) and its reconstruction threshold (t = f + 1). */
  nodes: number;
  threshold: number;
  transcriptId: string;
  /** Public key, hex (33 bytes compressed SEC1 or 32 bytes Ed25519; vetKD: 96 bytes G2). */
  publicKey: string;
  /** Last reshare, ns since the epoch as a decimal string; null if never reshared. */
  lastReshareNanos: string | null;
  /** Pre-signature pool: ready, in creation, target; null for keys without a pool (vetKD). */
  pool: { ready: number; inCreation: number; target: number } | null;
}

/** A canister and its balance. */
export interface DashboardCanister {
  canisterId: string;
  subnet: string;
  /** Cycles, decimal string. */
  cycles: string;
  status: string;
  /** Whether it has code installed. */
  hasCode: boolean;
}

/** A chain-key request answered recently (newest first in {@link DashboardState.requests}). */
export interface DashboardRequest {
  /** Callback id (unique per accepted request). */
  id: number;
  /** `sign_with_ecdsa`, `sign_with_schnorr` or `vetkd_derive_key`. */
  method: string;
  keyId: string;
  /** Calling canister, principal text. */
  caller: string;
  /** Fee charged, cycles as a decimal string; null for requests stored before fees were recorded. */
  feeCycles: string | null;
  /** `signed` (signature or key delivered) or `rejected`. */
  outcome: 'signed' | 'rejected';
  /** Reject text, for `rejected`. */
  reject?: string;
  /** Accepted and answered, ns since the epoch (decimal strings). */
  acceptedNanos: string;
  answeredNanos: string;
}

/** The whole dashboard state. */
export interface DashboardState {
  implVersion: string;
  certifiedHeight: number;
  /** Time of the latest round, ns since the epoch (decimal string). */
  timeNanos: string;
  subnets: DashboardSubnet[];
  keys: DashboardKey[];
  canisters: DashboardCanister[];
  requests: DashboardRequest[];
  /** Chain-key requests accepted and not yet answered. */
  requestsInFlight: number;
}
