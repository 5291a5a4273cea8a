/**
 * Micro-benchmark of the wasm kernels against the plain TypeScript references, at Cora sizes:
 * every kernel of runtime-wasm/README.md (SpMM, SDDMM, sparse and dense weight products, GEMM,
 * GAT scores and aggregation, bias + ReLU/ELU, transpose, dense → CSR; f32_zero and f32_copy are
 * memory.fill / memory.copy) and the whole GCN forward.
 * Run by hand:  npx tsx bench/kernels.ts [--quick]
 * Prints medians (ms), GFLOP/s (2 flops per MAC) and the speed-up over the reference.
 */
import { WasmRuntime } from "../runtime-wasm/host/wasm-module.js";
import { loadWasmKernels } from "../runtime-wasm/host/wasm-kernels.js";
import {
  ACT_CODE,
  referenceKernels,
  refBiasAct,
  refDenseTimesSparseW,
  refGatAggregate,
  refGatScores,
  refGemm,
  refSpgemm,
  refSpmmCsr,
  refTranspose,
} from "../runtime-wasm/host/reference.js";
import { csrTranspose, csrToDense, denseToCsr, type CsrMatrix } from "../ticket/csr.js";
import { createModel } from "../runtime-wasm/host/model.js";
import { referenceForward } from "../runtime-wasm/host/reference.js";
import type { Ticket, WeightMatrix } from "../ticket/ticket.js";
import { Mulberry32 } from "../trainer/util/mulberry32.js";

const quick = process.argv.includes("--quick");
const BUDGET_MS = quick ? 300 : 1500;

const rng = new Mulberry32(42); // the runtime tests' generator (same inputs as before it was shared)

function dense(len: number, zeroFraction = 0): Float32Array {
  const a = new Float32Array(len);
  for (let i = 0; i < len; i++) a[i] = rng.next() < zeroFraction ? 0 : rng.next() * 2 - 1;
  return a;
}

/** rows × cols CSR with exactly ~nnz entries spread uniformly (distinct, ascending per row). */
function csr(rows: number, cols: number, nnz: number): CsrMatrix {
  const perRow: number[][] = Array.from({ length: rows }, () => []);
  const seen = new Set<number>();
  while (seen.size < nnz) {
    const key = Math.floor(rng.next() * rows) * cols + Math.floor(rng.next() * cols);
    if (!seen.has(key)) {
      seen.add(key);
      perRow[Math.floor(key / cols)].push(key % cols);
    }
  }
  const rowPtr = new Int32Array(rows + 1);
  const colIdx = new Int32Array(nnz);
  const values = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    perRow[r].sort((a, b) => a - b);
    for (const c of perRow[r]) {
      colIdx[k] = c;
      values[k++] = rng.next() * 2 - 1;
    }
    rowPtr[r + 1] = k;
  }
  return { rows, cols, rowPtr, colIdx, values };
}

/** A Cora-like graph: 2708 nodes, 13264 entries (10556 edges + 2708 self-loops), power-law-ish degrees. */
function coraGraph(): CsrMatrix {
  const n = 2708;
  const edges = new Set<number>();
  for (let i = 0; i < n; i++) edges.add(i * n + i);
  while (edges.size < 13264) {
    const a = Math.floor(rng.next() * n);
    const b = Math.floor(Math.pow(rng.next(), 2) * n); // skewed: some hubs
    if (a === b) continue;
    edges.add(a * n + b);
    if (edges.size < 13264) edges.add(b * n + a);
  }
  const keys = [...edges].sort((x, y) => x - y);
  const rowPtr = new Int32Array(n + 1);
  const colIdx = new Int32Array(keys.length);
  const values = new Float32Array(keys.length);
  keys.forEach((key, k) => {
    rowPtr[Math.floor(key / n) + 1]++;
    colIdx[k] = key % n;
    values[k] = 0.1 + 0.2 * rng.next();
  });
  for (let i = 0; i < n; i++) rowPtr[i + 1] += rowPtr[i];
  return { rows: n, cols: n, rowPtr, colIdx, values };
}

