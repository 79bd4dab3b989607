/**
 * A large level of a hash tree with fixed-length labels (`/request_status`: one 32-byte request
 * id per ingress history entry) kept in typed arrays instead of one JavaScript object per node:
 * the same crit-bit trie, hash for hash, as labeled-forest.ts (an inner node is the fork
 * `[1, left, right]`, a leaf the labeled node `[2, label, subtree]`), but what it holds per label
 * is the label, its subtree's hash and its labeled node's hash — about 100 bytes in a few large
 * buffers, nothing for the garbage collector to walk. Subtrees themselves are not kept: a
 * witness asks the caller for the subtrees of the labels it reveals ({@link witnessTree}).
 *
 * Unlike labeled-forest.ts this forest is mutable: {@link rootHash} and {@link witnessTree}
 * describe its current contents (callers that hand out certificates witness the state they
 * certified, before the next change). Hashes are recomputed lazily: a change marks the inner
 * nodes on its path, the next {@link rootHash} rehashes only those (O(changes · log n)).
 *
 * Assumes uniformly distributed labels (hashes): depth ~ log2(n) + 2. Pure.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { empty, fork, labeled, pruned, reconstruct, type HashTree } from './hash-tree.ts';
import { domainSeparator } from './domain-separator.ts';

const DS_FORK = domainSeparator('ic-hashtree-fork');
const DS_LABELED = domainSeparator('ic-hashtree-labeled');
const EMPTY_HASH = reconstruct(empty());

/** A node reference: an inner node i ≥ 0, or a leaf j as ~j (< 0). */
type Ref = number;
const isLeafRef = (r: Ref): boolean => r < 0;

/** A level of labeled subtrees in typed arrays; see the module comment. */
export class CompactForest {
  readonly labelLength: number;
  #size = 0;
  #root: Ref | null = null;
  // Inner nodes.
  #bit = new Int32Array(0);
  #left = new Int32Array(0);
  #right = new Int32Array(0);
  #dirty = new Uint8Array(0);
  #innerHash = new Uint8Array(0);
  #freeInner: number[] = [];
  #innerCount = 0;
  // Leaves.
  #labels = new Uint8Array(0);
  #subHash = new Uint8Array(0);
  #leafHash = new Uint8Array(0);
  #leafDirty = new Uint8Array(0);
  #freeLeaf: number[] = [];
  #leafCount = 0;
  // Scratch input of one hash: the longer of ds(fork) ‖ h ‖ h and ds(labeled) ‖ label ‖ h.
  readonly #scratch: Uint8Array;

  /** @param labelLength the length of every label, bytes (request ids: 32) */
  constructor(labelLength = 32) {
    this.labelLength = labelLength;
    this.#scratch = new Uint8Array(Math.max(DS_FORK.length + 64, DS_LABELED.length + labelLength + 32));
  }

  /** Number of labels. */
  get size(): number {
    return this.#size;
  }

  // ---- storage ---------------------------------------------------------------------------------

