/**
 * Glue between tfjs kernels and the runtime's SparseKernels (runtime-wasm/host/kernel-api.ts):
 * which SparseKernels implementation the ops use, when the custom kernels run instead of the stock
 * tfjs ops, and zero-copy access to tensor memory inside a kernel.
 *
 * Tensor memory: on the wasm backend an input is read as a Float32Array view on the backend's heap
 * and an output is allocated on that heap first and written in place (no copies, no JS-side
 * allocation per call); on the cpu backend the backend's own arrays are used; on any other backend
 * the data is read with readSync and handed over with makeTensorInfo.
 */
import * as tf from "@tensorflow/tfjs-core";
import type { SparseKernels } from "../../runtime-wasm/host/kernel-api.js";
import { referenceKernels } from "../../runtime-wasm/host/reference-kernels.js";

let sparseKernels: SparseKernels = referenceKernels;

/**
 * Sets the SparseKernels implementation used by structures prepared from now on (a prepared graph or
 * matrix keeps the implementation it was built with, because its CsrHandles belong to it).
 * Default: the plain TypeScript reference kernels.
 */
export function setSparseKernels(k: SparseKernels): void {
  sparseKernels = k;
}

export function getSparseKernels(): SparseKernels {
  return sparseKernels;
}

/**
 * `custom`: the ops' own kernels (SparseKernels); `stock`: tfjs ops (gather, unsortedSegmentSum,
 * matMul) with tfjs autodiff; `auto`: custom on the wasm and cpu backends, stock elsewhere (the
 * native TensorFlow backend, where the stock ops are fast).
 */
export type OpImpl = "auto" | "custom" | "stock";

export function useCustom(impl: OpImpl = "auto"): boolean {
  if (impl === "custom") return true;
  if (impl === "stock") return false;
  const b = tf.getBackend();
  return b === "wasm" || b === "cpu";
}

/** Registers `kernelFunc` under `kernelName` for the active backend, once. */
export function ensureKernel(kernelName: string, kernelFunc: tf.KernelFunc): void {
  const backendName = tf.getBackend();
  if (tf.getKernel(kernelName, backendName) == null) tf.registerKernel({ kernelName, backendName, kernelFunc });
}

/** The fields of the wasm backend this module uses (BackendWasm in @tensorflow/tfjs-backend-wasm). */
interface WasmBackendLike {
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(t: tf.TensorInfo): Float32Array;
}
interface GenericBackendLike {
  readSync(dataId: tf.DataId): unknown;
  makeTensorInfo?(shape: number[], dtype: tf.DataType, values?: Float32Array): tf.TensorInfo;
  write?(values: Float32Array, shape: number[], dtype: tf.DataType): tf.DataId;
}

function isWasm(backend: unknown): backend is WasmBackendLike {
  const b = backend as Partial<WasmBackendLike>;
  return typeof b.makeOutput === "function" && typeof b.typedArrayFromHeap === "function";
}

function checkF32(t: tf.TensorInfo, what: string): void {
  if (t.dtype !== "float32") throw new Error(`${what}: expected a float32 tensor, got ${t.dtype}`);
}

/**
 * The data of a float32 tensor, without copying where the backend allows. On wasm the result is a
 * view on the heap: take it after every output of the kernel has been allocated (an allocation
 * can grow the heap and detach earlier views) and do not keep it past the kernel call.
 */
export function readF32(backend: unknown, t: tf.TensorInfo, what: string): Float32Array {
  checkF32(t, what);
  if (isWasm(backend)) return backend.typedArrayFromHeap(t);
  const v = (backend as GenericBackendLike).readSync(t.dataId);
  if (v instanceof Float32Array) return v;
  return Float32Array.from(v as ArrayLike<number>);
}

/** A float32 output: allocate first, then take `view()` (after all allocations) and write into it. */
export class F32Output {
  private readonly info: tf.TensorInfo | null;
  private readonly buf: Float32Array | null;
  constructor(
    private readonly backend: unknown,
    readonly shape: number[],
  ) {
    if (isWasm(backend)) {
      this.info = backend.makeOutput(shape, "float32");
      this.buf = null;
    } else {
      this.info = null;
      this.buf = new Float32Array(shape.reduce((a, b) => a * b, 1));
    }
  }
  view(): Float32Array {
    if (this.info) return (this.backend as WasmBackendLike).typedArrayFromHeap(this.info);
    return this.buf!;
  }
  /** Hands the written data to the backend (call once, after writing). */
  finish(): tf.TensorInfo {
    if (this.info) return this.info;
    const b = this.backend as GenericBackendLike;
    if (typeof b.makeTensorInfo === "function") return b.makeTensorInfo(this.shape, "float32", this.buf!);
    if (typeof b.write === "function") return { dataId: b.write(this.buf!, this.shape, "float32"), shape: this.shape, dtype: "float32" };
    throw new Error("this tfjs backend can neither makeTensorInfo nor write: use impl 'stock' on it");
  }
}

/** Casts an object (a prepared graph or matrix) to pass it through tfjs kernel attributes. */
export function asAttrs(a: Record<string, unknown>): tf.NamedAttrMap {
  return a as unknown as tf.NamedAttrMap;
}
