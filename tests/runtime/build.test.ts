// The build: both variants embedded and loadable without fs, and the release hot loops still SIMD
// (a change that silently loses vectorisation shows up here, as the .wat fixtures do upstream).
import { describe, expect, it } from "vitest";
import { readFileSync, existsSync } from "node:fs";
import { resolve } from "node:path";
import { wasmBytes, kernelModule } from "../../runtime-wasm/host/wasm-module.js";
import { trainerWasmBase64 } from "../../runtime-wasm/build/trainer-wasm-bytes.js";
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

  it("the trainer's kernels import their memory, have no data segment and stay SIMD: instantiating them writes nothing into the host's memory", () => {
    const bytes = Buffer.from(trainerWasmBase64, "base64");
    const m = new WebAssembly.Module(bytes);
    expect(WebAssembly.Module.imports(m).map((i) => `${i.module}.${i.name}:${i.kind}`)).toEqual(["env.memory:memory"]);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    for (const k of ["f32_spmm_csr", "f32_sddmm_csr", "f32_spgemm_csr", "f32_spgemm_dw_csr"]) expect(names).toContain(k);
    // section ids of the binary: 11 is the data section, 8 a start function
    const ids: number[] = [];
    for (let p = 8; p < bytes.length; ) {
      ids.push(bytes[p++]);
      let size = 0;
      for (let shift = 0; ; shift += 7) {
        const b = bytes[p++];
        size |= (b & 0x7f) << shift;
        if (!(b & 0x80)) break;
      }
      p += size;
    }
    expect(ids).not.toContain(11);
    expect(ids).not.toContain(8);
    // the memory it would write on instantiation: none (a fresh memory stays all zero)
    const memory = new WebAssembly.Memory({ initial: 2 });
    new WebAssembly.Instance(m, { env: { memory } });
    expect(new Uint8Array(memory.buffer).every((b) => b === 0)).toBe(true);
    const fns = watFunctions(readFileSync(resolve(repoRoot, "runtime-wasm/build/trainer.wat"), "utf8"));
    for (const f of ["spmm/f32_spmm_csr", "sddmm/f32_sddmm_csr"]) expect(/f32x4\.mul/.test(fns.get(f) ?? ""), f).toBe(true);
  });
});
