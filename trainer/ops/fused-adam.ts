/**
 * Adam with L2 weight decay (PyTorch's torch.optim.Adam semantics, as the GLT/UGS/FastGLT code
 * trains), applied per variable in one fused pass:
 *
 *   g = grad + weightDecay·w;  m = β1·m + (1−β1)·g;  v = β2·v + (1−β2)·g²
 *   w = w − lr/(1−β1^t) · m / (sqrt(v)/sqrt(1−β2^t) + ε)
 *
 * Why: tfjs has no Adam with weight decay, so trainers add an L2 term to the loss, whose square, sum
 * and gradient (cast + muls) are extra passes over every weight: ~8 ms per Cora GCN epoch on the
 * wasm backend (bench/train-epoch.ts). The update itself is one memory-bound JS pass per variable:
 * 4.5 ms for 1433×512 here, about what tf.train.adam's ~12 kernels take (4.8 ms). The moments live
 * in JS Float32Arrays; the variable and its gradient are read in place (heap views on wasm) and the
 * new value is written into a freshly allocated output tensor that the variable is assigned to
 * (never in place: other tensors may share the variable's memory). With weightDecay 0 this equals
 * tf.train.adam(lr, β1, β2, ε).
 */
import * as tf from "@tensorflow/tfjs-core";
import { F32Output, readF32 } from "./kernel-bridge.js";

export interface FusedAdamOptions {
  learningRate: number;
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** L2 penalty added to the gradient (PyTorch's weight_decay); default 0 */
  weightDecay?: number;
  /** variables the weight decay does not apply to (e.g. an edge mask) */
  noDecay?: tf.Variable[];
}

interface Slot {
  m: Float32Array;
  v: Float32Array;
  step: number;
}

/** One variable's Adam state: first and second moments and its step count. */
export type AdamSlotState = Slot;

export class FusedAdam {
  learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  weightDecay: number;
  private readonly noDecay: Set<tf.Variable>;
  private slots = new Map<tf.Variable, Slot>();

  constructor(opts: FusedAdamOptions) {
    this.learningRate = opts.learningRate;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    this.noDecay = new Set(opts.noDecay ?? []);
    for (const [k, x] of Object.entries({ learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, weightDecay: this.weightDecay })) {
      if (!Number.isFinite(x) || x < 0) throw new Error(`FusedAdam: ${k} must be a finite number ≥ 0, got ${x}`);
    }
    if (this.beta1 >= 1 || this.beta2 >= 1) throw new Error("FusedAdam: beta1 and beta2 must be < 1");
  }

  /**
   * Gradients of `f` with respect to `vars`, then one step. Returns the loss (the caller disposes
   * it). Variables that `f` does not depend on are left unchanged.
   */
  minimize(f: () => tf.Scalar, vars: tf.Variable[]): tf.Scalar {
    const { value, grads } = tf.variableGrads(f, vars);
    try {
      this.applyGradients(
        vars,
        vars.map((v) => grads[v.name] ?? null),
      );
    } finally {
      tf.dispose(Object.values(grads));
    }
    return value;
  }

