// The kernels the trainer's tfjs ops call, built as a module that imports its memory (the tfjs
// wasm backend's), so the ops run on tensors where they lie, without copies. Nothing here may need
// static data: the module has no data segment and writes nothing when it is instantiated (checked
// by tests/runtime/build.test.ts); every buffer is passed in by pointer.

export { f32_spmm_csr } from "./spmm";
export { f32_sddmm_csr } from "./sddmm";
export { f32_spgemm_csr, f32_spgemm_dw_csr } from "./spgemm";
