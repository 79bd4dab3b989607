/**
 * Builds the `/_/dashboard` state (http/dashboard-state.ts) from a replica's parts: the topology's
 * subnets with the threshold protocol's simulated nodes and their injected faults, the master keys
 * with their key transcripts and pre-signature pools, the canisters with their balances, and the
 * chain-key requests answered recently (kept in memory by {@link RecentChainKeyRequests}; a
 * restart starts the list empty). Reads only public artefacts: no share ever reaches it.
 */
import type { ThresholdNetwork } from './consensus/idkg/threshold-network.ts';
import { FaultBehaviour } from './consensus/idkg/faults.ts';
import type { DashboardNode, DashboardRequest, DashboardState } from './http/dashboard-state.ts';
import type { RoutingTable } from './routing/routing-table.ts';
import type { MasterKey } from './state/master-keys.ts';
import type { ReplicatedState } from './state/replicated-state.ts';
import type { ChainKeyResponse } from './state/subnet-call-context-manager.ts';
import { principalText } from './types/principal-text.ts';

/** How many answered chain-key requests the dashboard lists. */
export const RECENT_REQUESTS = 50;

/** The last {@link RECENT_REQUESTS} answered chain-key requests, newest first. */
export class RecentChainKeyRequests {
  readonly #items: DashboardRequest[] = [];

  /** Records a round's answers (answered at `nowNanos`, ns since the epoch). */
  record(responses: readonly ChainKeyResponse[], nowNanos: bigint): void {
    for (const { context: c, result } of responses) {
      this.#items.unshift({
        id: c.callbackId,
        method: c.method,
        keyId: c.keyId,
        caller: principalText(c.origin.caller),
        feeCycles: c.feeCycles?.toString() ?? null,
        outcome: result.kind === 'signature' ? 'signed' : 'rejected',
        ...(result.kind === 'reject' && { reject: result.reject.message }),
        acceptedNanos: c.batchTimeNanos.toString(),
        answeredNanos: nowNanos.toString(),
      });
    }
    if (this.#items.length > RECENT_REQUESTS) this.#items.length = RECENT_REQUESTS;
  }

  /** The recorded requests, newest first. */
  list(): DashboardRequest[] {
    return [...this.#items];
  }
}

/** What the dashboard reads of a replica. */
export interface DashboardSource {
  implVersion: string;
  certifiedHeight: number;
  lastRoundNanos: bigint;
  routing: RoutingTable;
  threshold: ThresholdNetwork;
  masterKeys: ReadonlyMap<string, MasterKey>;
  state: Pick<ReplicatedState, 'canisters' | 'subnetCallContexts'>;
  recentRequests: RecentChainKeyRequests;
}

function nodeState(behaviours: ReadonlySet<string>): DashboardNode['state'] {
  if (behaviours.has(FaultBehaviour.crashed)) return 'crashed';
  if (behaviours.has(FaultBehaviour.slow)) return 'slow';
  return behaviours.size > 0 ? 'byzantine' : 'live';
}

/** The dashboard state of a replica now. */
export function dashboardState(r: DashboardSource): DashboardState {
  const status = new Map(r.threshold.status().map((s) => [s.keyId, s]));
  const subnetName = new Map(r.routing.subnets.map((s) => [s.subnetId.toText(), s.name]));
  return {
    implVersion: r.implVersion,
    certifiedHeight: r.certifiedHeight,
    timeNanos: r.lastRoundNanos.toString(),
    subnets: r.routing.subnets.map((s) => {
      const idkg = r.threshold.subnets.get(s.name);
      return {
        name: s.name,
        subnetId: s.subnetId.toText(),
        kind: s.kind,
        size: s.size,
        nodes: (idkg?.nodes ?? []).map((n) => ({ id: n.id, state: nodeState(n.behaviours), behaviours: [...n.behaviours].sort() })),
        stalled: idkg?.stalled ?? false,
      };
    }),
    keys: [...r.masterKeys.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([keyId, k]) => {
        const st = status.get(keyId);
        return {
          keyId,
          subnet: k.subnet.name,
          nodes: k.transcript.receivers,
          threshold: k.transcript.threshold,
          transcriptId: k.transcript.transcriptId,
          publicKey: Buffer.from(k.publicKey).toString('hex'),
          lastReshareNanos: k.transcript.resharedAtNanos?.toString() ?? null,
          pool: st ? { ready: st.preSignatures, inCreation: st.preSignaturesInCreation, target: st.poolTarget } : null,
        };
      }),
    canisters: [...r.state.canisters()].map((c) => ({
      canisterId: c.canisterId.toText(),
      subnet: subnetName.get(c.subnetId.toText()) ?? c.subnetId.toText(),
      cycles: c.cycles.toString(),
      status: c.status,
      hasCode: c.moduleHash !== null,
    })),
    requests: r.recentRequests.list(),
    requestsInFlight: r.state.subnetCallContexts.size,
  };
}
