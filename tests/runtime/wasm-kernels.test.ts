// SparseKernels on wasm against referenceKernels: spmm, sddmm, setValues, reuse, errors.
import { describe, expect, it } from "vitest";
import { loadWasmKernels, loadWasmKernelsAsync } from "../../runtime-wasm/host/wasm-kernels.js";
import { referenceKernels } from "../../runtime-wasm/host/reference.js";
import { TestRng, randomCsr, randomDense, relErr } from "./helpers.js";

const TOL = 1e-5;

for (const variant of ["release", "debug"] as const) {
  describe(`SparseKernels wasm (${variant}) vs reference`, () => {
    const wasm = loadWasmKernels({ variant });

    it("spmm and sddmm on awkward sizes, then after setValues", () => {
      const rng = new TestRng(21);
      for (const f of [1, 3, 5, 7, 13, 17, 63, 130]) {
        for (const [rows, cols, density, empty] of [[1, 1, 1, 0], [40, 33, 0.1, 0.3], [25, 25, 0, 0]] as const) {
          const a = randomCsr(rng, rows, cols, density, empty);
          const hw = wasm.csr(a.rowPtr, a.colIdx, a.values, cols);
          const hr = referenceKernels.csr(a.rowPtr, a.colIdx, a.values, cols);
          expect([hw.rows, hw.cols, hw.nnz]).toEqual([rows, cols, a.colIdx.length]);
          for (let round = 0; round < 2; round++) {
            const b = randomDense(rng, cols * f);
            const ow = new Float32Array(rows * f).fill(NaN);
            const or = new Float32Array(rows * f);
            wasm.spmm(hw, b, f, ow);
            referenceKernels.spmm(hr, b, f, or);
            expect(relErr(ow, or), `spmm f=${f} rows=${rows} round ${round}`).toBeLessThanOrEqual(TOL);
            const x = randomDense(rng, rows * f);
            const y = randomDense(rng, cols * f);
            const sw = new Float32Array(hw.nnz).fill(NaN);
            const sr = new Float32Array(hw.nnz);
            wasm.sddmm(hw, x, y, f, sw);
            referenceKernels.sddmm(hr, x, y, f, sr);
            expect(relErr(sw, sr), `sddmm f=${f} rows=${rows} round ${round}`).toBeLessThanOrEqual(TOL);
            const v = randomDense(rng, hw.nnz);
            hw.setValues(v);
            hr.setValues(v);
          }
          hw.free();
        }
      }
    });

    it("repeated calls at one size reuse the staging buffers (memory does not grow)", () => {
      const rng = new TestRng(22);
      const k = loadWasmKernels({ variant });
      const a = randomCsr(rng, 300, 300, 0.02);
      const h = k.csr(a.rowPtr, a.colIdx, a.values, 300);
      const b = randomDense(rng, 300 * 64);
      const out = new Float32Array(300 * 64);
      const sd = new Float32Array(h.nnz);
      k.spmm(h, b, 64, out);
      k.sddmm(h, b, b, 64, sd);
      const mem = k.runtime.heap.memoryBytes;
      const used = k.runtime.heap.usedBytes;
      for (let i = 0; i < 10; i++) {
        k.spmm(h, b, 64, out);
        k.sddmm(h, b, b, 64, sd);
        h.setValues(randomDense(rng, h.nnz));
      }
      expect(k.runtime.heap.memoryBytes).toBe(mem);
      expect(k.runtime.heap.usedBytes).toBe(used);
      // freeing and re-creating a handle of the same size reuses the freed regions
      h.free();
      const h2 = k.csr(a.rowPtr, a.colIdx, a.values, 300);
      expect(k.runtime.heap.usedBytes).toBe(used);
      h2.free();
    });

    it("operands that live in wasm memory are used in place", () => {
      const rng = new TestRng(23);
      const a = randomCsr(rng, 20, 20, 0.2);
      const hw = wasm.csr(a.rowPtr, a.colIdx, a.values, 20);
      const hr = referenceKernels.csr(a.rowPtr, a.colIdx, a.values, 20);
      const heap = wasm.runtime.heap;
      const bp = heap.allocF32(randomDense(rng, 20 * 9));
      const op = heap.alloc(20 * 9 * 4);
      wasm.spmm(hw, heap.f32(bp, 20 * 9), 9, heap.f32(op, 20 * 9));
      const expected = new Float32Array(20 * 9);
      referenceKernels.spmm(hr, heap.f32(bp, 20 * 9).slice(), 9, expected);
      expect(relErr(heap.f32(op, 20 * 9), expected)).toBeLessThanOrEqual(TOL);
      heap.free(bp);
      heap.free(op);
      hw.free();
    });

    it("rejects bad structures and operands with a clear error", () => {
      expect(() => wasm.csr(Int32Array.from([0, 2]), Int32Array.from([0, 5]), Float32Array.from([1, 1]), 3)).toThrow(/colIdx\[1\] = 5/);
      expect(() => wasm.csr(Int32Array.from([0, 2, 1]), Int32Array.from([0]), Float32Array.from([1]), 3)).toThrow(/rowPtr/);
      expect(() => wasm.csr(Int32Array.from([0, 1]), Int32Array.from([0]), Float32Array.from([1, 2]), 3)).toThrow(/values/);
      const h = wasm.csr(Int32Array.from([0, 1]), Int32Array.from([0]), Float32Array.from([1]), 3);
      expect(() => wasm.spmm(h, new Float32Array(2), 1, new Float32Array(1))).toThrow(/b has 2 floats, needs 3/);
      expect(() => h.setValues(new Float32Array(2))).toThrow(/expected 1/);
      const other = referenceKernels.csr(Int32Array.from([0, 1]), Int32Array.from([0]), Float32Array.from([1]), 3);
      expect(() => wasm.spmm(other, new Float32Array(3), 1, new Float32Array(1))).toThrow(/not created by this kernel set/);
      h.free();
      expect(() => wasm.spmm(h, new Float32Array(3), 1, new Float32Array(1))).toThrow(/after free/);
    });
  });
}

describe("loadWasmKernelsAsync", () => {
  it("gives the same results as the sync loader", async () => {
    const k = await loadWasmKernelsAsync();
    const rng = new TestRng(24);
    const a = randomCsr(rng, 10, 10, 0.3);
    const b = randomDense(rng, 10 * 6);
    const o1 = new Float32Array(60);
    const o2 = new Float32Array(60);
    k.spmm(k.csr(a.rowPtr, a.colIdx, a.values, 10), b, 6, o1);
    referenceKernels.spmm(referenceKernels.csr(a.rowPtr, a.colIdx, a.values, 10), b, 6, o2);
    expect(relErr(o1, o2)).toBeLessThanOrEqual(TOL);
  });
});