  /**
   * One step for each variable with a (non-null) gradient; grads[i] belongs to vars[i].
   * `masks[i]` (optional, 0/1 per entry) makes it the masked step of RigL-style sparse training, in
   * one pass: the gradient of a pruned entry is taken as 0 (its moments decay, as when PyTorch's
   * Adam sees a hooked gradient of 0 for a weight held at 0) and the new value is multiplied by
   * the mask (the re-masking after the step).
   */
  applyGradients(vars: tf.Variable[], grads: (tf.Tensor | null)[], masks?: (Float32Array | null)[]): void {
    if (vars.length !== grads.length) throw new Error(`FusedAdam: ${vars.length} variables but ${grads.length} gradients`);
    if (masks && masks.length !== vars.length) throw new Error(`FusedAdam: ${vars.length} variables but ${masks.length} masks`);
    const backend = tf.backend();
    for (let i = 0; i < vars.length; i++) {
      const w = vars[i];
      const g = grads[i];
      if (g == null) continue;
      if (!w.trainable) continue;
      if (g.size !== w.size || g.dtype !== "float32" || w.dtype !== "float32") {
        throw new Error(`FusedAdam: gradient of ${w.name} is ${g.dtype} [${g.shape}], the variable ${w.dtype} [${w.shape}]`);
      }
      let slot = this.slots.get(w);
      if (!slot) {
        slot = { m: new Float32Array(w.size), v: new Float32Array(w.size), step: 0 };
        this.slots.set(w, slot);
      }
      slot.step++;
      const out = new F32Output(backend, w.shape.slice());
      // views after the allocation (it may grow the wasm heap)
      const decay = this.noDecay.has(w) ? 0 : this.weightDecay;
      const mask = masks?.[i] ?? null;
      if (mask && mask.length !== w.size) throw new Error(`FusedAdam: mask of ${w.name} has ${mask.length} entries, the variable ${w.size}`);
      const wv = readF32(backend, w, `FusedAdam ${w.name}`);
      const gv = readF32(backend, g, `FusedAdam gradient of ${w.name}`);
      if (mask) this.maskedUpdate(wv, gv, mask, slot, decay, out.view());
      else this.update(wv, gv, slot, decay, out.view());
      const next = tf.engine().makeTensorFromTensorInfo(out.finish());
      w.assign(next);
      next.dispose();
    }
  }

  private update(w: Float32Array, g: Float32Array, s: Slot, wd: number, out: Float32Array): void {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const stepSize = this.learningRate / (1 - Math.pow(b1, s.step));
    const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, s.step));
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const m = s.m;
    const v = s.v;
    const n = w.length;
    for (let i = 0; i < n; i++) {
      const wi = w[i];
      const gi = g[i] + wd * wi;
      const mi = b1 * m[i] + c1 * gi;
      const vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      out[i] = wi - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }

  private maskedUpdate(w: Float32Array, g: Float32Array, mask: Float32Array, s: Slot, wd: number, out: Float32Array): void {
    const { beta1: b1, beta2: b2, epsilon: eps } = this;
    const stepSize = this.learningRate / (1 - Math.pow(b1, s.step));
    const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, s.step));
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const m = s.m;
    const v = s.v;
    const n = w.length;
    for (let i = 0; i < n; i++) {
      // a pruned entry: gradient 0, so only its moments decay (no sqrt or division: at high
      // sparsity most entries take this branch)
      if (mask[i] === 0) {
        m[i] *= b1;
        v[i] *= b2;
        out[i] = 0;
        continue;
      }
      const wi = w[i];
      const gi = g[i] + wd * wi;
      const mi = b1 * m[i] + c1 * gi;
      const vi = b2 * v[i] + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      out[i] = wi - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }

  /**
   * The moments and step count of each variable (null where it has had no step yet), copies, in
   * `vars` order: with `setState` a checkpoint resumes the optimizer exactly.
   */
  getState(vars: tf.Variable[]): (AdamSlotState | null)[] {
    return vars.map((v) => {
      const s = this.slots.get(v);
      return s ? { step: s.step, m: s.m.slice(), v: s.v.slice() } : null;
    });
  }

  setState(vars: tf.Variable[], states: (AdamSlotState | null)[]): void {
    if (vars.length !== states.length) throw new Error(`FusedAdam.setState: ${vars.length} variables but ${states.length} states`);
    this.slots.clear();
    vars.forEach((v, i) => {
      const s = states[i];
      if (!s) return;
      if (s.m.length !== v.size || s.v.length !== v.size) throw new Error(`FusedAdam.setState: state ${i} has ${s.m.length} entries, ${v.name} ${v.size}`);
      this.slots.set(v, { step: s.step, m: s.m.slice(), v: s.v.slice() });
    });
  }

  /** Forgets the moments and step counts (e.g. after rewinding weights). */
  reset(): void {
    this.slots.clear();
  }

  dispose(): void {
    this.slots.clear();
  }
}
