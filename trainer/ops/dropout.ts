import * as tf from "@tensorflow/tfjs-core";

let maskBuffer = new Float32Array(0);

/**
 * Inverted dropout with a seeded mask (mulberry32, two 16-bit draws per step, so the keep rate is
 * quantised to 1/65536), written branch-free into a reused buffer. tf.dropout's seedrandom mask
 * costs ~78 ms for a 2708×512 activation on the wasm backend, a per-element `u < t ? scale : 0`
 * ~20 ms (mostly mispredicted branches); this ~3 ms. The gradient is tf.mul's: the same mask.
 */
export function dropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  if (!(rate >= 0 && rate < 1)) throw new Error(`dropout rate must be in [0, 1), got ${rate}`);
  if (rate === 0) return x;
  const size = x.size;
  if (maskBuffer.length < size + 1) maskBuffer = new Float32Array(size + 1);
  const buf = maskBuffer;
  const keep = 1 - rate;
  const scale = 1 / keep;
  const threshold = Math.round(keep * 65536);
  let s = ((seed >>> 0) ^ 0x9e3779b9) | 0;
  for (let i = 0; i < size; i += 2) {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), s | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    t ^= t >>> 14;
    buf[i] = scale * +((t & 0xffff) < threshold);
    buf[i + 1] = scale * +(t >>> 16 < threshold);
  }
  // The wasm backend copies a new tensor's values into its heap; the others may keep the array.
  const values = tf.getBackend() === "wasm" ? buf.subarray(0, size) : buf.slice(0, size);
  return tf.tidy(() => tf.mul(x, tf.tensor(values, x.shape))) as T;
}
