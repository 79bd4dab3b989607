/**
 * A large, slowly changing level of a hash tree — e.g. `/request_status`, one label per request id
 * — kept as a persistent crit-bit trie, so that changing one label costs O(log n) new nodes and
 * O(log n) hashes, and the hash tree of every earlier version stays valid (certificates already
 * handed out keep pointing at theirs).
 *
 * The hash tree is the trie itself: an inner node is `[1, left, right]`, a leaf is the labeled
 * node `[2, label, subtree]`. Forks may have any shape (spec §"Certificate": lookups flatten
 * forks), and for labels of one length the trie's in-order is their bytewise order, so the
 * forest is well-formed. Every node is created once and never mutated, so `reconstruct` caches
 * its hash.
 *
 * The replica keeps `/request_status` in compact-forest.ts (the same trie in typed arrays); this
 * object version is its reference in tests.
 *
 * Assumes every label has the same length (request ids: 32 bytes); uniformly distributed labels
 * (hashes) give a depth of about log2(n) + 2.
 */
import { empty, fork, labeled, type HashTree, type LabeledNode } from './hash-tree.ts';
import { compareBytes } from './request-id.ts';

interface Leaf {
  readonly label: Uint8Array;
  readonly tree: LabeledNode;
}
interface Inner {
  /** Index of the first bit (MSB first) in which the two sides' labels differ. */
  readonly bit: number;
  readonly left: Node;
  readonly right: Node;
  readonly tree: HashTree;
}
type Node = Leaf | Inner;

const isLeaf = (n: Node): n is Leaf => 'label' in n;
const bitAt = (label: Uint8Array, bit: number): number => (label[bit >>> 3]! >>> (7 - (bit & 7))) & 1;
const inner = (bit: number, left: Node, right: Node): Inner => ({ bit, left, right, tree: fork(left.tree, right.tree) });

/** An immutable sorted set of labeled subtrees; updates return a new forest sharing the rest. */
export class LabeledForest {
  /** The forest without labels. */
  static readonly EMPTY = new LabeledForest(null, 0);

  readonly #root: Node | null;
  /** Number of labels. */
  readonly size: number;

  private constructor(root: Node | null, size: number) {
    this.#root = root;
    this.size = size;
  }

  /** The forest as a hash tree: `[0]` when empty, else forks over `[2, label, subtree]` in label order. */
  get tree(): HashTree {
    return this.#root === null ? empty() : this.#root.tree;
  }

  /**
   * This forest with `label` mapped to `subtree` (added or replaced).
   * @param label the label bytes; the same length as every other label here.
   * @throws RangeError if the label's length differs from the labels already present.
   */
  with(label: Uint8Array, subtree: HashTree): LabeledForest {
    const leaf: Leaf = { label, tree: labeled(label, subtree) };
    const root = this.#root;
    if (root === null) return new LabeledForest(leaf, 1);
    // 1. The closest existing label: follow the new label's bits down to a leaf.
    let n: Node = root;
    while (!isLeaf(n)) n = bitAt(label, n.bit) === 0 ? n.left : n.right;
    if (n.label.length !== label.length) throw new RangeError(`label must be ${n.label.length} bytes, got ${label.length}`);
    // 2. The critical bit: the first bit where the new label differs from it.
    const crit = critBit(label, n.label);
    if (crit < 0) return new LabeledForest(replace(root, label, leaf), this.size);
    // 3. Insert a new inner node above the first node whose bit is past the critical bit.
    return new LabeledForest(insert(root, label, leaf, crit), this.size + 1);
  }

  /** This forest without `label` (unchanged if absent). */
  without(label: Uint8Array): LabeledForest {
    if (this.#root === null) return this;
    const r = remove(this.#root, label);
    if (r === this.#root) return this;
    return new LabeledForest(r, this.size - 1);
  }

  /** The subtree under `label`, or undefined. */
  get(label: Uint8Array): HashTree | undefined {
    let n = this.#root;
    if (n === null) return undefined;
    while (!isLeaf(n)) n = bitAt(label, n.bit) === 0 ? n.left : n.right;
    return compareBytes(n.label, label) === 0 ? n.tree[2] : undefined;
  }
}

function critBit(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) {
    const x = a[i]! ^ b[i]!;
    if (x !== 0) return i * 8 + Math.clz32(x) - 24;
  }
  return -1;
}

function replace(n: Node, label: Uint8Array, leaf: Leaf): Node {
  if (isLeaf(n)) return leaf;
  return bitAt(label, n.bit) === 0 ? inner(n.bit, replace(n.left, label, leaf), n.right) : inner(n.bit, n.left, replace(n.right, label, leaf));
}

function insert(n: Node, label: Uint8Array, leaf: Leaf, crit: number): Node {
  if (isLeaf(n) || n.bit > crit) return bitAt(label, crit) === 0 ? inner(crit, leaf, n) : inner(crit, n, leaf);
  return bitAt(label, n.bit) === 0 ? inner(n.bit, insert(n.left, label, leaf, crit), n.right) : inner(n.bit, n.left, insert(n.right, label, leaf, crit));
}

// Returns the node without `label`; the same node if the label is absent; null if it was the only one.
function remove(n: Node, label: Uint8Array): Node | null {
  if (isLeaf(n)) return compareBytes(n.label, label) === 0 ? null : n;
  if (bitAt(label, n.bit) === 0) {
    const l = remove(n.left, label);
    if (l === n.left) return n;
    return l === null ? n.right : inner(n.bit, l, n.right);
  }
  const r = remove(n.right, label);
  if (r === n.right) return n;
  return r === null ? n.left : inner(n.bit, n.left, r);
}
