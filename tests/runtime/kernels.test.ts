// Every wasm kernel against its plain TypeScript reference, on random inputs of awkward sizes,
// for both builds: release (SIMD, -O3, no assertions) and debug (assertions on).
import { describe, expect, it, beforeAll, afterEach } from "vitest";
import { WasmRuntime, WasmAssertionError, type WasmVariant } from "../../runtime-wasm/host/wasm-module.js";
import { csrTranspose } from "../../ticket/csr.js";
import {
  refSpmmCsr, refSddmmCsr, refGemm, refDenseTimesSparseW, refSpgemm, refSpgemmGradW, refBiasAct, refTranspose,
} from "../../runtime-wasm/host/reference.js";
import { TestRng, randomCsr, randomDense, relErr, Mem } from "./helpers.js";

const FEATS = [1, 3, 5, 7, 13, 16, 17, 63, 130, 200];
const TOL = 1e-5;

for (const variant of ["release", "debug"] as WasmVariant[]) {
  describe(`wasm kernels (${variant})`, () => {
    let rt: WasmRuntime;
    let mem: Mem;
    beforeAll(() => {
      rt = WasmRuntime.create(variant);
      mem = new Mem(rt);
    });
    afterEach(() => mem.reset());

    it("f32_spmm_csr: out = act(bias + A·B) for awkward F, empty rows, zero nnz, single row", () => {
      const rng = new TestRng(1);
      for (const f of FEATS) {
        for (const [rows, bRows, density, empty] of [[1, 1, 1, 0], [1, 9, 0.5, 0], [37, 29, 0.15, 0.3], [23, 23, 0, 0], [50, 3, 0.9, 0.5]] as const) {
          for (const [withBias, relu] of [[false, false], [true, true], [true, false]] as const) {
            const a = randomCsr(rng, rows, bRows, density, empty);
            const b = randomDense(rng, bRows * f);
            const bias = withBias ? randomDense(rng, f) : null;
            const p = mem.csr(a);
            const out = mem.out(rows * f);
            rt.exports.f32_spmm_csr(rows, f, bRows, p.rowPtr, p.colIdx, p.values, mem.f32(b), bias ? mem.f32(bias) : 0, relu ? 1 : 0, out);
            const e = refSpmmCsr(a, b, f, bias, relu);
            expect(relErr(mem.read(out, rows * f), e), `F=${f} rows=${rows} nnz=${a.colIdx.length}`).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_sddmm_csr: out[k] = dot(X[i], Y[col[k]])", () => {
      const rng = new TestRng(2);
      for (const f of [...FEATS, 0]) {
        for (const [rows, yRows, density, empty] of [[1, 1, 1, 0], [31, 19, 0.2, 0.3], [12, 40, 0, 0]] as const) {
          const a = randomCsr(rng, rows, yRows, density, empty);
          const x = randomDense(rng, rows * f);
          const y = randomDense(rng, yRows * f);
          const p = mem.csr(a);
          const nnz = a.colIdx.length;
          const out = mem.out(Math.max(1, nnz));
          rt.exports.f32_sddmm_csr(rows, f, yRows, p.rowPtr, p.colIdx, mem.f32(x), mem.f32(y), out);
          expect(relErr(mem.read(out, nnz), refSddmmCsr(a, x, y, f)), `F=${f} rows=${rows}`).toBeLessThanOrEqual(TOL);
          mem.reset();
        }
      }
    });

    it("f32_gemm: C = act(bias + A·B) with packed B, row/column tails and K > KC", () => {
      const rng = new TestRng(3);
      for (const m of [1, 3, 4, 5, 17, 70]) {
        for (const n of [1, 3, 7, 8, 9, 17, 33]) {
          for (const k of [0, 1, 5, 130, 300]) {
            const withBias = rng.next() < 0.5;
            const relu = rng.next() < 0.5;
            const a = randomDense(rng, m * k);
            const b = randomDense(rng, k * n);
            const bias = withBias ? randomDense(rng, n) : null;
            const packed = mem.out(Math.max(1, rt.exports.f32_gemm_packed_size(k, n)));
            rt.exports.f32_gemm_pack_b(k, n, mem.f32(b), n, packed);
            const c = mem.out(m * n);
            rt.exports.f32_gemm(m, n, k, mem.f32(a), k, packed, bias ? mem.f32(bias) : 0, relu ? 1 : 0, c, n);
            expect(relErr(mem.read(c, m * n), refGemm(m, n, k, a, b, bias, relu)), `m=${m} n=${n} k=${k}`).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_gemm: leading dimensions larger than the row width (sub-matrix views)", () => {
      const rng = new TestRng(4);
      const [m, n, k, lda, ldc] = [13, 11, 21, 25, 16];
      const a = randomDense(rng, m * lda);
      const b = randomDense(rng, k * n);
      const packed = mem.out(rt.exports.f32_gemm_packed_size(k, n));
      rt.exports.f32_gemm_pack_b(k, n, mem.f32(b), n, packed);
      const cInit = randomDense(rng, m * ldc);
      const c = mem.f32(cInit);
      rt.exports.f32_gemm(m, n, k, mem.f32(a), lda, packed, 0, 0, c, ldc);
      const aDense = new Float32Array(m * k);
      for (let i = 0; i < m; i++) for (let p = 0; p < k; p++) aDense[i * k + p] = a[i * lda + p];
      const e = refGemm(m, n, k, aDense, b);
      const got = mem.read(c, m * ldc);
      const gotDense = new Float32Array(m * n);
      for (let i = 0; i < m; i++) {
        for (let j = 0; j < n; j++) gotDense[i * n + j] = got[i * ldc + j];
        for (let j = n; j < ldc; j++) expect(got[i * ldc + j]).toBe(cInit[i * ldc + j]); // untouched
      }
      expect(relErr(gotDense, e)).toBeLessThanOrEqual(TOL);
    });

    it("sparse weights × dense activations: f32_spmm_w_nm, f32_spmm_w_fm, f32_spmm_w_axpy", () => {
      const rng = new TestRng(5);
      for (const n of [1, 5, 16, 17, 40]) {
        for (const fin of [1, 3, 7, 13, 130]) {
          for (const fout of [1, 3, 5, 17, 63]) {
            const density = [0, 0.05, 0.3, 1][rng.int(4)];
            const w = randomCsr(rng, fin, fout, density); // fin × fout, CSR over input rows
            const wt = csrTranspose(w); // fout × fin
            const h = randomDense(rng, n * fin, 0.4); // ReLU-like zeros
            const bias = rng.next() < 0.5 ? randomDense(rng, fout) : null;
            const relu = rng.next() < 0.5;
            const e = refDenseTimesSparseW(h, n, w, bias, relu);
            const label = `n=${n} fin=${fin} fout=${fout} nnz=${w.colIdx.length}`;
            const pw = mem.csr(w);
            const pwt = mem.csr(wt);
            const biasPtr = bias ? mem.f32(bias) : 0;
            const hPtr = mem.f32(h);

            const out1 = mem.out(n * fout);
            const scratch = mem.out(rt.exports.f32_spmm_w_nm_scratch(fin, fout) / 4 + 1);
            rt.exports.f32_spmm_w_nm(n, fin, fout, hPtr, pwt.rowPtr, pwt.colIdx, pwt.values, biasPtr, relu ? 1 : 0, out1, scratch);
            expect(relErr(mem.read(out1, n * fout), e), `nm ${label}`).toBeLessThanOrEqual(TOL);

            const out2 = mem.out(n * fout);
            rt.exports.f32_spmm_w_axpy(n, fin, fout, hPtr, pw.rowPtr, pw.colIdx, pw.values, biasPtr, relu ? 1 : 0, out2);
            expect(relErr(mem.read(out2, n * fout), e), `axpy ${label}`).toBeLessThanOrEqual(TOL);

            const ht = mem.f32(refTranspose(n, fin, h));
            const yt = mem.out(n * fout);
            rt.exports.f32_spmm_w_fm(n, fin, fout, ht, pwt.rowPtr, pwt.colIdx, pwt.values, biasPtr, relu ? 1 : 0, yt);
            expect(relErr(mem.read(yt, n * fout), refTranspose(n, fout, e)), `fm ${label}`).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_spgemm_csr: sparse features × sparse weights", () => {
      const rng = new TestRng(6);
      for (const rows of [1, 23]) {
        for (const fin of [1, 13, 130]) {
          for (const fout of [1, 7, 17, 63]) {
            const x = randomCsr(rng, rows, fin, 0.1, 0.2);
            const w = randomCsr(rng, fin, fout, [0, 0.2, 1][rng.int(3)]);
            const bias = rng.next() < 0.5 ? randomDense(rng, fout) : null;
            const relu = rng.next() < 0.5;
            const px = mem.csr(x);
            const pw = mem.csr(w);
            const out = mem.out(rows * fout);
            rt.exports.f32_spgemm_csr(rows, fin, fout, px.rowPtr, px.colIdx, px.values, pw.rowPtr, pw.colIdx, pw.values, bias ? mem.f32(bias) : 0, relu ? 1 : 0, out);
            expect(relErr(mem.read(out, rows * fout), refSpgemm(x, w, bias, relu)), `rows=${rows} fin=${fin} fout=${fout}`).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_spgemm_dw_csr: the weight gradient of X · W over W's pattern", () => {
      const rng = new TestRng(16);
      for (const rows of [1, 23]) {
        for (const fin of [1, 13, 130]) {
          for (const fout of [1, 7, 17, 63]) {
            const x = randomCsr(rng, rows, fin, 0.1, 0.2);
            const w = randomCsr(rng, fin, fout, [0, 0.2, 1][rng.int(3)], 0.3);
            const dy = randomDense(rng, rows * fout);
            const px = mem.csr(x);
            const pw = mem.csr(w);
            const nnz = w.colIdx.length;
            // the output starts as junk: the kernel must clear it
            const out = mem.f32(randomDense(rng, Math.max(nnz, 1)));
            rt.exports.f32_spgemm_dw_csr(rows, fin, fout, px.rowPtr, px.colIdx, px.values, pw.rowPtr, pw.colIdx, mem.f32(dy), out);
            expect(relErr(mem.read(out, nnz), refSpgemmGradW(x, w, dy)), `rows=${rows} fin=${fin} fout=${fout}`).toBeLessThanOrEqual(TOL);
            mem.reset();
          }
        }
      }
    });

    it("f32_bias_act, f32_transpose, f32_zero, f32_copy", () => {
      const rng = new TestRng(7);
      for (const rows of [1, 3, 4, 33, 37]) {
        for (const f of FEATS) {
          const x = randomDense(rng, rows * f);
          const bias = randomDense(rng, f);
          for (const [b, relu] of [[true, true], [false, true], [true, false]] as const) {
            const p = mem.f32(x);
            rt.exports.f32_bias_act(rows, f, p, b ? mem.f32(bias) : 0, relu ? 1 : 0);
            expect(mem.read(p, rows * f)).toEqual(refBiasAct(rows, f, x, b ? bias : null, relu));
          }
          const dst = mem.out(rows * f);
          rt.exports.f32_transpose(rows, f, mem.f32(x), dst);
          expect(mem.read(dst, rows * f)).toEqual(refTranspose(rows, f, x));
          const cp = mem.out(rows * f);
          rt.exports.f32_copy(cp, mem.f32(x), rows * f);
          expect(mem.read(cp, rows * f)).toEqual(x);
          rt.exports.f32_zero(cp, rows * f);
          expect(mem.read(cp, rows * f).every((v) => v === 0)).toBe(true);
          mem.reset();
        }
      }
    });

    it("f32_csr_from_dense: CSR of a sparse dense matrix, -1 above the limit, unread columns left out", () => {
      const rng = new TestRng(8);
      for (const [rows, cols] of [[1, 1], [3, 5], [17, 63], [40, 130], [9, 16]]) {
        const x = randomDense(rng, rows * cols, 0.8);
        let nnz = 0;
        for (const v of x) if (v !== 0) nnz++;
        const used = Uint8Array.from({ length: cols }, () => (rng.next() < 0.7 ? 1 : 0));
        const usedPtr = rt.heap.alloc(cols);
        new Uint8Array(rt.heap.memory.buffer, usedPtr, cols).set(used);
        const cap = nnz + 1;
        const rp = mem.out(rows + 1), ci = mem.out(cap), vs = mem.out(cap);
        const src = mem.f32(x);
        if (nnz > 0) expect(rt.exports.f32_csr_from_dense(rows, cols, src, nnz - 1, 0, rp, ci, vs)).toBe(-1);
        for (const mask of [0, usedPtr]) {
          const k = rt.exports.f32_csr_from_dense(rows, cols, src, nnz, mask, rp, ci, vs);
          const rowPtr = rt.heap.i32(rp, rows + 1).slice();
          const colIdx = rt.heap.i32(ci, k).slice();
          const values = mem.read(vs, k);
          const back = new Float32Array(rows * cols);
          for (let r = 0; r < rows; r++) for (let q = rowPtr[r]; q < rowPtr[r + 1]; q++) back[r * cols + colIdx[q]] = values[q];
          const want = x.map((v, i) => (mask && !used[i % cols] ? 0 : v));
          expect(rowPtr[rows]).toBe(k);
          expect(back).toEqual(want);
        }
        rt.heap.free(usedPtr);
        mem.reset();
      }
    });

    if (variant === "debug") {
      it("debug build: assertions reject out-of-range CSR columns and bad row pointers", () => {
        const rows = 2;
        const bad = { rows, cols: 3, rowPtr: Int32Array.from([0, 1, 2]), colIdx: Int32Array.from([0, 7]), values: Float32Array.from([1, 1]) };
        const p = mem.csr(bad);
        const b = mem.f32(new Float32Array(3 * 4));
        const out = mem.out(rows * 4);
        expect(() => rt.exports.f32_spmm_csr(rows, 4, 3, p.rowPtr, p.colIdx, p.values, b, 0, 0, out)).toThrow(WasmAssertionError);
        expect(() => rt.exports.f32_spmm_csr(rows, 4, 3, p.rowPtr, p.colIdx, p.values, b, 0, 0, out)).toThrow(/column index out of range/);
        expect(() => rt.exports.f32_sddmm_csr(rows, 4, 3, p.rowPtr, p.colIdx, b, b, out)).toThrow(WasmAssertionError);
        const dec = mem.i32([0, 2, 1]);
        const good = mem.i32([0, 1]);
        expect(() => rt.exports.f32_spmm_csr(rows, 4, 3, dec, good, p.values, b, 0, 0, out)).toThrow(/rowPtr/);
      });
    }
  });
}
