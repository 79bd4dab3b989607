/**
 * The certified state tree (interface spec §"The system state tree"), built from the replicated
 * state at the end of each round:
 *
 *   /time                                        LEB128 nanoseconds
 *   /subnet/<subnet_id>/public_key               DER of the (shared) root key
 *   /subnet/<subnet_id>/canister_ranges          CBOR [[start, end], ...] (principal bytes)
 *   /subnet/<subnet_id>/node/<node_id>/public_key  DER Ed25519 node key (root subnet only)
 *   /canister_ranges/<subnet_id>/<range_start>   CBOR ranges (the newer per-range layout)
 *   /canister/<canister_id>/module_hash | controllers | certified_data | metadata/<name>
 *   /request_status/<request_id>/status | reply | reject_code | reject_message | error_code
 *
 * There is one certifying key and no delegations, so agents attribute every certificate to the
 * subnet whose id is the self-authenticating principal of the root key; that subnet's
 * `canister_ranges` therefore cover every emulated subnet's ranges.
 */
import { isTsCanisterModule, prepareTsModule } from './typescript/ts-module.ts';
import { encodeWithSelfDescribedTag } from '@dfinity/cbor';
import type { Principal } from '@icp-sdk/core/principal';
import { encodeUleb128 } from '../crypto/leb128.ts';
import { CompactForest } from '../crypto/compact-forest.ts';
import { empty, fork, labeled, leaf, pruned, reconstruct, type HashTree } from '../crypto/hash-tree.ts';
import { HashTreeValue, type LabeledTree } from '../crypto/labeled-tree.ts';
import type { CanisterIdRange } from '../routing/canister-id.ts';
import type { Subnet } from '../routing/topology.ts';
import type { IngressRecord } from '../store/ingress-repository.ts';
import type { CanisterState } from '../state/canister-state.ts';
import { canisterMetadata, type CanisterMetadata } from './wasm/custom-sections.ts';
import { principalText } from '../types/principal-text.ts';

const enc = new TextEncoder();
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** What the tree needs besides the replicated state. */
export interface StateTreeInputs {
  timeNanos: bigint;
  subnets: readonly Subnet[];
  /** The subnet certificates are attributed to (self-authenticating id of the root key). */
  rootSubnet: Subnet;
  rootKeyDer: Uint8Array;
  nodeId: Principal;
  nodeKeyDer: Uint8Array;
  canisters: Iterable<CanisterState>;
  /** A canister's certified data (`ic0.certified_data_set`), ≤ 32 bytes, empty if never set. */
  certifiedData(c: CanisterState): Uint8Array;
  /**
   * Ingress history entries changed (`put`) or removed (`removed`, request ids) since the previous
   * build; the first build gets every entry as `put`.
   */
  ingressChanges: { put: Iterable<IngressRecord>; removed: readonly Uint8Array[] };
}

function encodeRanges(ranges: readonly CanisterIdRange[]): Uint8Array {
  const sorted = [...ranges].sort((a, b) => Buffer.compare(Buffer.from(a.start.toUint8Array()), Buffer.from(b.start.toUint8Array())));
  return encodeWithSelfDescribedTag(sorted.map((r) => [r.start.toUint8Array(), r.end.toUint8Array()]));
}

/**
 * Builds the labeled state tree, reusing unchanged subtrees from the previous build (their hashes
 * are cached by map identity in `buildHashTree`). `/request_status` is kept incrementally in a
 * compact forest (compact-forest.ts: a build costs O(changes · log n), not O(history), and a
 * retained entry costs ~100 bytes in typed arrays, not JavaScript objects). In the built tree it
 * is pruned to its root hash; {@link requestStatusWitness} reveals the entries a certificate
 * needs, from the ingress records as they were when certified.
 */
export class StateTreeBuilder {
  readonly #requestStatus = new CompactForest(32);
  // canister id text → [module hash hex + controllers, subtree]
  readonly #canisterCache = new Map<string, [string, LabeledTree]>();
  #metadataCache = new WeakMap<Uint8Array, Map<string, CanisterMetadata>>();
  #subnetTree: [string, LabeledTree] | null = null;

  /** Metadata sections of a module (cached per module object). */
  metadataOf(module: Uint8Array): Map<string, CanisterMetadata> {
    let m = this.#metadataCache.get(module);
    if (!m) {
      try {
        m = isTsCanisterModule(module)
          ? new Map([['candid:service', { visibility: 'public' as const, content: new TextEncoder().encode(prepareTsModule(module).candid) }]])
          : canisterMetadata(module);
      } catch {
        m = new Map();
      }
      this.#metadataCache.set(module, m);
    }
    return m;
  }

