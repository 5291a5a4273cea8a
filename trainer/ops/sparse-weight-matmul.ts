/**
 * y = (X ⊙ S) · (W ⊙ M): sparse input features (a constant CSR matrix X, optional per-entry factors
 * S, e.g. input dropout) times a pruned weight (W dense, trained; M binary, its kept entries given
 * as a WeightPattern). The work follows the kept weights instead of the dense matrix:
 *
 *   forward   Σ_v Σ_{i ∈ X[v]} nnz(M[i, :]) MACs           (dense W: nnz(X) · Fout)
 *   backward  gradient "masked": dW = (Xᵀ · dy) ⊙ M, the same MACs: the exact gradient of this op
 *             gradient "dense":  dW = Xᵀ · dy, every entry: what X · W would give, as if the pruned
 *             entries (which must then hold 0) were live; FastGLT's regrowth reads it
 *
 * At 95% weight sparsity the forward and the masked backward do ~1/20 of the dense work (as
 * scalar scatters, so it pays only at high sparsity: see sparseWeightMaxDensity). Both run the
 * injected SparseKernels (spgemm, spgemmGradW; the dense gradient spmm over Xᵀ). Only the kept
 * entries of W are read: W ⊙ M is what is multiplied, whatever W holds elsewhere.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { CsrHandle, SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import { asAttrs, ensureKernel, F32Output, getSparseKernels, readF32 } from "./kernel-bridge.js";

const KERNEL = "FastgltSparseWeightMatMul";
const GRAD_KERNEL = "FastgltSparseWeightMatMulGradW";

/**
 * The highest density of kept weights at which the trainer takes the sparse op (models/gcn.ts,
 * gat.ts) for an output width `fout`. Its scalar scatter costs ~10× a dense SIMD MAC, so it pays
 * below a density that depends on how the dense product fares: bench/sparse-weight-matmul.ts
 * (Cora's X, hot caches) has the forward break even near 10% at Fout 512 and near 20% at 4096 (the
 * dense product streams 16 KB rows of W there). Inside a training epoch, with cold caches, Cora GCN
 * FastGLT runs (630 epochs, seed 0, twice each) took 18.5–19.2 s dense and 17.9–19.9 s sparse at
 * 95% weight sparsity (no gain), 17.8–19.0 s and 16.2–17.4 s at 98%; the GAT (8 × 512 = 4096
 * wide) at 98.5%, 60 denoising epochs: 23.5 s dense, 19.3 s sparse.
 */
export function sparseWeightMaxDensity(fout: number): number {
  return fout >= 2048 ? 0.15 : 0.03;
}

/** The sparse features the op multiplies: X (or Xᵀ) with optional per-entry factors, as CSR handles. */
export interface SparseFeatures {
  readonly rows: number;
  readonly cols: number;
  readonly nnz: number;
  readonly kernels: SparseKernels;
  csrFor(transpose: boolean, scale: Float32Array | null): CsrHandle;
}

/** The kept entries of a rows × cols weight mask, as a CSR pattern whose values are gathered from W per call. */
export interface WeightPattern {
  readonly rows: number;
  readonly cols: number;
  /** kept entries */
  readonly nnz: number;
  /** nnz / (rows · cols) */
  readonly density: number;
  dispose(): void;
}

class Pattern implements WeightPattern {
  readonly handle: CsrHandle;
  /** row · cols + col of each stored entry, in CSR order */
  readonly flat: Int32Array;
  /** reused per call: gathered values (forward), masked gradient values (backward) */
  readonly buf: Float32Array;
  private disposed = false;

  constructor(
    readonly rows: number,
    readonly cols: number,
    rowPtr: Int32Array,
    colIdx: Int32Array,
    readonly kernels: SparseKernels,
  ) {
    this.flat = new Int32Array(colIdx.length);
    for (let r = 0; r < rows; r++) for (let q = rowPtr[r]; q < rowPtr[r + 1]; q++) this.flat[q] = r * cols + colIdx[q];
    this.buf = new Float32Array(colIdx.length);
    this.handle = kernels.csr(rowPtr, colIdx, this.buf, cols);
  }
  get nnz(): number {
    return this.flat.length;
  }
  get density(): number {
    return this.rows * this.cols === 0 ? 0 : this.nnz / (this.rows * this.cols);
  }
  /** Loads W's kept values into the handle. */
  gather(w: Float32Array): void {
    const { flat, buf } = this;
    for (let q = 0; q < flat.length; q++) buf[q] = w[flat[q]];
    this.handle.setValues(buf);
  }
  checkLive(): void {
    if (this.disposed) throw new Error("sparseWeightMatMul: the weight pattern was disposed");
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.handle.free();
  }
}

