import { describe, expect, it } from "vitest";
import { summarizeOnnx, ticketToOnnx, type OnnxExportOptions } from "../../exporter/onnx.js";
import { verifyOnnx } from "../../exporter/verify.js";
import { featuresToDense, referenceForward } from "../../runtime-wasm/host/reference.js";
import type { Ticket } from "../../ticket/ticket.js";
import { smallGatTicket } from "./fixtures.js";
import { onnxTicket, randomFeatures, type OnnxTicketSpec } from "./onnx-fixtures.js";

const TOL = 1e-4;

const GAT_SPECS: Record<string, OnnxTicketSpec> = {
  // 3 heads of 5 concatenated (CSR, ELU), then 2 heads of 3 averaged (dense, no activation); two
  // isolated nodes, node 4's in-edges all with coefficient 0, a fifth of the rest too; a hub
  concatThenMean: {
    seed: 31,
    numNodes: 23,
    inFeatures: 7,
    degree: (v) => (v === 0 ? 19 : v === 4 ? 3 : v % 4),
    isolated: [2, 5],
    zeroCoefNodes: [4],
    zeroCoefFraction: 0.2,
    layers: [
      { kind: "gat", gat: { heads: 3, headFeatures: 5, concat: true }, out: 15, density: 0.5, format: "csr", activation: "elu" },
      { kind: "gat", gat: { heads: 2, headFeatures: 3, concat: false }, out: 3, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.5,
  },
  // 4 heads averaged first (ReLU, no bias, slope 0), then one head (ELU on the logits, slope 1/3);
  // skewed random degrees with padding in every bucket, no features in the ticket
  meanThenOne: {
    seed: 32,
    numNodes: 41,
    inFeatures: 9,
    degree: 3,
    zeroCoefFraction: 0.1,
    layers: [
      { kind: "gat", gat: { heads: 4, headFeatures: 6, concat: false, negativeSlope: 0 }, out: 6, density: 0.4, format: "dense", bias: false },
      { kind: "gat", gat: { heads: 1, headFeatures: 4, concat: true, negativeSlope: 1 / 3 }, out: 4, density: 0.7, format: "csr", activation: "elu" },
    ],
    featureDensity: null,
  },
  // every node exactly one in-edge (one bucket, no padding, no reordering)
  single: {
    seed: 33,
    numNodes: 8,
    inFeatures: 4,
    degree: () => 1,
    layers: [{ kind: "gat", gat: { heads: 2, headFeatures: 2, concat: true }, out: 4, density: 1, format: "dense", activation: "none" }],
    featureDensity: 0.8,
  },
  // edges in the graph, every coefficient 0: each node outputs act(bias)
  allZero: {
    seed: 34,
    numNodes: 6,
    inFeatures: 3,
    degree: 2,
    zeroCoefFraction: 1,
    layers: [{ kind: "gat", gat: { heads: 3, headFeatures: 2, concat: false }, out: 2, density: 1, format: "dense", activation: "elu" }],
    featureDensity: 1,
  },
  // no edges at all
  edgeless: {
    seed: 35,
    numNodes: 5,
    inFeatures: 3,
    degree: () => 0,
    layers: [
      { kind: "gat", gat: { heads: 2, headFeatures: 3, concat: true }, out: 6, density: 1, format: "dense" },
      { kind: "gat", gat: { heads: 2, headFeatures: 2, concat: false }, out: 2, density: 1, format: "csr", activation: "none" },
    ],
    featureDensity: 1,
  },
};

const GAT_VARIANTS: Record<string, OnnxExportOptions> = {
  default: {},
  "sparse initializers, opset 17": { sparseInitializers: true, opset: 17 },
};

function ticketFor(spec: OnnxTicketSpec): { ticket: Ticket; features: Float32Array } {
  const ticket = onnxTicket(spec);
  const features = ticket.features ? featuresToDense(ticket.features, ticket.graph.numNodes, ticket.layers[0].inFeatures) : randomFeatures(ticket, spec.seed);
  return { ticket, features };
}

function inDegree(t: Ticket, v: number): number {
  return t.graph.rowPtr[v + 1] - t.graph.rowPtr[v];
}

function keptInEdges(t: Ticket, v: number): number {
  let d = 0;
  for (let e = t.graph.rowPtr[v]; e < t.graph.rowPtr[v + 1]; e++) if (t.graph.coef[e] !== 0) d++;
  return d;
}

describe("GAT tickets: ticketToOnnx → onnxruntime-node equals referenceForward", () => {
  for (const [name, spec] of Object.entries(GAT_SPECS)) {
    for (const [variant, opts] of Object.entries(GAT_VARIANTS)) {
      it(`${name}, ${variant}`, async () => {
        const { ticket, features } = ticketFor(spec);
        const r = await verifyOnnx(ticketToOnnx(ticket, opts), ticket, { features, runs: 1 });
        expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
        expect(r.samePredictions).toBe(true);
        expect(r.logits.length).toBe(ticket.graph.numNodes * ticket.numClasses);
      });
    }
  }

  it("nodes without kept in-edges output act(bias) exactly", async () => {
    const { ticket, features } = ticketFor(GAT_SPECS.concatThenMean);
    const r = await verifyOnnx(ticketToOnnx(ticket), ticket, { features, runs: 1 });
    const c = ticket.numClasses;
    const bias = ticket.layers[1].bias!; // the last layer has no activation
    for (const v of [2, 4, 5]) expect(Array.from(r.logits.subarray(v * c, (v + 1) * c)), `node ${v}`).toEqual(Array.from(bias));
    const z = ticketFor(GAT_SPECS.allZero);
    const rz = await verifyOnnx(ticketToOnnx(z.ticket), z.ticket, { features: z.features, runs: 1 });
    const elu = Array.from(z.ticket.layers[0].bias!, (b) => Math.fround(b > 0 ? b : Math.expm1(b)));
    for (let v = 0; v < z.ticket.graph.numNodes; v++) {
      Array.from(rz.logits.subarray(v * 2, v * 2 + 2)).forEach((x, j) => expect(x).toBeCloseTo(elu[j], 6));
    }
  });

  it("the small hand-written GAT fixture (an edge of coefficient 0), with its own features", async () => {
    const t = smallGatTicket();
    const r = await verifyOnnx(ticketToOnnx(t), t);
    expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
    expect(r.samePredictions).toBe(true);
  });

  it("the attention matters: the same model with other attention vectors disagrees with the ticket", async () => {
    const { ticket, features } = ticketFor(GAT_SPECS.concatThenMean);
    const other = onnxTicket(GAT_SPECS.concatThenMean);
    other.layers.forEach((l) => l.attention!.src.reverse());
    const r = await verifyOnnx(ticketToOnnx(other), ticket, { features, runs: 1 });
    expect(r.maxRelativeError).toBeGreaterThan(1e-2);
  });

  it("the specs cover what they claim", () => {
    const t = onnxTicket(GAT_SPECS.concatThenMean);
    expect(inDegree(t, 2) + inDegree(t, 5)).toBe(0);
    expect([...t.graph.colIdx].some((u) => u === 2 || u === 5)).toBe(false);
    expect(inDegree(t, 4)).toBe(3);
    expect(keptInEdges(t, 4)).toBe(0);
    let zeroElsewhere = 0;
    for (let v = 0; v < t.graph.numNodes; v++) if (v !== 4 && keptInEdges(t, v) < inDegree(t, v)) zeroElsewhere++;
    expect(zeroElsewhere).toBeGreaterThan(0);
    expect(t.layers.map((l) => [l.attention!.heads, l.attention!.headFeatures, l.attention!.concat, l.weight.format, l.activation])).toEqual([
      [3, 5, true, "csr", "elu"],
      [2, 3, false, "dense", "none"],
    ]);
    const z = onnxTicket(GAT_SPECS.allZero);
    expect(z.graph.colIdx.length).toBeGreaterThan(0);
    expect(z.graph.coef.every((c) => c === 0)).toBe(true);
    // the model: attention ops, one Softmax per layer and bucket, no scatter
    const s = summarizeOnnx(ticketToOnnx(t));
    expect(s.opset).toBe(18);
    expect(s.ops.LeakyRelu).toBe(s.ops.Softmax);
    expect(s.ops.Softmax).toBeGreaterThanOrEqual(2 * 3); // buckets K = 1, 2, 4, (32 for the hub)
    expect(s.ops.Elu).toBe(1);
    expect(s.ops.ScatterND ?? 0).toBe(0);
    expect(s.ops.ScatterElements ?? 0).toBe(0);
    expect(summarizeOnnx(ticketToOnnx(onnxTicket(GAT_SPECS.single))).ops.Concat ?? 0).toBe(0);
  });

  it("GAT exports with the baked-in gather form only: clear errors otherwise", () => {
    const t = onnxTicket(GAT_SPECS.single);
    expect(() => ticketToOnnx(t, { graphAsInput: true })).toThrow(/a GAT ticket cannot be exported with graphAsInput/);
    expect(() => ticketToOnnx(t, { messagePassing: "scatter-nd" })).toThrow(/a GAT ticket exports with messagePassing "gather" only, not "scatter-nd"/);
  });
});

const GIN_SPEC: OnnxTicketSpec = {
  seed: 36,
  numNodes: 29,
  inFeatures: 6,
  degree: 3,
  isolated: [7],
  layers: [
    { kind: "gin", out: 11, density: 0.5, format: "csr", activation: "elu" },
    { kind: "gin", out: 4, density: 0.8, format: "dense", activation: "none" },
  ],
  featureDensity: 0.5,
};

describe("GIN tickets and ELU: the GCN graph, every message-passing form", () => {
  const variants: Record<string, OnnxExportOptions> = {
    gather: {},
    "scatter-elements": { messagePassing: "scatter-elements" },
    "graph as input": { graphAsInput: true },
  };
  for (const [variant, opts] of Object.entries(variants)) {
    it(variant, async () => {
      const { ticket, features } = ticketFor(GIN_SPEC);
      const bytes = ticketToOnnx(ticket, opts);
      expect(summarizeOnnx(bytes).ops.Elu).toBe(1);
      const r = await verifyOnnx(bytes, ticket, { features, runs: 1 });
      expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
      expect(r.samePredictions).toBe(true);
    });
  }

  it("ELU is applied, not dropped: the model differs from the same ticket with no activation", () => {
    const { ticket, features } = ticketFor(GIN_SPEC);
    const none = { ...ticket, layers: ticket.layers.map((l) => ({ ...l, activation: "none" as const })) };
    const a = referenceForward(ticket, features);
    const b = referenceForward(none, features);
    expect(a.some((x, i) => Math.abs(x - b[i]) > 1e-3)).toBe(true);
  });
});