  /** The full labeled tree for the given state. */
  build(inputs: StateTreeInputs): LabeledTree {
    return new Map<string, LabeledTree | Uint8Array | HashTreeValue>([
      ['time', encodeUleb128(inputs.timeNanos)],
      ['subnet', this.#subnets(inputs)],
      ['canister_ranges', this.#canisterRanges(inputs)],
      ['canister', this.#canisters(inputs.canisters, inputs.certifiedData)],
      ['request_status', this.#requestStatusTree(inputs.ingressChanges)],
    ]);
  }

  #subnets(inputs: StateTreeInputs): LabeledTree {
    const key = inputs.subnets.map((s) => principalText(s.subnetId)).join(',');
    if (this.#subnetTree && this.#subnetTree[0] === key) return this.#subnetTree[1];
    const all = inputs.subnets.flatMap((s) => s.canisterRanges);
    const tree = new Map<Uint8Array, LabeledTree>();
    for (const s of inputs.subnets) {
      const isRoot = s.subnetId.compareTo(inputs.rootSubnet.subnetId) === 'eq';
      const m = new Map<string, LabeledTree | Uint8Array>([
        ['public_key', inputs.rootKeyDer],
        ['canister_ranges', encodeRanges(isRoot ? all : s.canisterRanges)],
      ]);
      if (isRoot) {
        m.set('node', new Map([[inputs.nodeId.toUint8Array(), new Map([['public_key', inputs.nodeKeyDer]])]]));
      }
      tree.set(s.subnetId.toUint8Array(), m);
    }
    this.#subnetTree = [key, tree];
    return tree;
  }

  #canisterRanges(inputs: StateTreeInputs): LabeledTree {
    const tree = new Map<Uint8Array, LabeledTree>();
    for (const s of inputs.subnets) {
      const isRoot = s.subnetId.compareTo(inputs.rootSubnet.subnetId) === 'eq';
      const ranges = isRoot ? inputs.subnets.flatMap((x) => x.canisterRanges) : s.canisterRanges;
      const sorted = [...ranges].sort((a, b) => Buffer.compare(Buffer.from(a.start.toUint8Array()), Buffer.from(b.start.toUint8Array())));
      tree.set(s.subnetId.toUint8Array(), new Map([[sorted[0]!.start.toUint8Array(), encodeRanges(sorted)]]));
    }
    return tree;
  }

  #canisters(canisters: Iterable<CanisterState>, certifiedData: (c: CanisterState) => Uint8Array): LabeledTree {
    const tree = new Map<Uint8Array, LabeledTree>();
    const seen = new Set<string>();
    for (const c of canisters) {
      const id = principalText(c.canisterId);
      seen.add(id);
      const certified = certifiedData(c);
      const key = `${c.moduleHash ? hex(c.moduleHash) : '-'}|${hex(certified)}|${c.controllers.map((p) => principalText(p)).join(',')}`;
      let entry = this.#canisterCache.get(id);
      if (!entry || entry[0] !== key) {
        const m = new Map<string, LabeledTree | Uint8Array>([
          ['controllers', encodeWithSelfDescribedTag(c.controllers.map((p) => p.toUint8Array()))],
          ['certified_data', certified],
        ]);
        if (c.moduleHash && c.module) {
          m.set('module_hash', c.moduleHash);
          const meta = new Map<string, Uint8Array>();
          for (const [name, section] of this.metadataOf(c.module)) meta.set(name, section.content);
          if (meta.size > 0) m.set('metadata', meta);
        }
        entry = [key, m];
        this.#canisterCache.set(id, entry);
      }
      tree.set(c.canisterId.toUint8Array(), entry[1]);
    }
    for (const id of this.#canisterCache.keys()) if (!seen.has(id)) this.#canisterCache.delete(id);
    return tree;
  }

  #requestStatusTree(changes: StateTreeInputs['ingressChanges']): HashTreeValue {
    const forest = this.#requestStatus;
    for (const e of changes.put) forest.set(e.requestId, reconstruct(requestStatusOf(e)));
    for (const id of changes.removed) forest.delete(id);
    return new HashTreeValue(forest.size === 0 ? empty() : pruned(forest.rootHash()));
  }

  /**
   * `/request_status` of the last build as a hash tree revealing these request ids (their
   * subtrees, or for an id not in the history its neighbours, proving absence); the rest pruned.
   * Same root hash as the pruned subtree of the last build.
   * @param requestIds 32-byte request ids (other lengths are not revealed)
   * @param certifiedRecord the history entry of a request id as it was at the last build
   * @throws Error if a revealed entry's record is missing (a host bug)
   */
  requestStatusWitness(requestIds: readonly Uint8Array[], certifiedRecord: (requestId: Uint8Array) => IngressRecord | undefined): HashTree {
    return this.#requestStatus.witnessTree(
      requestIds.filter((id) => id.length === 32),
      (id) => {
        const e = certifiedRecord(id);
        if (!e) throw new Error(`request_status ${Buffer.from(id).toString('hex')}: no record as certified`);
        return requestStatusOf(e);
      },
    );
  }
}

// `status` subtrees are the same for every entry with that status: one shared node (and one
// cached hash) each, instead of two nodes and two hashes per retained entry.
const statusNodes = new Map<string, HashTree>();
function statusNode(status: string): HashTree {
  let n = statusNodes.get(status);
  if (!n) statusNodes.set(status, (n = labeled('status', leaf(status))));
  return n;
}

/**
 * `/request_status/<id>`'s subtree for one history entry (spec §"Request status"): its labels in
 * bytewise order (`error_code` < `reject_code` < `reject_message` < `reply` < `status`) joined
 * by forks as `buildHashTree` would join them.
 */
export function requestStatusOf(e: IngressRecord): HashTree {
  const status = statusNode(e.status);
  if (e.status === 'replied' && e.reply) return fork(labeled('reply', leaf(e.reply)), status);
  if (e.status !== 'rejected') return status;
  const rejectCode = labeled('reject_code', leaf(encodeUleb128(e.rejectCode ?? 0)));
  const rejectMessage = labeled('reject_message', leaf(enc.encode(e.rejectMessage ?? '')));
  if (e.errorCode) return fork(fork(labeled('error_code', leaf(e.errorCode)), rejectCode), fork(rejectMessage, status));
  return fork(fork(rejectCode, rejectMessage), status);
}
