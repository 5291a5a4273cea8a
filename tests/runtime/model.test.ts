// The planned wasm GCN forward against the plain reference forward over the same Ticket.
import { describe, expect, it } from "vitest";
import { createModel, ModelError, type ModelOptions } from "../../runtime-wasm/host/model.js";
import { referenceForward } from "../../runtime-wasm/host/reference.js";
import { csrToDense } from "../../ticket/csr.js";
import { TestRng, randomCsr, randomDense, randomTicket, relErr } from "./helpers.js";

const TOL = 1e-5;

describe("GCN forward on wasm vs reference", () => {
  for (const variant of ["release", "debug"] as const) {
    it(`every order × weight kernel × weight format, own and passed-in features (${variant})`, () => {
      const rng = new TestRng(11);
      for (const formats of [["dense", "dense"], ["csr", "csr"], ["csr", "dense"]] as const) {
        for (const densities of [[1, 1], [0.3, 0.05], [0.02, 0.6]]) {
          const t = randomTicket(rng, { nodes: 37, widths: [13, 17, 5], formats: [...formats], densities });
          const expected = referenceForward(t);
          const denseX = csrToDense(t.features!);
          const otherX = randomCsr(rng, 37, 13, 0.2, 0.1);
          const expectedOther = referenceForward(t, otherX);
          for (const order of ["auto", "transform-first", "aggregate-first"] as const) {
            for (const weightKernel of ["auto", "sparse", "dense"] as const) {
              const opts: ModelOptions = { variant, order, weightKernel };
              const label = `${formats} d=${densities} ${order} ${weightKernel}`;
              const m = createModel(t, opts);
              expect(relErr(m.run(), expected), `own ${label}`).toBeLessThanOrEqual(TOL);
              expect(relErr(m.run({ features: denseX.data }), expected), `dense array, run as csr ${label}`).toBeLessThanOrEqual(TOL);
              const md = createModel(t, { ...opts, denseInputMaxDensity: 0 }); // dense inputs stay dense
              expect(relErr(md.run({ features: denseX.data }), expected), `dense array ${label}`).toBeLessThanOrEqual(TOL);
              expect(relErr(md.run({ features: denseX }), expected), `DenseMatrix ${label}`).toBeLessThanOrEqual(TOL);
              expect(relErr(m.run({ features: otherX }), expectedOther), `other csr ${label}`).toBeLessThanOrEqual(TOL);
              expect(relErr(m.run(), expected), `own again ${label}`).toBeLessThanOrEqual(TOL);
            }
          }
        }
      }
    });
  }

  it("three layers, widths not multiples of 4 or 16, sizes past the kernel tiles", () => {
    const rng = new TestRng(12);
    for (const widths of [[63, 130, 7, 3], [1, 3, 1], [200, 33, 17, 2]]) {
      const t = randomTicket(rng, { nodes: 150, widths, formats: ["csr", "dense", "csr"], densities: [0.2, 0.7, 0.4], edgeProb: 0.03 });
      const m = createModel(t);
      expect(relErr(m.run(), referenceForward(t)), `${widths}`).toBeLessThanOrEqual(TOL);
      const xd = randomDense(rng, 150 * widths[0], 0.5);
      expect(relErr(m.run({ features: xd }), referenceForward(t, xd)), `${widths} dense in`).toBeLessThanOrEqual(TOL);
    }
  });

  it("single node, no edges at all, and a ticket without features", () => {
    const rng = new TestRng(13);
    const one = randomTicket(rng, { nodes: 1, widths: [5, 3, 2], isolated: 0 });
    expect(relErr(createModel(one).run(), referenceForward(one))).toBeLessThanOrEqual(TOL);
    const lonely = randomTicket(rng, { nodes: 9, widths: [5, 6, 2], isolated: 1 });
    expect(lonely.graph.colIdx.length).toBe(0);
    const out = createModel(lonely).run();
    expect(relErr(out, referenceForward(lonely))).toBe(0);
    const bare = randomTicket(rng, { nodes: 20, widths: [7, 9, 3], withFeatures: false });
    const m = createModel(bare);
    expect(() => m.run()).toThrow(ModelError);
    const x = randomDense(rng, 20 * 7);
    expect(relErr(m.run({ features: x }), referenceForward(bare, x))).toBeLessThanOrEqual(TOL);
  });

  it("drops dead hidden units and unread input features, with the same logits", () => {
    const rng = new TestRng(14);
    const t = randomTicket(rng, { nodes: 40, widths: [20, 16, 4], formats: ["dense", "dense"] });
    const w1 = t.layers[1].weight;
    const w0 = t.layers[0].weight;
    if (w1.format !== "dense" || w0.format !== "dense") throw new Error("test setup");
    for (const j of [0, 3, 4, 15]) w1.data.fill(0, j * 4, (j + 1) * 4); // units 0, 3, 4, 15 feed nothing
    for (const i of [2, 7]) w0.data.fill(0, i * 16, (i + 1) * 16); // features 2 and 7 are read by nothing
    const m = createModel(t);
    expect(m.plan.droppedUnits).toBe(4);
    expect(m.plan.layers[0].outFeatures).toBe(12);
    expect(m.plan.usedFeatures).toBe(18);
    expect(relErr(m.run(), referenceForward(t))).toBeLessThanOrEqual(TOL);
    // all hidden units dead: logits are Â·(act(b)-free) bias only
    w1.data.fill(0);
    const dead = createModel(t);
    expect(dead.plan.layers[0].outFeatures).toBe(0);
    expect(relErr(dead.run(), referenceForward(t))).toBeLessThanOrEqual(TOL);
    expect(relErr(dead.run({ features: csrToDense(t.features!).data }), referenceForward(t))).toBeLessThanOrEqual(TOL);
    const deadDense = createModel(t, { denseInputMaxDensity: 0 });
    expect(relErr(deadDense.run({ features: csrToDense(t.features!).data }), referenceForward(t))).toBeLessThanOrEqual(TOL);
  });

  it("plans the order by cost and the weight kernel by density (measure: false), and reports MACs", () => {
    const rng = new TestRng(15);
    const t = randomTicket(rng, { nodes: 30, widths: [50, 8, 20, 3], formats: ["csr", "dense", "csr"], densities: [0.05, 1, 0.2] });
    const m = createModel(t, { measure: false });
    expect(m.plan.layers.map((l) => l.kernelSource)).toEqual(new Array(3).fill({ dense: "threshold", csr: "threshold" }));
    const [l0, l1, l2] = m.plan.layers;
    expect(l0.kernelCsr).toBe("sparse");
    expect(l1.order).toBe("aggregate-first"); // 8 < 20
    expect(l1.kernelDense).toBe("dense");
    expect(l2.order).toBe("transform-first");
    expect(l2.kernelDense).toBe("sparse");
    const steps = m.steps();
    expect(steps.map((s) => s.op)).toEqual(["transform", "aggregate", "aggregate", "transform", "transform", "aggregate"]);
    expect(steps[0].kernel).toMatch(/spgemm/);
    expect(steps[1].macs).toBe(t.graph.colIdx.length * 8);
  });

  it("repeated runs reuse their buffers: no allocation after the first run of each input kind", () => {
    const rng = new TestRng(16);
    const t = randomTicket(rng, { nodes: 64, widths: [30, 24, 6], formats: ["csr", "csr"], densities: [0.1, 0.3] });
    const m = createModel(t);
    const x = randomCsr(rng, 64, 30, 0.3);
    const xd = randomDense(rng, 64 * 30);
    m.run();
    m.run({ features: x });
    m.run({ features: xd });
    const bytes = m.memoryBytes;
    const out = new Float32Array(64 * 6);
    for (let i = 0; i < 5; i++) {
      expect(m.run({ out })).toBe(out);
      m.run({ features: x });
      m.run({ features: xd });
    }
    expect(m.memoryBytes).toBe(bytes);
    expect(relErr(m.run({ features: xd }), referenceForward(t, xd))).toBeLessThanOrEqual(TOL);
  });

  it("rejects malformed tickets and inputs with ModelError saying what is wrong", () => {
    const rng = new TestRng(17);
    const t = randomTicket(rng, { nodes: 10, widths: [4, 5, 2] });
    const badGraph = { ...t, graph: { ...t.graph, colIdx: t.graph.colIdx.map((c, k) => (k === 0 ? 99 : c)) } };
    expect(() => createModel(badGraph)).toThrow(/graph.*colIdx\[0\] = 99/);
    const badChain = { ...t, layers: [t.layers[0], { ...t.layers[1], inFeatures: 6 }] };
    expect(() => createModel(badChain)).toThrow(ModelError);
    expect(() => createModel({ ...t, numClasses: 3 })).toThrow(/numClasses/);
    const m = createModel(t);
    expect(() => m.run({ features: new Float32Array(39) })).toThrow(/40/);
    expect(() => m.run({ features: randomCsr(rng, 10, 5, 0.5) })).toThrow(/10 × 4/);
    const x = randomCsr(rng, 10, 4, 0.5);
    x.colIdx[0] = -1;
    expect(() => m.run({ features: x })).toThrow(ModelError);
    expect(() => m.run({ out: new Float32Array(3) })).toThrow(/out/);
  });
});
