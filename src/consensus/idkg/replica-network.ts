/**
 * Wires the threshold protocol suite into a replica: one simulated subnet per key-holding subnet
 * of the topology (n from the topology's `nodes`, else `--nodes`, else 1; faults likewise), the
 * store adapter (shares as key_shares rows, pre-signature records), key generation at first
 * start for ECDSA and Schnorr keys, and registration of stored keys (restoring shares and
 * pools; resharing a key whose stored receivers are not its subnet's nodes — XNet or resized).
 */
import { KeyAlgorithm, keyIdText, type MasterKeyId } from '../../routing/key-id.ts';
import type { RoutingTable } from '../../routing/routing-table.ts';
import type { FaultSpec, Subnet } from '../../routing/topology.ts';
import type { KeyTranscript } from '../../crypto/threshold/key-transcript.ts';
import type { Opening } from '../../crypto/threshold/idkg/polynomial.ts';
import type { MasterKey } from '../../state/master-keys.ts';
import type { StateStore } from '../../store/state-store.ts';
import type { PreSignatureRecord } from './pre-signature-record.ts';
import type { PreSignatureDealer } from './single-node-signing.ts';
import { ThresholdNetwork, type IdkgStore, type IdkgSubnetConfig } from './threshold-network.ts';

/**
 * Seeded single-node keys generated in this process, by key id, node set and seed: PocketIC opens
 * many short-lived replicas with the same seeds, and each seeded key is generated once. Holds a
 * secret share, so only seeded (reproducible, hence not secret from the seed's holder) n = 1 keys.
 */
const seededKeys = new Map<string, { transcript: KeyTranscript; share: Opening }>();

/** The replica options the suite reads. */
export interface ThresholdOptions {
  nodes?: number;
  faulty?: FaultSpec;
  preSignaturesPerKey?: number;
  reshareIntervalMs?: number;
  /** `--mega` (see {@link ThresholdNetworkOptions.mega}). */
  mega?: boolean;
  /** Deals single-node keys' pre-signatures elsewhere (see {@link ThresholdNetworkOptions.dealer}). */
  dealer?: PreSignatureDealer;
}

/** Whether the n-node protocol holds a key (ECDSA, BIP340, Ed25519; not vetKD). */
export function isIdkgKey(k: MasterKeyId): boolean {
  return k.algorithm !== KeyAlgorithm.vetkdBls12381G2;
}

function kindAndCurve(k: MasterKeyId): { kind: 'ecdsa' | 'schnorr'; curve: 'secp256k1' | 'ed25519' } {
  if (k.algorithm === KeyAlgorithm.ecdsaSecp256k1) return { kind: 'ecdsa', curve: 'secp256k1' };
  return { kind: 'schnorr', curve: k.algorithm === KeyAlgorithm.schnorrEd25519 ? 'ed25519' : 'secp256k1' };
}

/**
 * Builds the suite for a replica.
 * @param onKeyTranscript called after a reshare with the key's new transcript
 * @returns the network, the key generator for ensureMasterKeys, and `start` to register the
 *   stored keys once the master keys are known
 */
export function createThresholdNetwork(
  store: StateStore,
  routing: RoutingTable,
  options: ThresholdOptions,
  onKeyTranscript: (keyId: string, t: KeyTranscript) => void,
): { network: ThresholdNetwork; generate: (k: MasterKeyId, s: Subnet, seed?: Uint8Array) => KeyTranscript | undefined; start: (keys: ReadonlyMap<string, MasterKey>) => void } {
  const subnets: IdkgSubnetConfig[] = [];
  const names = new Set<string>();
  for (const s of routing.subnets) {
    if (!s.keys.some(isIdkgKey) && s.nodes === undefined) continue;
    subnets.push({ name: s.name, nodes: s.nodes ?? options.nodes ?? 1, faults: s.faulty ?? (options.faulty ? [options.faulty] : []) });
    names.add(s.name);
  }
  // Former holders of stored keys (a key moved away) must exist to deal the XNet reshare.
  for (const k of store.thresholdKeys.all()) {
    for (const id of k.transcript.nodes ?? []) {
      const name = id.slice(0, id.lastIndexOf('/'));
      if (names.has(name) || !routing.subnets.some((s) => s.name === name)) continue;
      const sub = routing.subnets.find((s) => s.name === name)!;
      subnets.push({ name, nodes: sub.nodes ?? k.transcript.nodes!.length, faults: sub.faulty ?? [] });
      names.add(name);
    }
  }
  const idkgStore: IdkgStore = {
    shares: {
      put: (t, r, o) => store.thresholdKeys.putOpening(t, r, o),
      get: (t, r) => store.thresholdKeys.opening(t, r),
      delete: (t, r) => store.thresholdKeys.deleteShare(t, r),
    },
    deleteTranscriptShares: (t) => store.thresholdKeys.deleteTranscriptShares(t),
    savePreSignature: (r) => store.preSignatures.put(r.preSignatureId, r.keyId, r),
    deletePreSignature: (id) => store.preSignatures.remove(id),
    loadPreSignatures: () => store.preSignatures.all() as PreSignatureRecord[],
    transaction: (fn) => store.transaction(fn),
  };
  const network = new ThresholdNetwork({
    subnets,
    store: idkgStore,
    deferErasures: true,
    ...(options.preSignaturesPerKey !== undefined ? { preSignaturesPerKey: options.preSignaturesPerKey } : {}),
    ...(options.reshareIntervalMs ? { reshareIntervalNanos: BigInt(options.reshareIntervalMs) * 1_000_000n } : {}),
    onKeyTranscript,
    ...(options.mega ? { mega: true } : {}),
    ...(options.dealer ? { dealer: options.dealer } : {}),
  });
  const generated = new Set<string>();
  return {
    network,
    generate: (k, s, seed) => {
      if (!isIdkgKey(k)) return undefined;
      const text = keyIdText(k);
      const { kind, curve } = kindAndCurve(k);
      network.addKey(text, kind, curve, s.name);
      generated.add(text);
      const single = network.subnets.get(s.name)!.nodes.length === 1 && !network.subnets.get(s.name)!.nodes[0]!.behaviours.size;
      const memo = seed && single ? `${text}|${s.name}|${Buffer.from(seed).toString('hex')}` : undefined;
      const hit = memo ? seededKeys.get(memo) : undefined;
      if (hit) {
        network.adoptSingleNodeKey(text, hit.transcript, hit.share);
        return hit.transcript;
      }
      const t = network.generateKey(text, seed);
      if (memo) seededKeys.set(memo, { transcript: t, share: network.singleNodeShare(text)! });
      return t;
    },
    start: (keys) => {
      for (const [text, key] of keys) {
        if (generated.has(text) || !isIdkgKey(key.keyId)) continue;
        const { kind, curve } = kindAndCurve(key.keyId);
        network.addKey(text, kind, curve, key.subnet.name, key.transcript);
      }
    },
  };
}
