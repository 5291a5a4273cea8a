/**
 * Receptive fields of node queries (pure TypeScript, no wasm).
 *
 * A k-layer model's logits at node v (GCN, GIN or GAT alike) depend only on the nodes within k
 * in-edge hops of v. For a set
 * of query nodes Q the fields nest: R_0 = Q, R_h = R_{h−1} ∪ in-neighbours(R_{h−1}). Numbering
 * the nodes in BFS order (queries first, then each hop's newcomers) makes every R_h a prefix
 * 0 … |R_h| − 1 of the local ids, so layer l (0-based, of L) computes rows [0, |R_{L−1−l}|) from
 * input rows [0, |R_{L−l}|), and one sub-CSR over the rows of R_{L−1} serves every layer: a layer
 * that needs fewer rows passes a smaller row count with the same rowPtr.
 *
 * Only the frontier of each hop is expanded (the in-neighbours of R_{h−2} are already in R_{h−1}),
 * so a query costs O(|R_k| + in-edges of R_{k−1}). The global → local map is one Int32Array of
 * numNodes entries kept across queries and reset entry by entry, so nothing is O(numNodes) per query.
 */

export interface FieldGraph {
  numNodes: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
}

export class ReceptiveField {
  /** global id → local id, −1 when not in the current field */
  private readonly local: Int32Array;
  /** local id → global id (BFS order) */
  readonly order: Int32Array;
  /** bounds[h] = |R_h|, h = 0 … hops */
  readonly bounds: Int32Array;
  private size = 0;

  constructor(
    private readonly g: FieldGraph,
    readonly hops: number,
  ) {
    this.local = new Int32Array(g.numNodes).fill(-1);
    this.order = new Int32Array(g.numNodes);
    this.bounds = new Int32Array(hops + 1);
  }

  /** Nodes in the field of the last build (|R_hops|). */
  get count(): number {
    return this.size;
  }

  /** Local id of a global node in the current field (−1 if outside). */
  localOf(v: number): number {
    return this.local[v];
  }

  /**
   * Builds the field of `nodes` (ids already checked to be in range). Duplicates get one local id.
   * Call clear() before the next build (build does it itself if the last one was not cleared).
   */
  build(nodes: ArrayLike<number>): void {
    if (this.size > 0) this.clear();
    const { rowPtr, colIdx } = this.g;
    const local = this.local;
    const order = this.order;
    let cnt = 0;
    for (let p = 0; p < nodes.length; p++) {
      const v = nodes[p];
      if (local[v] < 0) {
        local[v] = cnt;
        order[cnt++] = v;
      }
    }
    this.bounds[0] = cnt;
    let start = 0;
    for (let h = 1; h <= this.hops; h++) {
      const end = cnt;
      for (let i = start; i < end; i++) {
        const v = order[i];
        for (let k = rowPtr[v], e = rowPtr[v + 1]; k < e; k++) {
          const u = colIdx[k];
          if (local[u] < 0) {
            local[u] = cnt;
            order[cnt++] = u;
          }
        }
      }
      start = end;
      this.bounds[h] = cnt;
    }
    this.size = cnt;
  }

  /** Resets the map for the next query (O(field size)). */
  clear(): void {
    const local = this.local;
    const order = this.order;
    for (let i = 0; i < this.size; i++) local[order[i]] = -1;
    this.size = 0;
  }

  /** In-edges of the first `rows` local nodes (the nnz of the sub-CSR's first `rows` rows). */
  edgesOfPrefix(rows: number): number {
    const { rowPtr } = this.g;
    let e = 0;
    for (let i = 0; i < rows; i++) {
      const v = this.order[i];
      e += rowPtr[v + 1] - rowPtr[v];
    }
    return e;
  }

  /**
   * Writes the sub-CSR of the first `rows` local nodes, columns renumbered to local ids (all
   * below bounds[h + 1] for a row in R_h, since the field is closed under in-neighbours up to
   * `hops`), in the original edge order of each row (so every row sums in the same order as in
   * the full graph), values copied. The outputs hold at least rows + 1 / edgesOfPrefix(rows) entries.
   */
  writeSubCsr(rows: number, coef: Float32Array, rowPtrOut: Int32Array, colIdxOut: Int32Array, valuesOut: Float32Array): void {
    const { rowPtr, colIdx } = this.g;
    const local = this.local;
    const order = this.order;
    let q = 0;
    rowPtrOut[0] = 0;
    for (let i = 0; i < rows; i++) {
      const v = order[i];
      for (let k = rowPtr[v], e = rowPtr[v + 1]; k < e; k++) {
        colIdxOut[q] = local[colIdx[k]];
        valuesOut[q++] = coef[k];
      }
      rowPtrOut[i + 1] = q;
    }
  }
}
