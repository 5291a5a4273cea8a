/**
 * The TensorFlow.js baseline: a ticket run the way a tfjs user would run it, with the weights
 * stored dense (pruned entries are zeros that are multiplied all the same), tf.matMul for H · W,
 * and the trainer's custom messagePassing op for Â · Y (tfjs-backend-wasm has no
 * UnsortedSegmentSum). Layer order as in the ONNX export: Â · (H · W) when out ≤ in, else
 * (Â · H) · W. Call initBackend("wasm") and useFastKernels first.
 */
import * as tf from "@tensorflow/tfjs-core";
import { weightToDense } from "../../runtime-wasm/host/reference.js";
import type { Ticket } from "../../ticket/ticket.js";
import { messagePassing, prepareMessagePassing } from "../../trainer/ops/message-passing.js";

export interface TfjsGcn {
  /** logits, nodes × classes (the forward pass plus the read-back) */
  run(): Float32Array;
  dispose(): void;
}

export function tfjsGcn(ticket: Ticket, x: Float32Array): TfjsGcn {
  const g = ticket.graph;
  const n = g.numNodes;
  const e = g.colIdx.length;
  const dst = new Int32Array(e);
  for (let v = 0; v < n; v++) dst.fill(v, g.rowPtr[v], g.rowPtr[v + 1]);
  const mp = prepareMessagePassing(g.colIdx, dst, n);
  const coef = tf.tensor1d(g.coef);
  const xT = tf.tensor2d(x, [n, ticket.layers[0].inFeatures]);
  const layers = ticket.layers.map((l) => ({
    w: tf.tensor2d(weightToDense(l.weight), [l.inFeatures, l.outFeatures]),
    b: l.bias ? tf.tensor1d(l.bias) : null,
    relu: l.activation === "relu",
    transformFirst: l.outFeatures <= l.inFeatures,
  }));
  return {
    run() {
      const out = tf.tidy(() => {
        let h = xT as tf.Tensor2D;
        for (const l of layers) {
          h = l.transformFirst ? messagePassing(tf.matMul(h, l.w), coef, mp) : tf.matMul(messagePassing(h, coef, mp), l.w);
          if (l.b) h = tf.add(h, l.b);
          if (l.relu) h = tf.relu(h);
        }
        return h;
      });
      const data = out.dataSync() as Float32Array;
      out.dispose();
      return data;
    },
    dispose() {
      for (const l of layers) {
        l.w.dispose();
        l.b?.dispose();
      }
      xT.dispose();
      coef.dispose();
      mp.dispose();
    },
  };
}
