/**
 * The hash tree of certified data (spec §"Certificate", §"Lookup"): its five node kinds, their
 * CBOR shape (`[0]`, `[1, l, r]`, `[2, label, t]`, `[3, v]`, `[4, h]`, certificates.cddl),
 * `reconstruct` (domain-separated SHA-256 root hash) and `lookup_path`.
 *
 * Nodes are immutable tuples; `reconstruct` caches each node's hash by node identity, so a tree
 * that shares unchanged subtrees with an earlier one (see `labeled-tree.ts`) is only rehashed
 * along the changed paths. Never mutate a node after it has been hashed.
 */

import { sha256 } from '@noble/hashes/sha2.js';
import { encode } from '@dfinity/cbor';
import { concatBytes, domainSeparator } from './domain-separator.ts';
import { compareBytes } from './request-id.ts';

/** Node kinds, numbered as in their CBOR encoding (certificates.cddl). */
export const NodeKind = { Empty: 0, Fork: 1, Labeled: 2, Leaf: 3, Pruned: 4 } as const;
export type NodeKind = (typeof NodeKind)[keyof typeof NodeKind];

/** `[0]`: an empty subtree. */
export type EmptyNode = readonly [0];
/** `[1, left, right]`: two subtrees side by side. */
export type ForkNode = readonly [1, HashTree, HashTree];
/** `[2, label, subtree]`: a labeled subtree; the label is a blob. */
export type LabeledNode = readonly [2, Uint8Array, HashTree];
/** `[3, value]`: a leaf value (a blob). */
export type LeafNode = readonly [3, Uint8Array];
/** `[4, hash]`: a subtree replaced by its 32-byte root hash. */
export type PrunedNode = readonly [4, Uint8Array];
/** A hash tree (spec §"Certificate", `HashTree`); also its CBOR shape. */
export type HashTree = EmptyNode | ForkNode | LabeledNode | LeafNode | PrunedNode;

/** A path: a sequence of labels; strings are taken as their UTF-8 bytes. */
export type Path = readonly (Uint8Array | string)[];

/** Result of `lookupPath` (spec §"Lookup"). */
export type LookupResult =
  | { readonly status: 'Found'; readonly value: Uint8Array }
  | { readonly status: 'Absent' }
  | { readonly status: 'Unknown' }
  | { readonly status: 'Error' };

const encoder = new TextEncoder();
const DS_EMPTY = domainSeparator('ic-hashtree-empty');
const DS_FORK = domainSeparator('ic-hashtree-fork');
const DS_LABELED = domainSeparator('ic-hashtree-labeled');
const DS_LEAF = domainSeparator('ic-hashtree-leaf');
const EMPTY: EmptyNode = Object.freeze([0] as const);
const EMPTY_HASH = sha256(DS_EMPTY);
// A node's hash is cached on the node itself, as a non-enumerable symbol-keyed property (CBOR
// encoding and deep equality ignore it): a WeakMap with one entry per node of a large tree makes
// every garbage collection walk its ephemerons.
const HASH = Symbol('hash');
type HashCached = { [HASH]?: Uint8Array };

/** Label or value bytes: a string is taken as its UTF-8 encoding. */
export function toBytes(v: Uint8Array | string): Uint8Array {
  return typeof v === 'string' ? encoder.encode(v) : v;
}

/** The empty tree `[0]` (one shared instance). */
export function empty(): EmptyNode {
  return EMPTY;
}

/** `[1, left, right]`. */
export function fork(left: HashTree, right: HashTree): ForkNode {
  return [NodeKind.Fork, left, right];
}

/** `[2, label, subtree]`; a string label is taken as UTF-8. */
export function labeled(label: Uint8Array | string, subtree: HashTree): LabeledNode {
  return [NodeKind.Labeled, toBytes(label), subtree];
}

/** `[3, value]`; a string value is taken as UTF-8. */
export function leaf(value: Uint8Array | string): LeafNode {
  return [NodeKind.Leaf, toBytes(value)];
}

/**
 * `[4, hash]`.
 * @param hash the pruned subtree's root hash, 32 bytes.
 * @throws RangeError if `hash` is not 32 bytes.
 */
export function pruned(hash: Uint8Array): PrunedNode {
  if (hash.length !== 32) throw new RangeError(`a pruned hash must be 32 bytes, got ${hash.length}`);
  return [NodeKind.Pruned, hash];
}

/**
 * The root hash of a tree (spec §"Certificate", `reconstruct`):
 * `H(ds("ic-hashtree-empty"))`, `H(ds("ic-hashtree-fork") · l · r)`,
 * `H(ds("ic-hashtree-labeled") · label · t)`, `H(ds("ic-hashtree-leaf") · v)`, pruned `h`.
 * @returns 32 bytes (cached per node; do not mutate the result).
 */
