// The build: both variants embedded and loadable without fs, and the release hot loops still SIMD
// (a change that silently loses vectorisation shows up here, as the .wat fixtures do upstream).
import { describe, expect, it } from "vitest";
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { wasmBytes, kernelModule } from "../../runtime-wasm/host/wasm-module.js";
import { repoRoot } from "../helpers/paths.js";

/** Function bodies of a .wat file by name. */
function watFunctions(wat: string): Map<string, string> {
  const out = new Map<string, string>();
  const parts = wat.split(/\n \(func \$/);
  for (const p of parts.slice(1)) out.set(p.slice(0, p.search(/[\s)]/)), p);
  return out;
}

describe("wasm build", () => {
  it("embeds a release and a debug module; only the debug one imports env.abort", () => {
    const rel = WebAssembly.Module.imports(kernelModule("release"));
    const dbg = WebAssembly.Module.imports(kernelModule("debug"));
    expect(rel).toEqual([]);
    expect(dbg.map((i) => `${i.module}.${i.name}`)).toEqual(["env.abort"]);
    expect(wasmBytes("release").length).toBeLessThan(wasmBytes("debug").length);
    const names = WebAssembly.Module.exports(kernelModule("release")).map((e) => e.name);
    for (const k of ["f32_spmm_csr", "f32_sddmm_csr", "f32_spmm_w_nm", "f32_spgemm_csr", "f32_gemm", "f32_bias_act", "f32_gat_scores", "f32_gat_aggregate", "memory", "heap_base"]) {
      expect(names).toContain(k);
    }
  });

  it("release hot loops use f32x4 arithmetic", () => {
    const watFile = resolve(repoRoot, "runtime-wasm/build/release.wat");
    expect(existsSync(watFile), "run npm run build:wasm").toBe(true);
    const fns = watFunctions(readFileSync(watFile, "utf8"));
    const simd = (name: string) => /f32x4\.mul/.test(fns.get(`runtime-wasm/assembly/${name}`) ?? "");
    for (const f of ["spmm/f32_spmm_csr", "sddmm/f32_sddmm_csr", "spmm_w/f32_spmm_w_nm", "spmm_w/f32_spmm_w_fm", "gemm/microKernel4", "gemm/microKernel1", "gat/f32_gat_scores", "gat/f32_gat_aggregate"]) {
      expect(simd(f), f).toBe(true);
    }
  });
});