  #newLeaf(label: Uint8Array, subtreeHash: Uint8Array): Ref {
    let j = this.#freeLeaf.pop();
    if (j === undefined) {
      j = this.#leafCount++;
      if (j * this.labelLength >= this.#labels.length) {
        const cap = Math.max(64, j * 2);
        this.#labels = grow(this.#labels, cap * this.labelLength);
        this.#subHash = grow(this.#subHash, cap * 32);
        this.#leafHash = grow(this.#leafHash, cap * 32);
        this.#leafDirty = grow(this.#leafDirty, cap);
      }
    }
    this.#labels.set(label, j * this.labelLength);
    this.#subHash.set(subtreeHash, j * 32);
    this.#leafDirty[j] = 1;
    return ~j;
  }

  #newInner(bit: number, left: Ref, right: Ref): Ref {
    let i = this.#freeInner.pop();
    if (i === undefined) {
      i = this.#innerCount++;
      if (i >= this.#bit.length) {
        const cap = Math.max(64, i * 2);
        this.#bit = grow(this.#bit, cap);
        this.#left = grow(this.#left, cap);
        this.#right = grow(this.#right, cap);
        this.#dirty = grow(this.#dirty, cap);
        this.#innerHash = grow(this.#innerHash, cap * 32);
      }
    }
    this.#bit[i] = bit;
    this.#left[i] = left;
    this.#right[i] = right;
    this.#dirty[i] = 1;
    return i;
  }

  #label(j: number): Uint8Array {
    return this.#labels.subarray(j * this.labelLength, (j + 1) * this.labelLength);
  }

  #bitOf(label: Uint8Array, bit: number): number {
    return (label[bit >>> 3]! >>> (7 - (bit & 7))) & 1;
  }

  /** The leaf a label's bits lead to (its best match), recording the inner nodes passed. */
  #descend(label: Uint8Array, path?: number[]): number {
    let r = this.#root!;
    while (!isLeafRef(r)) {
      path?.push(r);
      r = this.#bitOf(label, this.#bit[r]!) === 0 ? this.#left[r]! : this.#right[r]!;
    }
    return ~r;
  }

  /** The first bit in which `label` differs from leaf j's label, or −1. */
  #critBit(label: Uint8Array, j: number): number {
    const o = j * this.labelLength;
    for (let i = 0; i < this.labelLength; i++) {
      const x = label[i]! ^ this.#labels[o + i]!;
      if (x !== 0) return i * 8 + Math.clz32(x) - 24;
    }
    return -1;
  }

  #checkLength(label: Uint8Array): void {
    if (label.length !== this.labelLength) throw new RangeError(`label must be ${this.labelLength} bytes, got ${label.length}`);
  }

  // ---- changes ---------------------------------------------------------------------------------

  /**
   * Maps `label` to a subtree (added or replaced), given by its root hash.
   * @param subtreeHash the subtree's `reconstruct` hash, 32 bytes
   * @throws RangeError for a label of another length
   */
  set(label: Uint8Array, subtreeHash: Uint8Array): void {
    this.#checkLength(label);
    if (this.#root === null) {
      this.#root = this.#newLeaf(label, subtreeHash);
      this.#size = 1;
      return;
    }
    const path: number[] = [];
    const best = this.#descend(label, path);
    const crit = this.#critBit(label, best);
    if (crit < 0) {
      // Replace: same label, new subtree.
      this.#subHash.set(subtreeHash, best * 32);
      this.#leafDirty[best] = 1;
      for (const i of path) this.#dirty[i] = 1;
      return;
    }
    // Insert a new inner node above the first node on the path whose bit is past the critical bit.
    const leaf = this.#newLeaf(label, subtreeHash);
    const goRight = this.#bitOf(label, crit) === 1;
    let parent = -1;
    let r = this.#root;
    while (!isLeafRef(r) && this.#bit[r]! < crit) {
      this.#dirty[r] = 1;
      parent = r;
      r = this.#bitOf(label, this.#bit[r]!) === 0 ? this.#left[r]! : this.#right[r]!;
    }
    const node = goRight ? this.#newInner(crit, r, leaf) : this.#newInner(crit, leaf, r);
    if (parent < 0) this.#root = node;
    else if (this.#bitOf(label, this.#bit[parent]!) === 0) this.#left[parent] = node;
    else this.#right[parent] = node;
    this.#size++;
  }

  /** Removes `label` (nothing if absent). @returns whether it was present. */
  delete(label: Uint8Array): boolean {
    if (this.#root === null || label.length !== this.labelLength) return false;
    const path: number[] = [];
    const j = this.#descend(label, path);
    if (this.#critBit(label, j) >= 0) return false;
    this.#freeLeaf.push(j);
    this.#size--;
    if (path.length === 0) {
      this.#root = null;
      return true;
    }
    // The leaf's parent is replaced by the leaf's sibling.
    const parent = path[path.length - 1]!;
    const sibling = this.#left[parent] === ~j ? this.#right[parent]! : this.#left[parent]!;
    this.#freeInner.push(parent);
    if (path.length === 1) this.#root = sibling;
    else {
      const gp = path[path.length - 2]!;
      if (this.#left[gp] === parent) this.#left[gp] = sibling;
      else this.#right[gp] = sibling;
    }
    for (let k = 0; k < path.length - 1; k++) this.#dirty[path[k]!] = 1;
    return true;
  }

  /** Whether `label` is present. */
  has(label: Uint8Array): boolean {
    return this.#root !== null && label.length === this.labelLength && this.#critBit(label, this.#descend(label)) < 0;
  }

  // ---- hashes ----------------------------------------------------------------------------------

  #hashOf(r: Ref): Uint8Array {
    if (isLeafRef(r)) {
      const j = ~r;
      if (this.#leafDirty[j]) {
        const s = this.#scratch;
        s.set(DS_LABELED, 0);
        s.set(this.#label(j), DS_LABELED.length);
        s.set(this.#subHash.subarray(j * 32, j * 32 + 32), DS_LABELED.length + this.labelLength);
        this.#leafHash.set(sha256(s.subarray(0, DS_LABELED.length + this.labelLength + 32)), j * 32);
        this.#leafDirty[j] = 0;
      }
      return this.#leafHash.subarray(j * 32, j * 32 + 32);
    }
    if (this.#dirty[r]) {
      const l = this.#hashOf(this.#left[r]!);
      const h = this.#hashOf(this.#right[r]!);
      const s = this.#scratch;
      s.set(DS_FORK, 0);
      s.set(l, DS_FORK.length);
      s.set(h, DS_FORK.length + 32);
      this.#innerHash.set(sha256(s.subarray(0, DS_FORK.length + 64)), r * 32);
      this.#dirty[r] = 0;
    }
    return this.#innerHash.subarray(r * 32, r * 32 + 32);
  }

  /** The root hash of the forest as a hash tree (`reconstruct` of labeled-forest.ts's `tree`). */
  rootHash(): Uint8Array {
    return this.#root === null ? EMPTY_HASH : this.#hashOf(this.#root).slice();
  }

  // ---- witnesses -------------------------------------------------------------------------------

  /**
   * A hash tree of the forest with the same root hash in which the given labels are revealed
   * with their subtrees, and for a label not present its neighbours (with pruned subtrees), so
   * that a lookup answers Absent; everything else is pruned. `witness` (labeled-tree.ts) can
   * prune it further.
   * @param subtreeOf the subtree of a present label (must hash to the stored subtree hash)
   * @throws RangeError for a label of another length
   */
  witnessTree(labels: readonly Uint8Array[], subtreeOf: (label: Uint8Array) => HashTree): HashTree {
    if (this.#root === null) return empty();
    this.rootHash();
    const full = new Set<number>(); // leaves revealed with their subtrees
    const shown = new Set<number>(); // leaves revealed with pruned subtrees
    const onPath = new Set<number>(); // inner nodes expanded
    const reveal = (j: number, set: Set<number>): void => {
      set.add(j);
      let r = this.#root!;
      const label = this.#label(j);
      while (!isLeafRef(r)) {
        onPath.add(r);
        r = this.#bitOf(label, this.#bit[r]!) === 0 ? this.#left[r]! : this.#right[r]!;
      }
    };
    for (const label of labels) {
      this.#checkLength(label);
      const best = this.#descend(label);
      const crit = this.#critBit(label, best);
      if (crit < 0) {
        reveal(best, full);
        continue;
      }
      for (const j of this.#neighbours(label, crit)) reveal(j, shown);
    }
    const build = (r: Ref): HashTree => {
      if (isLeafRef(r)) {
        const j = ~r;
        const label = this.#label(j).slice();
        if (full.has(j)) return labeled(label, subtreeOf(label));
        if (shown.has(j)) return labeled(label, pruned(this.#subHash.slice(j * 32, j * 32 + 32)));
        return pruned(this.#hashOf(r).slice());
      }
      if (!onPath.has(r)) return pruned(this.#hashOf(r).slice());
      return fork(build(this.#left[r]!), build(this.#right[r]!));
    };
    return build(this.#root);
  }

  /** The leaves just below and just above an absent label (one of them may not exist). */
  #neighbours(label: Uint8Array, crit: number): number[] {
    // Down to the subtree T whose labels share the label's first `crit` bits: all of T lies on
    // one side of the label. Remember where the walk went left and right on the way.
    let r = this.#root!;
    let lastLeftTurn = -1; // an ancestor whose right subtree holds the next larger labels
    let lastRightTurn = -1; // an ancestor whose left subtree holds the next smaller labels
    while (!isLeafRef(r) && this.#bit[r]! < crit) {
      if (this.#bitOf(label, this.#bit[r]!) === 0) {
        lastLeftTurn = r;
        r = this.#left[r]!;
      } else {
        lastRightTurn = r;
        r = this.#right[r]!;
      }
    }
    const out: number[] = [];
    if (this.#bitOf(label, crit) === 1) {
      // label > all of T: predecessor = max(T), successor = min of the right side of the last left turn.
      out.push(this.#extreme(r, 'max'));
      if (lastLeftTurn >= 0) out.push(this.#extreme(this.#right[lastLeftTurn]!, 'min'));
    } else {
      out.push(this.#extreme(r, 'min'));
      if (lastRightTurn >= 0) out.push(this.#extreme(this.#left[lastRightTurn]!, 'max'));
    }
    return out;
  }

  #extreme(r: Ref, which: 'min' | 'max'): number {
    while (!isLeafRef(r)) r = which === 'min' ? this.#left[r]! : this.#right[r]!;
    return ~r;
  }
}

function grow<T extends Uint8Array | Int32Array>(a: T, length: number): T {
  const b = new (a.constructor as new (n: number) => T)(length);
  b.set(a);
  return b;
}
