/**
 * From labeled data to hash trees: `buildHashTree` turns a nested labeled structure into a
 * well-formed hash tree (labels strictly increasing, balanced forks), and `witness` prunes a
 * tree down to what proves a set of paths, keeping the root hash (spec §"Certificate": "The
 * state tree can be pruned by replacing subtrees with their root hashes").
 *
 * Caching: a `LabeledTree` map that was built once is remembered (by identity) with its hash
 * tree, whose hash `reconstruct` caches too. Treat maps as immutable after building and
 * replace changed maps along the path to the root (copy-on-write); unchanged siblings are then
 * reused without rehashing.
 */

import {
  NodeKind,
  empty,
  fork,
  labeled,
  leaf,
  pruned,
  reconstruct,
  toBytes,
  type HashTree,
  type LabeledNode,
  type Path,
} from './hash-tree.ts';
import { compareBytes } from './request-id.ts';

/**
 * Labeled data: a map from label (UTF-8 string or raw bytes) to a subtree or a leaf value.
 * An empty map is an empty subtree.
 */
export type LabeledTree = ReadonlyMap<string | Uint8Array, LabeledTree | Uint8Array | HashTreeValue>;

/**
 * A subtree given as a finished hash tree (e.g. a `LabeledForest`'s, maintained incrementally),
 * placed under its label unchanged.
 */
export class HashTreeValue {
  readonly tree: HashTree;
  constructor(tree: HashTree) {
    this.tree = tree;
  }
}

const builtCache = new WeakMap<LabeledTree, HashTree>();

/**
 * Builds the hash tree of labeled data: the children of each map sorted by label bytes and
 * joined by a balanced binary tree of forks.
 * @returns the hash tree (the same node object for a map that was built before).
 * @throws RangeError if two keys of one map encode to the same label bytes.
 */
export function buildHashTree(tree: LabeledTree): HashTree {
  const cached = builtCache.get(tree);
  if (cached !== undefined) return cached;
  const children: [Uint8Array, LabeledTree | Uint8Array | HashTreeValue][] = [];
  for (const [k, v] of tree) children.push([toBytes(k), v]);
  children.sort((a, b) => compareBytes(a[0], b[0]));
  for (let i = 1; i < children.length; i++) {
    if (compareBytes(children[i - 1]![0], children[i]![0]) === 0) {
      throw new RangeError(`duplicate label ${Buffer.from(children[i]![0]).toString('hex')}`);
    }
  }
  const node = (lo: number, hi: number): HashTree => {
    if (hi - lo === 1) {
      const [label, value] = children[lo]!;
      return labeled(label, value instanceof Uint8Array ? leaf(value) : value instanceof HashTreeValue ? value.tree : buildHashTree(value));
    }
    const mid = lo + Math.ceil((hi - lo) / 2);
    return fork(node(lo, mid), node(mid, hi));
  };
  const result = children.length === 0 ? empty() : node(0, children.length);
  builtCache.set(tree, result);
  return result;
}

/**
 * The tree with the subtree under one top-level label replaced (e.g. a pruned level by a witness
 * of it with the same hash): the forks above it are rebuilt, everything else is shared.
 * O(labels at the top level); meant for small levels such as the state tree's root.
 * @returns the same tree if the label is not at the top level
 */
export function withLabeledSubtree(tree: HashTree, label: Uint8Array | string, subtree: HashTree): HashTree {
  const l = toBytes(label);
  const walk = (t: HashTree): HashTree => {
    if (t[0] === NodeKind.Labeled) return compareBytes(t[1], l) === 0 ? labeled(t[1], subtree) : t;
    if (t[0] !== NodeKind.Fork) return t;
    const a = walk(t[1]);
    const b = walk(t[2]);
    return a === t[1] && b === t[2] ? t : fork(a, b);
  };
  return walk(tree);
}

/** A set of requested paths, as a trie; `whole` marks that a path ends here. */
interface PathTrie {
  whole: boolean;
  children: Map<string, { label: Uint8Array; trie: PathTrie }>;
}

function trieOf(paths: readonly Path[]): PathTrie {
  const root: PathTrie = { whole: false, children: new Map() };
  for (const path of paths) {
    let node = root;
    for (const l of path) {
      const label = toBytes(l);
      const key = Buffer.from(label).toString('hex');
      let child = node.children.get(key);
      if (child === undefined) {
        child = { label, trie: { whole: false, children: new Map() } };
        node.children.set(key, child);
      }
      node = child.trie;
    }
    node.whole = true;
  }
  return root;
}

/**
 * Prunes `tree` to a witness for `paths`: every requested path that exists is kept in full
 * (a path ending at an inner node keeps that whole subtree); for a requested label that does
 * not exist, its neighbouring labels are kept (with pruned contents), so that `lookup_path`
 * on the witness answers Absent rather than Unknown, as the replica does (spec §"Certificate",
 * example: "the "b" label is included (without content) to prove the absence of the /ax
 * path"). Everything else is replaced by `[4, hash]`. The witness has the same root hash.
 * @param tree a hash tree, typically from `buildHashTree` (any well-formed tree works).
 * @param paths the paths to keep; labels as UTF-8 strings or bytes.
 * @returns the pruned tree.
 */