/** The pattern of a 0/1 mask (rows × cols, row-major; any non-zero counts as kept). */
export function prepareWeightPattern(mask: ArrayLike<number>, rows: number, cols: number, opts: { kernels?: SparseKernels } = {}): WeightPattern {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0) throw new Error(`prepareWeightPattern: bad shape [${rows}, ${cols}]`);
  if (mask.length !== rows * cols) throw new Error(`prepareWeightPattern: the mask has ${mask.length} entries, the shape [${rows}, ${cols}] needs ${rows * cols}`);
  const rowPtr = new Int32Array(rows + 1);
  let nnz = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (mask[r * cols + c] !== 0) nnz++;
    rowPtr[r + 1] = nnz;
  }
  const colIdx = new Int32Array(nnz);
  for (let r = 0, q = 0; r < rows; r++) for (let c = 0; c < cols; c++) if (mask[r * cols + c] !== 0) colIdx[q++] = c;
  return new Pattern(rows, cols, rowPtr, colIdx, opts.kernels ?? getSparseKernels());
}

interface Attrs {
  x: SparseFeatures;
  scale: Float32Array | null;
  pattern: Pattern;
  gradient: "masked" | "dense";
}

const forwardKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, pattern } = attrs as unknown as Attrs;
  const out = new F32Output(backend, [x.rows, pattern.cols]);
  pattern.gather(readF32(backend, inputs.w!, "sparseWeightMatMul w"));
  pattern.kernels.spgemm(x.csrFor(false, scale), pattern.handle, out.view());
  return out.finish();
};

const gradKernel: tf.KernelFunc = ({ inputs, backend, attrs }) => {
  const { x, scale, pattern, gradient } = attrs as unknown as Attrs;
  const out = new F32Output(backend, [pattern.rows, pattern.cols]);
  if (gradient === "dense") {
    pattern.kernels.spmm(x.csrFor(true, scale), readF32(backend, inputs.dy!, "sparseWeightMatMul dy"), pattern.cols, out.view());
  } else {
    pattern.kernels.spgemmGradW(x.csrFor(false, scale), pattern.handle, readF32(backend, inputs.dy!, "sparseWeightMatMul dy"), pattern.buf);
    const o = out.view();
    o.fill(0);
    const { flat, buf } = pattern;
    for (let q = 0; q < flat.length; q++) o[flat[q]] = buf[q];
  }
  return out.finish();
};

if (tf.getGradient(KERNEL) == null) {
  tf.registerGradient({
    kernelName: KERNEL,
    gradFunc: (dy, _saved, attrs) => ({
      w: () => {
        ensureKernel(GRAD_KERNEL, gradKernel);
        return tf.engine().runKernel(GRAD_KERNEL, { dy: dy as tf.Tensor }, attrs) as tf.Tensor;
      },
    }),
  });
}

/**
 * (X ⊙ scale) · (W ⊙ M) with M's kept entries in `pattern` (prepareWeightPattern) and X from
 * prepareSparseMatrix (scale null) or prepareScaledSparse; differentiable in w, whose gradient is
 * masked or dense (see the file header). X and the pattern must use the same SparseKernels.
 */
export function sparseWeightMatMul(x: SparseFeatures, w: tf.Tensor2D, scale: Float32Array | null, pattern: WeightPattern, opts: { gradient: "masked" | "dense" }): tf.Tensor2D {
  if (!(pattern instanceof Pattern)) throw new Error("sparseWeightMatMul: pattern must come from prepareWeightPattern");
  pattern.checkLive();
  if (pattern.kernels !== x.kernels) throw new Error("sparseWeightMatMul: X and the weight pattern were prepared with different SparseKernels");
  if (w.rank !== 2 || w.shape[0] !== x.cols || w.shape[0] !== pattern.rows || w.shape[1] !== pattern.cols) {
    throw new Error(`sparseWeightMatMul: w must be [${x.cols}, ${pattern.cols}] (X [${x.rows}, ${x.cols}], pattern [${pattern.rows}, ${pattern.cols}]), got [${w.shape.join(", ")}]`);
  }
  if (w.dtype !== "float32") throw new Error(`sparseWeightMatMul: w must be float32, got ${w.dtype}`);
  if (opts.gradient !== "masked" && opts.gradient !== "dense") throw new Error(`sparseWeightMatMul: gradient must be "masked" or "dense", got ${String(opts.gradient)}`);
  ensureKernel(KERNEL, forwardKernel);
  return tf.engine().runKernel(KERNEL, { w }, asAttrs({ x, scale, pattern, gradient: opts.gradient })) as tf.Tensor2D;
}
