// The plan's warm-up choice of weight kernels, and profiles: per-layer time and the MACs the plan
// executes, next to the ticket's own MAC count.
import { describe, expect, it } from "vitest";
import { createModel } from "../../runtime-wasm/host/model.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { forwardMacs, weightNnz } from "../../ticket/ticket.js";
import { TestRng, randomTicket, relErr } from "./helpers.js";

describe("weight kernels chosen by a timed warm-up", () => {
  it("measures both kernels of every layer by default, keeps the faster, and runs correctly", () => {
    const rng = new TestRng(51);
    const t = randomTicket(rng, { nodes: 300, widths: [80, 48, 24, 6], formats: ["csr", "dense", "csr"], densities: [0.05, 0.9, 0.3], edgeProb: 0.02 });
    const m = createModel(t);
    m.plan.layers.forEach((lp, l) => {
      expect(lp.kernelSource.dense, `layer ${l}`).toBe("measured");
      const d = lp.measured.dense!;
      expect(d.sparseMs).toBeGreaterThan(0);
      expect(d.denseMs).toBeGreaterThan(0);
      expect(d.rows).toBeGreaterThanOrEqual(64);
      expect(lp.kernelDense).toBe(d.sparseMs < d.denseMs ? "sparse" : "dense");
    });
    const l0 = m.plan.layers[0];
    expect(l0.kernelSource.csr).toBe("measured");
    expect(l0.kernelCsr).toBe(l0.measured.csr!.sparseMs < l0.measured.csr!.denseMs ? "sparse" : "dense");
    expect(m.plan.layers[1].kernelSource.csr).toBe("threshold"); // only layer 0 reads sparse inputs
    expect(relErr(m.run(), referenceForward(t))).toBeLessThanOrEqual(1e-5);
    const x = new Float32Array(300 * 80).map(() => rng.sym());
    expect(relErr(m.run({ features: x }), referenceForward(t, x))).toBeLessThanOrEqual(1e-5);
  });

  it("measure: false keeps the thresholds; a forced kernel is never measured", () => {
    const rng = new TestRng(52);
    const t = randomTicket(rng, { nodes: 100, widths: [30, 20, 4], densities: [0.05, 0.9] });
    const fixed = createModel(t, { measure: false });
    expect(fixed.plan.layers.map((l) => [l.kernelDense, l.kernelCsr, l.kernelSource.dense])).toEqual([
      ["sparse", "sparse", "threshold"],
      ["dense", "dense", "threshold"],
    ]);
    expect(fixed.plan.layers[0].measured).toEqual({});
    const forced = createModel(t, { weightKernel: "sparse" });
    expect(forced.plan.layers.map((l) => [l.kernelDense, l.kernelCsr, l.kernelSource.dense, l.kernelSource.csr])).toEqual([
      ["sparse", "sparse", "forced", "forced"],
      ["sparse", "sparse", "forced", "forced"],
    ]);
  });

  it("a model without features and a graph without nodes load and run", () => {
    const rng = new TestRng(53);
    const bare = randomTicket(rng, { nodes: 12, widths: [7, 5, 2], withFeatures: false });
    const m = createModel(bare);
    expect(m.plan.layers[0].kernelSource.csr).toBe("threshold");
    const x = new Float32Array(12 * 7).map(() => rng.sym());
    expect(relErr(m.run({ features: x }), referenceForward(bare, x))).toBeLessThanOrEqual(1e-5);
    const empty = randomTicket(rng, { nodes: 0, widths: [3, 2] });
    const me = createModel(empty);
    expect(me.run().length).toBe(0);
    expect(me.predict([]).length).toBe(0);
  });
});

describe("profile", () => {
  const rng = new TestRng(54);
  const t = randomTicket(rng, { nodes: 120, widths: [40, 24, 5], formats: ["csr", "dense"], densities: [0.2, 0.5], edgeProb: 0.03 });
  const m = createModel(t);

  it("full graph: per-layer time, executed MACs (= the planned steps) and the ticket's MACs", () => {
    const p = m.profile();
    expect(p.nodes).toBeNull();
    expect(p.input).toBe("csr");
    expect(relErr(p.logits, referenceForward(t))).toBeLessThanOrEqual(1e-5);
    expect(p.layers.length).toBe(2);
    const steps = m.steps();
    expect(p.layers.flatMap((l) => l.steps.map((s) => [s.op, s.macs]))).toEqual(steps.map((s) => [s.op, s.macs]));
    expect(p.executedMacs).toBe(steps.reduce((s, x) => s + x.macs, 0));
    const E = t.graph.colIdx.length;
    expect(p.ticketMacs).toBe(forwardMacs(120, E, t.layers.map((l) => ({ inFeatures: l.inFeatures, weightNnz: weightNnz(l.weight) }))));
    // sparse inputs: layer 1 executes far fewer MACs than the ticket formula counts
    expect(p.layers[0].executedMacs).toBeLessThan(p.layers[0].ticketMacs);
    for (const l of p.layers) {
      expect(l.rows).toBe(120);
      expect(l.ms).toBeGreaterThanOrEqual(0);
      expect(l.ms).toBeCloseTo(l.steps.reduce((s, x) => s + x.ms, 0), 9);
    }
    expect(p.ms).toBeGreaterThanOrEqual(p.kernelMs);
    const dense = m.profile({ features: new Float32Array(120 * 40).fill(0.5) });
    expect(dense.input).toBe("dense");
    expect(dense.layers[0].executedMacs).toBeGreaterThan(p.layers[0].executedMacs);
  });

  it("run({ profile: true }) and predict(…, { profile: true }) set lastProfile; a query executes fewer MACs", () => {
    const logits = m.run({ profile: true });
    expect(m.lastProfile!.logits).toBe(logits);
    const full = m.lastProfile!;
    const q = m.profile({ nodes: [5] });
    expect(q.nodes).toBe(1);
    expect(q.layers[1].rows).toBe(1);
    expect(q.layers[0].rows).toBeLessThanOrEqual(120);
    expect(q.executedMacs).toBeLessThan(full.executedMacs);
    expect(q.ticketMacs).toBe(full.ticketMacs);
    expect(relErr(q.logits, full.logits.subarray(5 * 5, 6 * 5))).toBeLessThanOrEqual(1e-5);
    m.predict([1, 2], { profile: true });
    expect(m.lastProfile!.nodes).toBe(2);
    // aggregation MACs are the edges of the rows computed times the width
    const agg = q.layers[1].steps.find((s) => s.op === "aggregate")!;
    expect(agg.macs).toBe((t.graph.rowPtr[6] - t.graph.rowPtr[5]) * agg.cols);
  });
});
