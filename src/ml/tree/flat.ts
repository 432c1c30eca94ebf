/**
 * Flat tree storage shared by every tree learner (uplift trees, boosting trees) and the one predictor.
 *
 * A split sends a row left when its bin's bit is set in the node's 256-bit "left set". This single
 * representation covers numeric thresholds (bins 1..t, plus bin 0 = missing when missing goes left)
 * and categorical subsets (any set of level bins), so prediction has no per-kind branch.
 */
export const WORDS_PER_SET = 8; // 256 bits

export class FlatTreeBuilder {
  /** Feature index per node; -1 for a leaf. */
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  /** Leaf value per node (for internal nodes: the node's own value, useful for inspection). */
  value: Float64Array;
  leftSet: Uint32Array;
  size = 0;

  constructor(capacity = 64) {
    this.feature = new Int32Array(capacity);
    this.left = new Int32Array(capacity);
    this.right = new Int32Array(capacity);
    this.value = new Float64Array(capacity);
    this.leftSet = new Uint32Array(capacity * WORDS_PER_SET);
  }

  /** Appends a leaf and returns its index. */
  addLeaf(value: number): number {
    if (this.size === this.feature.length) this.grow();
    const i = this.size++;
    this.feature[i] = -1;
    this.left[i] = -1;
    this.right[i] = -1;
    this.value[i] = value;
    return i;
  }

  /** Turns leaf `node` into a split on `feature`; `isLeft(bin)` defines the left set. */
  setSplit(node: number, feature: number, leftBins: ArrayLike<number>, left: number, right: number): void {
    this.feature[node] = feature;
    this.left[node] = left;
    this.right[node] = right;
    const base = node * WORDS_PER_SET;
    this.leftSet.fill(0, base, base + WORDS_PER_SET);
    for (let k = 0; k < leftBins.length; k++) {
      const b = leftBins[k];
      this.leftSet[base + (b >>> 5)] |= 1 << (b & 31);
    }
  }

  finish(): FlatTree {
    const n = this.size;
    return {
      feature: this.feature.slice(0, n),
      left: this.left.slice(0, n),
      right: this.right.slice(0, n),
      value: this.value.slice(0, n),
      leftSet: this.leftSet.slice(0, n * WORDS_PER_SET),
    };
  }

  private grow(): void {
    const cap = this.feature.length * 2;
    const f = new Int32Array(cap); f.set(this.feature); this.feature = f;
    const l = new Int32Array(cap); l.set(this.left); this.left = l;
    const r = new Int32Array(cap); r.set(this.right); this.right = r;
    const v = new Float64Array(cap); v.set(this.value); this.value = v;
    const s = new Uint32Array(cap * WORDS_PER_SET); s.set(this.leftSet); this.leftSet = s;
  }
}

export interface FlatTree {
  feature: Int32Array;
  left: Int32Array;
  right: Int32Array;
  value: Float64Array;
  leftSet: Uint32Array;
}

/** True when `bin` belongs to node's left set. */
export function goesLeft(tree: FlatTree, node: number, bin: number): boolean {
  return ((tree.leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1) === 1;
}

/** Index of the leaf that row `row` reaches; `columns[f]` is feature f's bin column. */
export function leafOf(tree: FlatTree, columns: readonly Uint8Array[], row: number): number {
  let node = 0;
  const { feature, left, right, leftSet } = tree;
  while (feature[node] >= 0) {
    const bin = columns[feature[node]][row];
    node = ((leftSet[node * WORDS_PER_SET + (bin >>> 5)] >>> (bin & 31)) & 1) === 1 ? left[node] : right[node];
  }
  return node;
}

/**
 * Adds `scale * leafValue` of `tree` to out[k] for each rows[k] (or each row 0..n-1 when rows is
 * undefined). Ensembles call this once per tree.
 */
export function accumulate(
  tree: FlatTree,
  columns: readonly Uint8Array[],
  out: Float64Array,
  scale: number,
  rows?: Uint32Array,
): void {
  const m = rows ? rows.length : out.length;
  for (let k = 0; k < m; k++) {
    const row = rows ? rows[k] : k;
    out[k] += scale * tree.value[leafOf(tree, columns, row)];
  }
}

/**
 * Partitions rows[begin, begin+count) in place so rows going left (bin in the node's left set) come
 * first; returns how many went left. Order within each side is not preserved (deterministic anyway).
 */
export function partition(
  rows: Uint32Array,
  begin: number,
  count: number,
  bins: Uint8Array,
  leftSet: Uint32Array,
  setOffset: number,
): number {
  let i = begin;
  let j = begin + count - 1;
  while (i <= j) {
    const bi = bins[rows[i]];
    if (((leftSet[setOffset + (bi >>> 5)] >>> (bi & 31)) & 1) === 1) {
      i++;
    } else {
      const tmp = rows[i];
      rows[i] = rows[j];
      rows[j] = tmp;
      j--;
    }
  }
  return i - begin;
}
