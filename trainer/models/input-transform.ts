import * as tf from "@tensorflow/tfjs-core";
import { useCustom } from "../ops/kernel-bridge.js";
import { prepareWeightPattern, sparseWeightMatMul, sparseWeightMaxDensity, type SparseFeatures, type WeightPattern } from "../ops/sparse-weight-matmul.js";
import type { MaskMode, PrunableWeight } from "./prunable.js";

/**
 * The first layer's (X ⊙ S) · W_eff, sparse features times the pruned first weight: on the kept
 * weights alone (sparseWeightMatMul) once they are at most sparseWeightMaxDensity(Fout) of the
 * matrix and the custom kernels run (wasm, cpu backends), else the dense-weight product the model
 * gives. The choice depends on the mask alone, so a seed still gives the same ticket.
 * The gradient of W: where W_eff = W ⊙ M (⊙ m), it is zero at pruned entries anyway, so the sparse
 * op's masked gradient is exact; in `zeroed` mode (FastGLT) the gradient at pruned entries is
 * computed only when `denseGradients` asks for it (the regrowth epochs).
 */
export class InputTransform {
  private pattern: WeightPattern | null = null;

  /** maxDensity: the sparse op runs at most at this fraction of kept weights (0: never; default sparseWeightMaxDensity) */
  constructor(
    private readonly x: SparseFeatures,
    private readonly maxDensity?: number,
  ) {}

  /** Rebuilds the kept-entry pattern from the weight's mask (call from syncMasks). */
  sync(w: PrunableWeight): void {
    this.pattern?.dispose();
    this.pattern = null;
    if (!useCustom()) return;
    let kept = 0;
    for (let i = 0; i < w.mask.length; i++) if (w.mask[i] !== 0) kept++;
    const max = this.maxDensity ?? sparseWeightMaxDensity(w.cols);
    if (max > 0 && kept <= max * w.mask.length) this.pattern = prepareWeightPattern(w.mask, w.rows, w.cols, { kernels: this.x.kernels });
  }

  /** Whether the sparse-weight op is in use (the mask is sparse enough). */
  get sparse(): boolean {
    return this.pattern !== null;
  }

  apply(wEff: tf.Tensor2D, scale: Float32Array | null, maskMode: MaskMode, denseGradients: boolean, dense: () => tf.Tensor2D): tf.Tensor2D {
    if (!this.pattern) return dense();
    return sparseWeightMatMul(this.x, wEff, scale, this.pattern, { gradient: maskMode === "zeroed" && denseGradients ? "dense" : "masked" });
  }

  dispose(): void {
    this.pattern?.dispose();
    this.pattern = null;
  }
}
