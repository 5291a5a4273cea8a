/** Shared helpers for the op tests: backends, awkward random inputs, float64 references, checks. */
import * as tf from "@tensorflow/tfjs-core";
// tfjs-core's Node bundle registers no gradients for the stock ops; the union package does
import "@tensorflow/tfjs";
import "@tensorflow/tfjs-backend-cpu";
import "@tensorflow/tfjs-backend-wasm";
import { expect } from "vitest";
import type { SparseKernels } from "../../../runtime-wasm/host/kernel-api.js";
import { referenceKernels } from "../../../runtime-wasm/host/reference-kernels.js";
import type { CsrMatrix } from "../../../ticket/csr.js";
import { Rng } from "../../../trainer/util/rng.js";

export const BACKENDS = ["cpu", "wasm"] as const;

/** The SparseKernels implementations to run the ops on: the reference, and the SIMD one when built. */
export async function kernelSets(): Promise<SparseKernels[]> {
  const sets: SparseKernels[] = [referenceKernels];
  try {
    // needs runtime-wasm/build/wasm-bytes.ts (npm run build:wasm)
    const m = await import("../../../runtime-wasm/host/wasm-kernels.js");
    sets.push(m.loadWasmKernels());
  } catch (err) {
    console.warn(`wasm SIMD kernels not available (${(err as Error).message.split("\n")[0]}); testing the reference kernels only`);
  }
  return sets;
}

/**
 * Every (backend, kernels) pair the op tests run on, and the wasm backend with the SIMD kernels on
 * its own heap (trainer/kernels.ts: what training uses there; operands in place, no copies).
 */
export async function configs(): Promise<{ backend: string; kernels: SparseKernels; label: string }[]> {
  const out = [];
  for (const kernels of await kernelSets()) for (const backend of BACKENDS) out.push({ backend, kernels, label: `${backend} backend, ${kernels.name} kernels` });
  await useBackend("wasm");
  const { tfjsHeapKernels } = await import("../../../trainer/kernels.js");
  const shared = tfjsHeapKernels();
  if (!shared) throw new Error("the tfjs wasm backend exposes no memory and allocator: the shared-heap kernels cannot run");
  out.push({ backend: "wasm", kernels: shared, label: `wasm backend, ${shared.name} kernels` });
  return out;
}

export async function useBackend(name: string): Promise<void> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} failed`);
  await tf.ready();
}

export function randn(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.normal();
  return a;
}

/**
 * A directed multigraph with awkward parts: node 0 isolated, node 1 without in-edges (only
 * out-edges), node 2 without out-edges, a self-loop, a duplicated edge, the rest random.
 * n must be ≥ 6.
 */
export function awkwardGraph(rng: Rng, n: number, randomEdges: number): { src: Int32Array; dst: Int32Array } {
  const src: number[] = [1, 1, 3, 4, 4, 5];
  const dst: number[] = [3, 2, 3, 5, 5, 2]; // 3→3 self-loop, 4→5 twice
  for (let i = 0; i < randomEdges; i++) {
    src.push(3 + rng.int(n - 3)); // never 0 (isolated) or 1, 2 (fixed edges only)
    dst.push(2 + rng.int(n - 2)); // never 0 or 1 (no in-edges)
  }
  // edges in a scrambled order so no CSR permutation is the identity
  const order = rng.shuffle(Array.from(src.keys()));
  return { src: Int32Array.from(order, (k) => src[k]), dst: Int32Array.from(order, (k) => dst[k]) };
}

/** Random CSR with some empty rows and empty columns. */
export function randomCsr(rng: Rng, rows: number, cols: number, density: number): CsrMatrix {
  const rowPtr = new Int32Array(rows + 1);
  const colIdx: number[] = [];
  const values: number[] = [];
  for (let r = 0; r < rows; r++) {
    if (r % 4 !== 1) {
      for (let c = 0; c < cols; c++) {
        if (c % 5 === 2) continue; // empty columns
        if (rng.next() < density) {
          colIdx.push(c);
          values.push(rng.normal());
        }
      }
    }
    rowPtr[r + 1] = colIdx.length;
  }
  return { rows, cols, rowPtr, colIdx: Int32Array.from(colIdx), values: Float32Array.from(values) };
}

export function csrToDenseF64(m: CsrMatrix): Float64Array {
  const d = new Float64Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) d[r * m.cols + m.colIdx[k]] += m.values[k];
  return d;
}

/** Central differences of a float64 scalar function, one coordinate at a time. */
export function numericGrad(f: (x: Float64Array) => number, x0: ArrayLike<number>, eps = 1e-3): Float64Array {
  const x = Float64Array.from(x0);
  const g = new Float64Array(x.length);
  for (let i = 0; i < x.length; i++) {
    const xi = x[i];
    x[i] = xi + eps;
    const fp = f(x);
    x[i] = xi - eps;
    const fm = f(x);
    x[i] = xi;
    g[i] = (fp - fm) / (2 * eps);
  }
  return g;
}

export function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * Elementwise |actual − expected| ≤ rtol·|expected| + atol, atol = rtol·0.1·max|expected| (float32
 * sums of terms of mixed sign lose accuracy relative to the largest term, not to the result).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, rtol = 1e-4): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let maxAbs = 0;
  for (let i = 0; i < expected.length; i++) maxAbs = Math.max(maxAbs, Math.abs(expected[i]));
  const atol = rtol * 0.1 * maxAbs + 1e-12;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const err = Math.abs(actual[i] - expected[i]);
    const excess = err - (rtol * Math.abs(expected[i]) + atol);
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol.toExponential(2)})`);
  }
}

/** SparseKernels that count calls, to see which kernels a gradient ran. */
export function countingKernels(base: SparseKernels = referenceKernels): SparseKernels & { calls: Record<string, number> } {
  const calls: Record<string, number> = { spmm: 0, sddmm: 0, spgemm: 0, spgemmGradW: 0, setValues: 0 };
  return {
    name: `counting(${base.name})`,
    calls,
    csr(rowPtr, colIdx, values, cols) {
      const h = base.csr(rowPtr, colIdx, values, cols);
      return {
        get rows() {
          return h.rows;
        },
        get cols() {
          return h.cols;
        },
        get nnz() {
          return h.nnz;
        },
        setValues(v: Float32Array) {
          calls.setValues++;
          h.setValues(v);
        },
        free() {
          h.free();
        },
        inner: h,
      } as unknown as ReturnType<SparseKernels["csr"]>;
    },
    spmm(a, b, f, out) {
      calls.spmm++;
      base.spmm((a as unknown as { inner: typeof a }).inner, b, f, out);
    },
    sddmm(a, x, y, f, out) {
      calls.sddmm++;
      base.sddmm((a as unknown as { inner: typeof a }).inner, x, y, f, out);
    },
    spgemm(x, w, out) {
      calls.spgemm++;
      base.spgemm((x as unknown as { inner: typeof x }).inner, (w as unknown as { inner: typeof w }).inner, out);
    },
    spgemmGradW(x, w, dy, out) {
      calls.spgemmGradW++;
      base.spgemmGradW((x as unknown as { inner: typeof x }).inner, (w as unknown as { inner: typeof w }).inner, dy, out);
    },
  };
}

export async function data(t: tf.Tensor): Promise<Float32Array> {
  return (await t.data()) as Float32Array;
}