export function witness(tree: HashTree, paths: readonly Path[]): HashTree {
  return witnessNode(tree, trieOf(paths));
}

function witnessNode(t: HashTree, trie: PathTrie): HashTree {
  if (trie.whole) return t;
  switch (t[0]) {
    case NodeKind.Empty:
    case NodeKind.Leaf: // a path running past a leaf: the leaf itself proves absence
    case NodeKind.Pruned:
      return t;
    default:
      return witnessForest(t, trie);
  }
}

// One level of labels (a forest joined by forks): decide which labeled nodes to keep, then
// rebuild the fork structure, pruning every subtree that holds nothing to keep. Finding a label
// descends the forks by their cached first and last labels, so a witness costs O(depth) per
// requested path, not O(labels at the level) (a `/request_status` level holds one per request).
function witnessForest(t: HashTree, trie: PathTrie): HashTree {
  // Value: the subtrie to follow, or null to keep only the label (a neighbour of an absent label).
  const keep = new Map<HashTree, PathTrie | null>();
  // Forks on the way to a kept node: only these are descended when rebuilding.
  const onPath = new Set<HashTree>();
  for (const { label, trie: sub } of trie.children.values()) {
    const before = lastAtMost(t, label, onPath);
    if (before !== undefined && compareBytes(before[1], label) === 0) {
      keep.set(before, sub);
      continue;
    }
    const after = firstAtLeast(t, label, onPath);
    if (before !== undefined && !keep.has(before)) keep.set(before, null);
    if (after !== undefined && !keep.has(after)) keep.set(after, null);
  }
  const rebuild = (n: HashTree): HashTree | null => {
    switch (n[0]) {
      case NodeKind.Labeled: {
        if (!keep.has(n)) return null;
        const sub = keep.get(n)!;
        return labeled(n[1], sub === null ? prune(n[2]) : witnessNode(n[2], sub));
      }
      case NodeKind.Fork: {
        if (!onPath.has(n)) return null;
        const l = rebuild(n[1]);
        const r = rebuild(n[2]);
        if (l === null && r === null) return null;
        return fork(l ?? prune(n[1]), r ?? prune(n[2]));
      }
      default:
        return null;
    }
  };
  return rebuild(t) ?? prune(t);
}

// First and last label of a forest (labeled nodes only, as `flatten_forks` keeps them, in order);
// null if it has none. Cached per node.
const firstLabels = new WeakMap<HashTree, Uint8Array | null>();
const lastLabels = new WeakMap<HashTree, Uint8Array | null>();

function firstLabel(t: HashTree): Uint8Array | null {
  if (t[0] === NodeKind.Labeled) return t[1];
  if (t[0] !== NodeKind.Fork) return null;
  let v = firstLabels.get(t);
  if (v === undefined) {
    v = firstLabel(t[1]) ?? firstLabel(t[2]);
    firstLabels.set(t, v);
  }
  return v;
}

function lastLabel(t: HashTree): Uint8Array | null {
  if (t[0] === NodeKind.Labeled) return t[1];
  if (t[0] !== NodeKind.Fork) return null;
  let v = lastLabels.get(t);
  if (v === undefined) {
    v = lastLabel(t[2]) ?? lastLabel(t[1]);
    lastLabels.set(t, v);
  }
  return v;
}

// The labeled node with the largest label <= `label`, adding the forks passed to `path`.
function lastAtMost(t: HashTree, label: Uint8Array, path: Set<HashTree>): LabeledNode | undefined {
  for (;;) {
    if (t[0] === NodeKind.Labeled) return compareBytes(t[1], label) <= 0 ? t : undefined;
    if (t[0] !== NodeKind.Fork) return undefined;
    const first = firstLabel(t[2]);
    const next = first !== null && compareBytes(first, label) <= 0 ? t[2] : t[1];
    path.add(t);
    t = next;
  }
}

// The labeled node with the smallest label >= `label`, adding the forks passed to `path`.
function firstAtLeast(t: HashTree, label: Uint8Array, path: Set<HashTree>): LabeledNode | undefined {
  for (;;) {
    if (t[0] === NodeKind.Labeled) return compareBytes(t[1], label) >= 0 ? t : undefined;
    if (t[0] !== NodeKind.Fork) return undefined;
    const last = lastLabel(t[1]);
    const next = last !== null && compareBytes(last, label) >= 0 ? t[1] : t[2];
    path.add(t);
    t = next;
  }
}

// Subtrees made only of empties and forks of empties (cached per node).
const allEmpty = new WeakMap<HashTree, boolean>();
function isAllEmpty(t: HashTree): boolean {
  if (t[0] === NodeKind.Empty) return true;
  if (t[0] !== NodeKind.Fork) return false;
  let v = allEmpty.get(t);
  if (v === undefined) {
    v = isAllEmpty(t[1]) && isAllEmpty(t[2]);
    allEmpty.set(t, v);
  }
  return v;
}

// Replaces a subtree by its hash, except subtrees without any node (forks of empties): those
// stay as they are, so labels on either side remain adjacent for absence proofs.
function prune(t: HashTree): HashTree {
  if (t[0] === NodeKind.Pruned) return t;
  if (isAllEmpty(t)) return t;
  return pruned(reconstruct(t));
}
