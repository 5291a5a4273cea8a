// fastglt wasm kernels. Every export takes raw byte offsets into this module's linear memory;
// the host (runtime-wasm/host) lays buffers out above heap_base() and grows memory as needed.
// Kernel families, one file each:
//   spmm.ts    CSR × dense, node-major (graph aggregation Â·H, sparse features × dense weights)
//   sddmm.ts   sampled dense-dense products over a CSR pattern
//   spmm_w.ts  dense activations × sparse weights (XNNPACK-style feature-major tiles; row-axpy)
//   spgemm.ts  sparse features × sparse weights, and its weight gradient over the weights' pattern
//   gemm.ts    dense GEMM, packed B, 4×8 SIMD micro-kernel
//   gat.ts     graph attention: per-node scores, fused per-row softmax + aggregation
//   eltwise.ts bias + activation (ReLU, ELU), zero, copy, transpose, dense → CSR

export { f32_spmm_csr } from "./spmm";
export { f32_sddmm_csr } from "./sddmm";
export { f32_spmm_w_nm, f32_spmm_w_nm_scratch, f32_spmm_w_fm, f32_spmm_w_axpy } from "./spmm_w";
export { f32_spgemm_csr, f32_spgemm_dw_csr } from "./spgemm";
export { f32_gemm, f32_gemm_pack_b, f32_gemm_packed_size } from "./gemm";
export { f32_gat_scores, f32_gat_aggregate, f32_gat_aggregate_scratch } from "./gat";
export { f32_bias_act, f32_zero, f32_copy, f32_transpose, f32_csr_from_dense } from "./eltwise";

/** First byte the host may use (16-byte aligned). */
export function heap_base(): usize {
  return (__heap_base + 15) & ~15;
}