function median(fn: () => void, budgetMs = BUDGET_MS, maxReps = 200): number {
  fn(); // warm-up
  const times: number[] = [];
  const t0 = performance.now();
  while (times.length < 3 || (performance.now() - t0 < budgetMs && times.length < maxReps)) {
    const t = performance.now();
    fn();
    times.push(performance.now() - t);
    if (times.length >= 1 && performance.now() - t0 > budgetMs * 4) break; // slow reference: stop early
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

interface Row {
  name: string;
  macs: number;
  wasm: number;
  ref: number | null;
}
const rows: Row[] = [];
function report(name: string, macs: number, wasm: number, ref: number | null): void {
  rows.push({ name, macs, wasm, ref });
  const g = (ms: number) => ((2 * macs) / (ms * 1e6)).toFixed(2);
  console.log(
    [
      name.padEnd(48),
      wasm.toFixed(3).padStart(9),
      g(wasm).padStart(8),
      (ref === null ? "—" : ref.toFixed(1)).padStart(10),
      (ref === null ? "—" : g(ref)).padStart(8),
      (ref === null ? "—" : (ref / wasm).toFixed(1) + "×").padStart(8),
    ].join(" "),
  );
}

const rt = WasmRuntime.create("release");
const ex = rt.exports;
const heap = rt.heap;
const put = (a: Float32Array | Int32Array) => (a instanceof Int32Array ? heap.allocI32(a) : heap.allocF32(a));
const putCsr = (m: CsrMatrix) => ({ rowPtr: put(m.rowPtr), colIdx: put(m.colIdx), values: put(m.values) });

console.log(`fastglt kernel bench (${quick ? "quick" : "full"}), medians; GFLOP/s = 2·MACs/time; Node ${process.version}`);
console.log(["kernel".padEnd(48), "wasm ms".padStart(9), "GFLOP/s".padStart(8), "ref ms".padStart(10), "GFLOP/s".padStart(8), "speedup".padStart(8)].join(" "));

// 1. SpMM Â·H at Cora size
{
  const g = coraGraph();
  const f = 512;
  const b = dense(g.cols * f);
  const p = putCsr(g);
  const bp = put(b);
  const out = heap.alloc(g.rows * f * 4);
  const macs = g.colIdx.length * f;
  const w = median(() => ex.f32_spmm_csr(g.rows, f, g.cols, p.rowPtr, p.colIdx, p.values, bp, 0, 0, out));
  const refH = referenceKernels.csr(g.rowPtr, g.colIdx, g.values, g.cols);
  const refOut = new Float32Array(g.rows * f);
  const r = median(() => referenceKernels.spmm(refH, b, f, refOut));
  report(`spmm Â·H 2708² nnz=${g.colIdx.length} F=512`, macs, w, r);
  // through the SparseKernels interface (copies B in, out back)
  const sk = loadWasmKernels();
  const h = sk.csr(g.rowPtr, g.colIdx, g.values, g.cols);
  const o2 = new Float32Array(g.rows * f);
  const w2 = median(() => sk.spmm(h, b, f, o2));
  report("  same via SparseKernels.spmm (with copies)", macs, w2, r);
  const sd = new Float32Array(g.colIdx.length);
  const w3 = median(() => sk.sddmm(h, b, b, f, sd));
  const r3 = median(() => referenceKernels.sddmm(refH, b, b, f, sd));
  report("sddmm 2708² nnz=13264 F=512 (SparseKernels)", macs, w3, r3);
  const f7 = 7;
  const b7 = dense(g.cols * f7);
  const b7p = put(b7);
  const w4 = median(() => ex.f32_spmm_csr(g.rows, f7, g.cols, p.rowPtr, p.colIdx, p.values, b7p, 0, 0, out));
  const r4 = median(() => refSpmmCsr(g, b7, f7));
  report("spmm Â·T 2708² nnz=13264 F=7", g.colIdx.length * f7, w4, r4);
}

// 2. sparse features × dense weights (layer 1)
const X = csr(2708, 1433, 49216);
const px = putCsr(X);
{
  const f = 512;
  const W = dense(1433 * f);
  const wp = put(W);
  const out = heap.alloc(2708 * f * 4);
  const macs = X.colIdx.length * f;
  const w = median(() => ex.f32_spmm_csr(X.rows, f, X.cols, px.rowPtr, px.colIdx, px.values, wp, 0, 0, out));
  const r = median(() => refSpmmCsr(X, W, f));
  report("X·W  X 2708×1433 csr nnz=49k, W dense ×512", macs, w, r);
  for (const density of [0.5, 0.2, 0.05]) {
    const Ws = csr(1433, f, Math.round(1433 * f * density));
    const pw = putCsr(Ws);
    const smacs = (() => {
      let s = 0;
      for (let k = 0; k < X.colIdx.length; k++) s += Ws.rowPtr[X.colIdx[k] + 1] - Ws.rowPtr[X.colIdx[k]];
      return s;
    })();
    const ws = median(() => ex.f32_spgemm_csr(X.rows, X.cols, f, px.rowPtr, px.colIdx, px.values, pw.rowPtr, pw.colIdx, pw.values, 0, 0, out));
    const rs = median(() => refSpgemm(X, Ws), BUDGET_MS, 20);
    report(`X·W  W csr density ${density} (spgemm)`, smacs, ws, rs);
  }
}

// 3. dense GEMM
for (const [m, k, n] of [[2708, 512, 7], [2708, 1433, 512], [2708, 512, 512]]) {
  const a = dense(m * k);
  const b = dense(k * n);
  const ap = put(a);
  const bp = put(b);
  const packed = heap.alloc(ex.f32_gemm_packed_size(k, n) * 4);
  ex.f32_gemm_pack_b(k, n, bp, n, packed);
  const c = heap.alloc(m * n * 4);
  const macs = m * k * n;
  const w = median(() => ex.f32_gemm(m, n, k, ap, k, packed, 0, 0, c, n));
  const r = macs > 1e8 && quick ? null : median(() => refGemm(m, n, k, a, b), BUDGET_MS, 5);
  report(`gemm ${m}×${k}×${n}`, macs, w, r);
  heap.free(c);
  heap.free(packed);
}

// 4. dense activations × sparse weights (hidden layers), vs dense GEMM on the same weights
for (const [fin, fout] of [[512, 512], [512, 7]]) {
  const n = 2708;
  const h = dense(n * fin, 0.5); // post-ReLU
  const hp = put(h);
  const out = heap.alloc(n * fout * 4);
  const scratch = heap.alloc(ex.f32_spmm_w_nm_scratch(fin, fout));
  const ht = heap.alloc(n * fin * 4);
  ex.f32_transpose(n, fin, hp, ht);
  for (const density of [0.5, 0.33, 0.2, 0.05]) {
    const W = csr(fin, fout, Math.max(1, Math.round(fin * fout * density)));
    const Wt = csrTranspose(W);
    const pw = putCsr(W);
    const pwt = putCsr(Wt);
    const macs = n * W.colIdx.length;
    const wNm = median(() => ex.f32_spmm_w_nm(n, fin, fout, hp, pwt.rowPtr, pwt.colIdx, pwt.values, 0, 0, out, scratch));
    const r = median(() => refDenseTimesSparseW(h, n, W), BUDGET_MS, 10);
    report(`H·W  ${n}×${fin} · ${fin}×${fout} d=${density} nm(16-tile)`, macs, wNm, r);
    const wFm = median(() => ex.f32_spmm_w_fm(n, fin, fout, ht, pwt.rowPtr, pwt.colIdx, pwt.values, 0, 0, out));
    report(`  same, feature-major in/out (no transposes)`, macs, wFm, r);
    const wAx = median(() => ex.f32_spmm_w_axpy(n, fin, fout, hp, pw.rowPtr, pw.colIdx, pw.values, 0, 0, out));
    report(`  same, node-major row-axpy (skips zeros)`, macs, wAx, r);
    // dense GEMM on the densified weights for comparison
    const Wd = new Float32Array(fin * fout);
    for (let i = 0; i < fin; i++) for (let q = W.rowPtr[i]; q < W.rowPtr[i + 1]; q++) Wd[i * fout + W.colIdx[q]] = W.values[q];
    const wdp = put(Wd);
    const packed = heap.alloc(ex.f32_gemm_packed_size(fin, fout) * 4);
    ex.f32_gemm_pack_b(fin, fout, wdp, fout, packed);
    const wG = median(() => ex.f32_gemm(n, fout, fin, hp, fin, packed, 0, 0, out, fout));
    report(`  same, dense gemm (${(n * fin * fout / 1e6).toFixed(0)}M MACs; GFLOP/s on nnz)`, macs, wG, r);
  }
}

// 5. whole GCN forward at Cora size (1433-512-7), through the planned model
{
  const g = coraGraph();
  const n = g.rows;
  const weight = (rows: number, cols: number, density: number): WeightMatrix => {
    if (density >= 1) return { format: "dense", rows, cols, data: dense(rows * cols) };
    return { format: "csr", ...csr(rows, cols, Math.round(rows * cols * density)) };
  };
  const ticket = (density: number): Ticket => ({
    version: 1,
    numClasses: 7,
    graph: { numNodes: n, rowPtr: g.rowPtr, colIdx: g.colIdx, coef: g.values },
    layers: [
      { kind: "gcn", inFeatures: 1433, outFeatures: 512, weight: weight(1433, 512, density), bias: dense(512), activation: "relu" },
      { kind: "gcn", inFeatures: 512, outFeatures: 7, weight: weight(512, 7, density), bias: dense(7), activation: "none" },
    ],
    features: X,
    meta: {} as Ticket["meta"],
  });
  const denseX = csrToDense(X).data;
  for (const density of [1, 0.2, 0.05]) {
    const t = ticket(density);
    const m = createModel(t);
    const steps = m.steps("csr");
    const macs = steps.reduce((s, st) => s + st.macs, 0);
    const w = median(() => m.run());
    const r = median(() => referenceForward(t), BUDGET_MS, 5);
    report(`GCN forward, weight density ${density}, csr X`, macs, w, r);
    const wa = median(() => m.run({ features: denseX }), BUDGET_MS, 20);
    report(`  same, X passed dense (→ csr at run time)`, macs, wa, r);
    const md = createModel(t, { denseInputMaxDensity: 0 });
    const macsD = md.steps("dense").reduce((s, st) => s + st.macs, 0);
    const wd = median(() => md.run({ features: denseX }), BUDGET_MS, 20);
    report(`  same, X passed dense, kept dense (GEMM)`, macsD, wd, null);
  }
}

// 6. GAT at Cora size: attention scores, then the fused softmax + aggregation (Z = H·W itself runs
// on the weight kernels above). Layer 1 as trained (8 heads × 64 or × 512, concatenated, ELU),
// the output layer (1 head × 7 classes, mean, no activation). MACs as the model profile counts
// them: heads·F per score, heads·(F + 1) per kept edge.
{
  const g = coraGraph();
  const n = g.rows;
  const nnz = g.colIdx.length;
  const p = putCsr(g);
  let maxDegree = 0;
  for (let i = 0; i < n; i++) maxDegree = Math.max(maxDegree, g.rowPtr[i + 1] - g.rowPtr[i]);
  const slope = 0.2;
  for (const [heads, f, concat, act] of [[8, 64, true, "elu"], [8, 512, true, "elu"], [1, 7, false, "none"]] as const) {
    const z = dense(n * heads * f);
    const aSrc = dense(heads * f);
    const aDst = dense(heads * f);
    const zp = put(z);
    const ap = put(aSrc);
    const dp = put(aDst);
    const el = heap.alloc(n * heads * 4);
    const er = heap.alloc(n * heads * 4);
    const ws = median(() => ex.f32_gat_scores(n, n, heads, f, zp, ap, dp, el, er));
    const rs = median(() => refGatScores(n, n, heads, f, z, aSrc, aDst), BUDGET_MS, 20);
    report(`gat scores 2708 nodes, ${heads} heads × ${f}`, 2 * n * heads * f, ws, rs);
    // the reference aggregates the same scores the kernel reads
    const elJs = new Float32Array(ex.memory.buffer, el, n * heads).slice();
    const erJs = new Float32Array(ex.memory.buffer, er, n * heads).slice();
    const outW = concat ? heads * f : f;
    const bias = dense(outW);
    const bp = put(bias);
    const out = heap.alloc(n * outW * 4);
    const scratch = heap.alloc(ex.f32_gat_aggregate_scratch(maxDegree, heads));
    const wa = median(() =>
      ex.f32_gat_aggregate(n, heads, f, n, p.rowPtr, p.colIdx, p.values, zp, el, er, slope, concat ? 1 : 0, bp, ACT_CODE[act], out, scratch, maxDegree),
    );
    const ra = median(() => refGatAggregate(g, heads, f, z, elJs, erJs, slope, concat, bias, act), BUDGET_MS, 5);
    report(`gat aggregate nnz=${nnz}, ${heads} × ${f} ${concat ? "concat" : "mean"} ${act}`, nnz * heads * (f + 1), wa, ra);
    for (const q of [zp, ap, dp, el, er, bp, out, scratch]) heap.free(q);
  }
}

// 7. element-wise kernels, one pass over 2708 × 512 (a hidden layer) or the features: rows marked
// (elements) count elements as MACs, so their GFLOP/s column reads 2 × elements per ns. f32_bias_act runs in place (the drift
// over repetitions does not change its cost: ELU's four-lane expm1 has no branches).
{
  const n = 2708;
  const f = 512;
  const x = dense(n * f);
  const bias = dense(f);
  const xp = put(x);
  const bp = put(bias);
  for (const act of ["none", "relu", "elu"] as const) {
    const w = median(() => ex.f32_bias_act(n, f, xp, bp, ACT_CODE[act]));
    const r = median(() => refBiasAct(n, f, x, bias, act), BUDGET_MS, 20);
    report(`bias + ${act} ${n}×${f} (elements)`, n * f, w, r);
  }
  const tp = heap.alloc(n * f * 4);
  const wt = median(() => ex.f32_transpose(n, f, xp, tp));
  const rt_ = median(() => refTranspose(n, f, x), BUDGET_MS, 20);
  report(`transpose ${n}×${f} (elements)`, n * f, wt, rt_);
  for (const q of [xp, bp, tp]) heap.free(q);
  // dense → CSR of the Cora-like features passed dense (what run({ features }) does at ≤ 25 % nonzeros)
  const xd = csrToDense(X);
  const dp = put(xd.data);
  const nnz = X.colIdx.length;
  const rowPtr = heap.alloc((X.rows + 1) * 4);
  const colIdx = heap.alloc(nnz * 4);
  const values = heap.alloc(nnz * 4);
  const got = ex.f32_csr_from_dense(X.rows, X.cols, dp, nnz, 0, rowPtr, colIdx, values);
  if (got !== nnz) throw new Error(`f32_csr_from_dense found ${got} nonzeros in X, expected ${nnz}`);
  const wc = median(() => ex.f32_csr_from_dense(X.rows, X.cols, dp, nnz, 0, rowPtr, colIdx, values));
  const rc = median(() => denseToCsr(xd), BUDGET_MS, 20);
  report(`dense → csr ${X.rows}×${X.cols} nnz=${nnz} (elements)`, X.rows * X.cols, wc, rc);
  for (const q of [dp, rowPtr, colIdx, values]) heap.free(q);
}

console.log(`\nwasm heap: ${(heap.memoryBytes / 2 ** 20).toFixed(0)} MiB linear memory`);