export function reconstruct(tree: HashTree): Uint8Array {
  const cached = (tree as HashCached)[HASH];
  if (cached !== undefined) return cached;
  let h: Uint8Array;
  switch (tree[0]) {
    case NodeKind.Empty:
      return EMPTY_HASH;
    case NodeKind.Fork:
      h = sha256(concatBytes(DS_FORK, reconstruct(tree[1]), reconstruct(tree[2])));
      break;
    case NodeKind.Labeled:
      h = sha256(concatBytes(DS_LABELED, tree[1], reconstruct(tree[2])));
      break;
    case NodeKind.Leaf:
      h = sha256(concatBytes(DS_LEAF, tree[1]));
      break;
    case NodeKind.Pruned:
      return tree[1];
  }
  Object.defineProperty(tree, HASH, { value: h });
  return h;
}

/** `flatten_forks` (spec §"Lookup"): the non-fork, non-empty nodes of a forest, in order. */
export function flattenForks(tree: HashTree): HashTree[] {
  const out: HashTree[] = [];
  const walk = (t: HashTree): void => {
    if (t[0] === NodeKind.Empty) return;
    if (t[0] === NodeKind.Fork) {
      walk(t[1]);
      walk(t[2]);
      return;
    }
    out.push(t);
  };
  walk(tree);
  return out;
}

/**
 * `lookup_path` (spec §"Lookup"): Found with the leaf value, Absent if the tree proves the path
 * is not there, Unknown if it was pruned away, Error if the path ends at an inner node.
 */
export function lookupPath(path: Path, tree: HashTree): LookupResult {
  let t = tree;
  for (const l of path) {
    const r = findLabel(toBytes(l), flattenForks(t));
    if (r.status !== 'Found') return r;
    t = r.subtree;
  }
  switch (t[0]) {
    case NodeKind.Empty:
      return { status: 'Absent' };
    case NodeKind.Leaf:
      return { status: 'Found', value: t[1] };
    case NodeKind.Pruned:
      return { status: 'Unknown' };
    default:
      return { status: 'Error' };
  }
}

type FindResult =
  | { status: 'Found'; subtree: HashTree }
  | { status: 'Absent' }
  | { status: 'Unknown' };

// `find_label` (spec §"Lookup"), by the spec's cases in order.
function findLabel(l: Uint8Array, trees: readonly HashTree[]): FindResult {
  if (trees.length === 0) return { status: 'Absent' };
  if (trees.length === 1 && trees[0]![0] === NodeKind.Leaf) return { status: 'Absent' };
  for (let i = 0; i < trees.length; i++) {
    const t = trees[i]!;
    if (t[0] !== NodeKind.Labeled) continue;
    const c = compareBytes(l, t[1]);
    if (c === 0) return { status: 'Found', subtree: t[2] };
    if (c < 0) {
      // l < label: Absent if this is the first node or the node before is a smaller label.
      if (i === 0) return { status: 'Absent' };
      const prev = trees[i - 1]!;
      if (prev[0] === NodeKind.Labeled && compareBytes(prev[1], l) < 0) return { status: 'Absent' };
      return { status: 'Unknown' };
    }
  }
  const last = trees[trees.length - 1]!;
  if (last[0] === NodeKind.Labeled && compareBytes(last[1], l) < 0) return { status: 'Absent' };
  return { status: 'Unknown' };
}

/**
 * Checks a decoded CBOR value against the hash tree shape (certificates.cddl) and returns it
 * as a `HashTree` (the same arrays, unchanged).
 * @param value what the CBOR decoder produced for a `hash-tree`.
 * @throws TypeError naming the first offending node if the shape is wrong.
 */
export function hashTreeFromCbor(value: unknown): HashTree {
  if (!Array.isArray(value) || value.length === 0) throw new TypeError('hash tree node must be a non-empty array');
  const tag = value[0];
  const isBytes = (v: unknown): v is Uint8Array => v instanceof Uint8Array;
  switch (tag) {
    case NodeKind.Empty:
      if (value.length === 1) return value as unknown as EmptyNode;
      break;
    case NodeKind.Fork:
      if (value.length === 3) {
        hashTreeFromCbor(value[1]);
        hashTreeFromCbor(value[2]);
        return value as unknown as ForkNode;
      }
      break;
    case NodeKind.Labeled:
      if (value.length === 3 && isBytes(value[1])) {
        hashTreeFromCbor(value[2]);
        return value as unknown as LabeledNode;
      }
      break;
    case NodeKind.Leaf:
      if (value.length === 2 && isBytes(value[1])) return value as unknown as LeafNode;
      break;
    case NodeKind.Pruned:
      if (value.length === 2 && isBytes(value[1]) && value[1].length === 32) return value as unknown as PrunedNode;
      break;
  }
  throw new TypeError(`malformed hash tree node with tag ${String(tag)} and ${value.length} elements`);
}

/**
 * CBOR encoding of a hash tree (certificates.cddl `hash-tree`), without the self-describe
 * tag: nested arrays of small integers and byte strings.
 */
export function encodeHashTree(tree: HashTree): Uint8Array {
  return encode(tree as unknown as Parameters<typeof encode>[0]);
}
