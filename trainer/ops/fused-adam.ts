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

/**
 * One variable's Adam state: first and second moments and its step count. `since` (masked steps
 * only; null = every entry current): the step an entry's moments were last brought to, so an entry
 * with since[i] < step has the moments m[i]·β1^(step − since[i]), v[i]·β2^(step − since[i]) (its
 * decay while pruned is applied when it is next updated).
 */
export interface AdamSlotState {
  m: Float32Array;
  v: Float32Array;
  step: number;
  since?: Int32Array | null;
}

interface Slot extends AdamSlotState {
  since: Int32Array | null;
  /** the mask the kept-index list was made from (masks are replaced, never changed in place) */
  keptOf: Float32Array | null;
  kept: Int32Array | null;
}

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
   * `masks[i]` (optional, 0/1 per entry) makes it the masked step of RigL-style sparse training: the
   * gradient of a pruned entry is taken as 0 (its moments decay, as when PyTorch's Adam sees a
   * hooked gradient of 0 for a weight held at 0) and the new value is multiplied by the mask (the
   * re-masking after the step). Only the kept entries are visited: a pruned entry's decay is
   * applied at once, β^k, when it is next updated (regrown), so a step costs the kept entries plus
   * one fill of the output. A mask must not be changed in place once passed (pass a new array).
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
        slot = { m: new Float32Array(w.size), v: new Float32Array(w.size), step: 0, since: null, keptOf: null, kept: null };
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
      else {
        this.settle(slot, slot.step - 1);
        this.update(wv, gv, slot, decay, out.view());
      }
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
    const step = s.step;
    const stepSize = this.learningRate / (1 - Math.pow(b1, step));
    const invSqrtBc2 = 1 / Math.sqrt(1 - Math.pow(b2, step));
    const c1 = 1 - b1;
    const c2 = 1 - b2;
    const m = s.m;
    const v = s.v;
    if (s.keptOf !== mask || !s.kept) {
      let n = 0;
      for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) n++;
      const kept = new Int32Array(n);
      for (let i = 0, j = 0; i < mask.length; i++) if (mask[i] !== 0) kept[j++] = i;
      s.kept = kept;
      s.keptOf = mask;
    }
    // every entry was current after the previous step
    const since = (s.since ??= new Int32Array(m.length).fill(step - 1));
    out.fill(0);
    const kept = s.kept;
    for (let j = 0; j < kept.length; j++) {
      const i = kept[j];
      let mi = m[i];
      let vi = v[i];
      const lag = step - 1 - since[i];
      if (lag > 0) {
        // pruned for `lag` steps: the decays of those zero-gradient steps, at once
        mi *= Math.pow(b1, lag);
        vi *= Math.pow(b2, lag);
      }
      const wi = w[i];
      const gi = g[i] + wd * wi;
      mi = b1 * mi + c1 * gi;
      vi = b2 * vi + c2 * gi * gi;
      m[i] = mi;
      v[i] = vi;
      since[i] = step;
      out[i] = wi - (stepSize * mi) / (Math.sqrt(vi) * invSqrtBc2 + eps);
    }
  }

  /** Applies every pending decay (before an unmasked step reads all moments). */
  private settle(s: Slot, upTo: number): void {
    const since = s.since;
    if (!since) return;
    const { beta1: b1, beta2: b2 } = this;
    for (let i = 0; i < since.length; i++) {
      const lag = upTo - since[i];
      if (lag > 0) {
        s.m[i] *= Math.pow(b1, lag);
        s.v[i] *= Math.pow(b2, lag);
      }
    }
    s.since = null;
  }

  /**
   * The moments, step count and pending decays of each variable (null where it has had no step
   * yet), copies, in `vars` order: with `setState` a checkpoint resumes the optimizer exactly.
   */
  getState(vars: tf.Variable[]): (AdamSlotState | null)[] {
    return vars.map((v) => {
      const s = this.slots.get(v);
      return s ? { step: s.step, m: s.m.slice(), v: s.v.slice(), since: s.since?.slice() ?? null } : null;
    });
  }

  setState(vars: tf.Variable[], states: (AdamSlotState | null)[]): void {
    if (vars.length !== states.length) throw new Error(`FusedAdam.setState: ${vars.length} variables but ${states.length} states`);
    this.slots.clear();
    vars.forEach((v, i) => {
      const s = states[i];
      if (!s) return;
      if (s.m.length !== v.size || s.v.length !== v.size || (s.since && s.since.length !== v.size)) throw new Error(`FusedAdam.setState: state ${i} has ${s.m.length} entries, ${v.name} ${v.size}`);
      this.slots.set(v, { step: s.step, m: s.m.slice(), v: s.v.slice(), since: s.since?.slice() ?? null, keptOf: null, kept: null });
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
