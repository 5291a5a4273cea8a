// SparseKernels on wasm against referenceKernels: spmm, sddmm, setValues, reuse, errors.
import { describe, expect, it } from "vitest";
import { loadWasmKernels, loadWasmKernelsAsync } from "../../runtime-wasm/host/wasm-kernels.js";
import { loadWasmKernelsOnHeap } from "../../runtime-wasm/host/shared-heap-kernels.js";
import { MallocHeap } from "../../runtime-wasm/host/heap.js";
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

    it("spgemm and spgemmGradW on awkward sizes, then after setValues", () => {
      const rng = new TestRng(24);
      for (const [rows, fin, fout, xd, wd] of [[1, 1, 1, 1, 1], [37, 29, 13, 0.15, 0.2], [12, 40, 65, 0.3, 0.05], [9, 7, 5, 0, 0.5], [9, 7, 5, 0.5, 0]] as const) {
        const x = randomCsr(rng, rows, fin, xd, 0.25);
        const w = randomCsr(rng, fin, fout, wd, 0.25);
        const [xw, ww] = [wasm.csr(x.rowPtr, x.colIdx, x.values, fin), wasm.csr(w.rowPtr, w.colIdx, w.values, fout)];
        const [xr, wr] = [referenceKernels.csr(x.rowPtr, x.colIdx, x.values, fin), referenceKernels.csr(w.rowPtr, w.colIdx, w.values, fout)];
        for (let round = 0; round < 2; round++) {
          const ow = new Float32Array(rows * fout).fill(NaN);
          const or = new Float32Array(rows * fout);
          wasm.spgemm(xw, ww, ow);
          referenceKernels.spgemm(xr, wr, or);
          expect(relErr(ow, or), `spgemm ${rows}×${fin}×${fout} round ${round}`).toBeLessThanOrEqual(TOL);
          const dy = randomDense(rng, rows * fout);
          const gw = new Float32Array(ww.nnz).fill(NaN);
          const gr = new Float32Array(wr.nnz);
          wasm.spgemmGradW(xw, ww, dy, gw);
          referenceKernels.spgemmGradW(xr, wr, dy, gr);
          expect(relErr(gw, gr), `spgemmGradW ${rows}×${fin}×${fout} round ${round}`).toBeLessThanOrEqual(TOL);
          const v = randomDense(rng, ww.nnz);
          ww.setValues(v);
          wr.setValues(v);
        }
        if (fin !== fout) expect(() => wasm.spgemm(ww, ww, new Float32Array(fin * fout)), "W · W: shapes do not chain").toThrow(/columns but W/);
        xw.free();
        ww.free();
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

describe("SparseKernels on a host module's heap (the trainer's: tfjs wasm memory, its malloc and free)", () => {
  /** a host allocator: bump pointer from 1 KiB, growing memory page by page; remembers what it freed */
  function host() {
    const memory = new WebAssembly.Memory({ initial: 1 });
    let top = 1024;
    const freed: number[] = [];
    const live = new Set<number>();
    const malloc = (bytes: number) => {
      const p = Math.ceil((top + 1) / 8) * 8; // 8-byte aligned, as Emscripten's
      top = p + bytes;
      while (top > memory.buffer.byteLength) memory.grow(1);
      live.add(p);
      return p;
    };
    const free = (p: number) => {
      if (!live.delete(p)) throw new Error(`double or bad free ${p}`);
      freed.push(p);
    };
    return { memory, malloc, free, freed, live };
  }

  it("match the reference with operands copied in, in place in the host's memory, and across memory growth", () => {
    const h = host();
    const k = loadWasmKernelsOnHeap(h);
    const rng = new TestRng(31);
    const a = randomCsr(rng, 29, 23, 0.2, 0.2);
    const w = randomCsr(rng, 23, 11, 0.3, 0.2);
    const [ah, wh] = [k.csr(a.rowPtr, a.colIdx, a.values, 23), k.csr(w.rowPtr, w.colIdx, w.values, 11)];
    const [ar, wr] = [referenceKernels.csr(a.rowPtr, a.colIdx, a.values, 23), referenceKernels.csr(w.rowPtr, w.colIdx, w.values, 11)];
    for (let round = 0; round < 3; round++) {
      const b = randomDense(rng, 23 * 7);
      const expected = new Float32Array(29 * 7);
      referenceKernels.spmm(ar, b, 7, expected);
      const copied = new Float32Array(29 * 7);
      k.spmm(ah, b, 7, copied);
      expect(relErr(copied, expected), `copied, round ${round}`).toBeLessThanOrEqual(TOL);
      // operands where a host tensor would be: the kernel reads and writes them in place
      const bp = h.malloc(b.length * 4);
      const op = h.malloc(29 * 7 * 4);
      new Float32Array(h.memory.buffer, bp, b.length).set(b);
      k.spmm(ah, new Float32Array(h.memory.buffer, bp, b.length), 7, new Float32Array(h.memory.buffer, op, 29 * 7));
      expect(relErr(new Float32Array(h.memory.buffer, op, 29 * 7), expected), `in place, round ${round}`).toBeLessThanOrEqual(TOL);
      const og = new Float32Array(29 * 11);
      const ogr = new Float32Array(29 * 11);
      k.spgemm(ah, wh, og);
      referenceKernels.spgemm(ar, wr, ogr);
      expect(relErr(og, ogr), `spgemm, round ${round}`).toBeLessThanOrEqual(TOL);
      // the host allocates a lot between calls: its memory grows under the handles
      h.malloc(100_000 * (round + 1));
    }
    expect(h.memory.buffer.byteLength).toBeGreaterThan(65536);
    const before = h.freed.length;
    ah.free();
    wh.free();
    expect(h.freed.length - before, "each handle's three regions go back to the host's free").toBe(6);
  });

  it("MallocHeap hands out 16-byte-aligned regions and refuses to free what it did not allocate", () => {
    const h = host();
    const heap = new MallocHeap(h.memory, h.malloc, h.free);
    const ptrs = [3, 17, 64, 1].map((n) => heap.alloc(n));
    for (const p of ptrs) expect(p % 16).toBe(0);
    expect(heap.liveRegions).toBe(4);
    heap.free(ptrs[1]);
    expect(() => heap.free(ptrs[1])).toThrow(/not a live region/);
    expect(() => heap.free(12345)).toThrow(/not a live region/);
    expect(() => new MallocHeap(h.memory, () => 0, h.free).alloc(8)).toThrow(/could not allocate/);
    expect(() => loadWasmKernelsOnHeap({ memory: {} as WebAssembly.Memory, malloc: h.malloc, free: h.free })).toThrow(/WebAssembly.Memory/);
  });
});
