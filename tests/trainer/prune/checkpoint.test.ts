import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as tf from "@tensorflow/tfjs-core";
import { beforeAll, describe, expect, it } from "vitest";
import { initBackend } from "../../../trainer/backend.js";
import { FusedAdam } from "../../../trainer/ops/fused-adam.js";
import { CheckpointError, decodeCheckpoint, encodeCheckpoint, readCheckpoint, writeCheckpoint, type CheckpointArray } from "../../../trainer/prune/checkpoint.js";
import { Rng } from "../../../trainer/util/rng.js";

describe("checkpoints", () => {
  beforeAll(async () => {
    await initBackend("cpu", () => {});
  });

  it("round-trip every array type and the header; a damaged file is refused", async () => {
    const rng = new Rng(1);
    const arrays = new Map<string, CheckpointArray>([
      ["a/f32", Float32Array.from({ length: 1001 }, () => rng.normal())],
      ["f64", Float64Array.from({ length: 3 }, () => rng.normal())],
      ["i32", Int32Array.of(-1, 2, 3)],
      ["u8", Uint8Array.of(1, 0, 1, 1, 0)],
      ["empty", new Float32Array(0)],
    ]);
    const header = { kind: "x", cursor: { epoch: 7, S: [0.5, 0.25] }, best: null, text: "é ✓" };
    const back = decodeCheckpoint(encodeCheckpoint({ header, arrays }));
    expect(back.header).toEqual(header);
    expect([...back.arrays.keys()]).toEqual([...arrays.keys()]);
    for (const [k, a] of arrays) expect(back.arrays.get(k)).toEqual(a);

    const dir = mkdtempSync(join(tmpdir(), "ckpt-"));
    const path = join(dir, "run.ckpt");
    await writeCheckpoint(path, { header, arrays });
    await writeCheckpoint(path, { header: { ...header, kind: "y" }, arrays }); // replaces atomically
    expect((await readCheckpoint(path)).header.kind).toBe("y");
    expect(readdirSync(dir)).toEqual(["run.ckpt"]);

    const bytes = readFileSync(path);
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 10] ^= 0x40;
    writeFileSync(path, flipped);
    await expect(readCheckpoint(path)).rejects.toThrow(/checksum mismatch/);
    writeFileSync(path, bytes.subarray(0, bytes.length - 100));
    await expect(readCheckpoint(path)).rejects.toThrow(/truncated/);
    writeFileSync(path, "not a checkpoint");
    await expect(readCheckpoint(path)).rejects.toBeInstanceOf(CheckpointError);
  });

  it("FusedAdam: getState/setState continue exactly; a masked step equals a step on the masked gradient followed by re-masking", () => {
    const rng = new Rng(2);
    const init = Float32Array.from({ length: 50 }, () => rng.normal());
    const grads = Array.from({ length: 6 }, () => Float32Array.from({ length: 50 }, () => rng.normal()));
    const mask = Float32Array.from({ length: 50 }, (_, i) => (i % 3 === 0 ? 0 : 1));
    const run = (steps: number[], opt: FusedAdam, v: tf.Variable, masked: boolean) => {
      for (const s of steps) {
        const g = tf.tensor1d(grads[s]);
        opt.applyGradients([v], [g], masked ? [mask] : undefined);
        g.dispose();
      }
    };
    const a = tf.variable(tf.tensor1d(init.map((x, i) => x * mask[i])));
    const optA = new FusedAdam({ learningRate: 0.01, weightDecay: 5e-4 });
    run([0, 1, 2, 3, 4, 5], optA, a, true);
    // interrupted after 3 steps, state carried over to a fresh optimizer and variable
    const b = tf.variable(tf.tensor1d(init.map((x, i) => x * mask[i])));
    const optB = new FusedAdam({ learningRate: 0.01, weightDecay: 5e-4 });
    run([0, 1, 2], optB, b, true);
    const state = optB.getState([b]);
    const c = tf.variable(tf.tensor1d(b.dataSync()));
    const optC = new FusedAdam({ learningRate: 0.01, weightDecay: 5e-4 });
    optC.setState([c], state);
    run([3, 4, 5], optC, c, true);
    expect(Array.from(c.dataSync())).toEqual(Array.from(a.dataSync()));
    // masked entries stay exactly +0; the rest equals the unmasked update on the masked gradient
    const d = tf.variable(tf.tensor1d(init.map((x, i) => x * mask[i])));
    const optD = new FusedAdam({ learningRate: 0.01, weightDecay: 5e-4 });
    for (let s = 0; s < 6; s++) {
      const g = tf.tensor1d(grads[s].map((x, i) => x * mask[i]));
      optD.applyGradients([d], [g]);
      g.dispose();
      d.assign(tf.tensor1d(d.dataSync().map((x, i) => x * mask[i])));
    }
    const av = a.dataSync();
    const dv = d.dataSync();
    for (let i = 0; i < 50; i++) {
      if (mask[i] === 0) expect(Object.is(av[i], 0)).toBe(true);
      else expect(av[i]).toBe(dv[i]);
    }
    expect(optA.getState([a])[0]!.step).toBe(6);
    tf.dispose([a, b, c, d]);
  });
});
