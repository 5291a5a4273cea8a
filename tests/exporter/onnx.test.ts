import { describe, expect, it } from "vitest";
import { TicketFormatError } from "../../exporter/errors.js";
import * as O from "../../exporter/generated/onnx-schema.js";
import {
  decodeModelProto,
  MESSAGE_PASSING,
  ONNX_IR_VERSION,
  OnnxFormatError,
  onnxGraphInputs,
  summarizeOnnx,
  ticketToOnnx,
  type OnnxExportOptions,
} from "../../exporter/onnx.js";
import { encodeTicket } from "../../exporter/protobuf.js";
import { compareLogitRows, loadOnnxRuntime, verifyOnnx } from "../../exporter/verify.js";
import { featuresToDense, referenceForward } from "../../runtime-wasm/host/reference.js";
import type { Ticket } from "../../ticket/ticket.js";
import { smallTicket } from "./fixtures.js";
import { coraShapedTicket, onnxTicket, randomFeatures, type OnnxTicketSpec } from "./onnx-fixtures.js";

const TOL = 1e-4;

const SPECS: Record<string, OnnxTicketSpec> = {
  // 7 nodes, two isolated, skewed degrees; CSR then dense weights; out > in on layer 0 (aggregate first)
  awkward: {
    seed: 11,
    numNodes: 7,
    inFeatures: 5,
    degree: 2,
    isolated: [2, 5],
    layers: [
      { out: 9, density: 0.3, format: "csr" },
      { out: 3, density: 1, format: "dense", activation: "none" },
    ],
    featureDensity: 0.4,
  },
  // no features in the ticket, three layers, no biases, a fully pruned middle layer, a hub
  pruned: {
    seed: 12,
    numNodes: 53,
    inFeatures: 17,
    degree: (v) => (v === 0 ? 45 : v % 3),
    layers: [
      { out: 11, density: 0.2, format: "csr", bias: false },
      { out: 6, density: 0, format: "csr", bias: false },
      { out: 4, density: 0.9, format: "dense", bias: false, activation: "none" },
    ],
    featureDensity: null,
  },
  // a middle layer without activation, ReLU on the last one, widths not multiples of 4
  wide: {
    seed: 13,
    numNodes: 301,
    inFeatures: 67,
    degree: 4,
    layers: [
      { out: 129, density: 0.05, format: "csr" },
      { out: 33, density: 0.5, format: "dense", activation: "none" },
      { out: 5, density: 0.25, format: "csr", activation: "relu" },
    ],
    featureDensity: 0.05,
  },
  // every degree a power of two: no padding, no zero row
  powers: {
    seed: 14,
    numNodes: 40,
    inFeatures: 8,
    degree: (v) => [1, 2, 4, 8][v % 4],
    layers: [{ out: 3, density: 0.6, format: "csr", activation: "none" }],
    featureDensity: 0.5,
  },
  // every node has exactly one in-edge: one bucket, identity order
  single: {
    seed: 15,
    numNodes: 9,
    inFeatures: 4,
    degree: () => 1,
    layers: [
      { out: 6, density: 0.7, format: "dense" },
      { out: 2, density: 0.7, format: "csr", activation: "none" },
    ],
    featureDensity: 0.6,
  },
  // no edges at all
  edgeless: {
    seed: 16,
    numNodes: 6,
    inFeatures: 3,
    degree: () => 0,
    layers: [
      { out: 4, density: 0.8, format: "dense" },
      { out: 2, density: 0.8, format: "csr", activation: "none" },
    ],
    featureDensity: 0.7,
  },
  // one node, its own self-loop
  tiny: {
    seed: 17,
    numNodes: 1,
    inFeatures: 2,
    degree: () => 1,
    layers: [{ out: 3, density: 1, format: "dense", activation: "none" }],
    featureDensity: 1,
  },
};

const VARIANTS: Record<string, OnnxExportOptions> = {
  default: {},
  sparse: { sparseInitializers: true },
  "graph-as-input": { graphAsInput: true },
  "graph-as-input, sparse, opset 17": { graphAsInput: true, sparseInitializers: true, opset: 17 },
  "scatter-elements": { messagePassing: "scatter-elements" },
  "scatter-nd, opset 17": { messagePassing: "scatter-nd", opset: 17 },
};

function ticketFor(name: string): { ticket: Ticket; features: Float32Array } {
  const ticket = onnxTicket(SPECS[name]);
  const features = ticket.features
    ? featuresToDense(ticket.features, ticket.graph.numNodes, ticket.layers[0].inFeatures)
    : randomFeatures(ticket, SPECS[name].seed);
  return { ticket, features };
}

describe("ticketToOnnx → onnxruntime-node equals referenceForward", () => {
  for (const name of Object.keys(SPECS)) {
    for (const [variant, opts] of Object.entries(VARIANTS)) {
      it(`${name}, ${variant}`, async () => {
        const { ticket, features } = ticketFor(name);
        const bytes = ticketToOnnx(ticket, opts);
        const r = await verifyOnnx(bytes, ticket, { features, runs: 1 });
        expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
        expect(r.samePredictions).toBe(true);
        expect(r.logits.length).toBe(ticket.graph.numNodes * ticket.numClasses);
        // ScatterND(add) models run on one thread (an edgeless ticket has no ScatterND at all)
        const scatterNd = summarizeOnnx(bytes).scatterNdAdd;
        expect(scatterNd).toBe(opts.messagePassing === "scatter-nd" && ticket.graph.colIdx.length > 0);
        expect(r.threads).toBe(scatterNd ? 1 : 0);
      });
    }
  }

  it("the small hand-written fixture, with its own features", async () => {
    const t = smallTicket();
    const r = await verifyOnnx(ticketToOnnx(t), t);
    expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
    expect(r.samePredictions).toBe(true);
  });

  it("the test specs cover what they claim", () => {
    const pruned = onnxTicket(SPECS.pruned);
    expect(pruned.features).toBeNull();
    expect(pruned.layers[1].weight.format === "csr" && pruned.layers[1].weight.rowPtr[pruned.layers[1].weight.rows]).toBe(0);
    const awk = onnxTicket(SPECS.awkward);
    const g = awk.graph;
    const inDeg = (v: number) => g.rowPtr[v + 1] - g.rowPtr[v];
    expect(inDeg(2) + inDeg(5)).toBe(0);
    expect([...g.colIdx].some((u) => u === 2 || u === 5)).toBe(false); // isolated: no out-edges either
    expect(Array.from({ length: 7 }, (_, v) => inDeg(v)).filter((d) => d === 0).length).toBeGreaterThan(2); // and others without in-edges
    expect(onnxTicket(SPECS.edgeless).graph.colIdx.length).toBe(0);
    // the gather form: several buckets with padding for "pruned", no zero row for "powers", one bucket for "single"
    const ops = (name: string) => summarizeOnnx(ticketToOnnx(onnxTicket(SPECS[name]))).ops;
    expect(ops("pruned").Squeeze).toBe(3 * 3); // 3 layers × buckets K = 1 (degrees 0, 1), 2, 64 (the hub)
    expect(ops("powers").Concat).toBe(1); // one Concat of the 4 buckets; no zero-row Concat
    expect(ops("single").Concat ?? 0).toBe(0);
    expect(ops("single").Gather).toBe(2); // one per layer, no reordering Gather
  });
});

describe("the graph as model inputs", () => {
  it("takes any edge order and duplicates, and other graphs of the same widths", async () => {
    const { ticket, features } = ticketFor("wide");
    const ort = await loadOnnxRuntime();
    for (const messagePassing of ["scatter-elements", "scatter-nd"] as const) {
      const bytes = ticketToOnnx(ticket, { graphAsInput: true, messagePassing });
      const s = summarizeOnnx(bytes);
      expect(s.inputs).toEqual(["x", "edge_src", "edge_dst", "edge_coef"]);
      const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
      try {
        // a different graph (and node count) for the same model: the "awkward"-like structure, 301 → 97 nodes
        const other = onnxTicket({ ...SPECS.wide, seed: 99, numNodes: 97, degree: 6 });
        for (const t of [ticket, other]) {
          const x = t === ticket ? features : randomFeatures(t, 5);
          const gi = onnxGraphInputs(t);
          const e = gi.edge_coef.length;
          // reverse the edge order: scatter forms must not depend on it
          const perm = Array.from({ length: e }, (_, i) => e - 1 - i);
          const feeds = {
            x: new ort.Tensor("float32", x, [t.graph.numNodes, t.layers[0].inFeatures]),
            edge_src: new ort.Tensor("int64", BigInt64Array.from(perm, (p) => gi.edge_src[p]), [e]),
            edge_dst: new ort.Tensor("int64", BigInt64Array.from(perm, (p) => gi.edge_dst[p]), [e]),
            edge_coef: new ort.Tensor("float32", Float32Array.from(perm, (p) => gi.edge_coef[p]), [e]),
          };
          const out = (await session.run(feeds)).logits;
          expect(out.dims).toEqual([t.graph.numNodes, t.numClasses]);
          const cmp = compareLogitRows(referenceForward({ ...t, layers: ticket.layers }, x), out.data as Float32Array, t.numClasses);
          expect(cmp.maxRelativeError).toBeLessThanOrEqual(TOL);
        }
      } finally {
        await session.release();
      }
    }
  });
});

describe("the ONNX file", () => {
  const t = onnxTicket(SPECS.wide);

  it("declares IR 8, the asked opset, x → logits, and the metadata", () => {
    for (const opset of [17, 18] as const) {
      const m = decodeModelProto(ticketToOnnx(t, { opset }));
      expect(m.irVersion).toBe(ONNX_IR_VERSION);
      expect(m.opsetImport).toEqual([{ domain: "", version: opset }]);
      expect(m.producerName).toBe("fastglt");
      const g = m.graph!;
      expect(g.input.map((v) => v.name)).toEqual(["x"]);
      const dims = (v: O.ValueInfoProto) => v.type!.tensorType!.shape!.dim.map((d) => d.dimValue ?? d.dimParam);
      expect(dims(g.input[0])).toEqual([301, 67]);
      expect(dims(g.output[0])).toEqual([301, 5]);
      expect(g.output[0].name).toBe("logits");
      const meta = Object.fromEntries(m.metadataProps.map((p) => [p.key, p.value]));
      expect(meta["fastglt.message_passing"]).toBe("gather");
      // every node input is a graph input, an initializer or an earlier node's output; names unique
      const known = new Set([...g.input.map((v) => v.name), ...g.initializer.map((i) => i.name), ...g.sparseInitializer.map((s) => s.values!.name)]);
      for (const n of g.node) {
        for (const i of n.input) expect(known.has(i), `${n.opType} ${n.name}: input ${i}`).toBe(true);
        for (const o of n.output) {
          expect(known.has(o), `${o} produced twice`).toBe(false);
          known.add(o);
        }
      }
      // and every initializer is used (ORT warns about unused ones)
      const used = new Set(g.node.flatMap((n) => n.input));
      for (const i of g.initializer) expect(used.has(i.name!), `${i.name} unused`).toBe(true);
    }
  });

  it("graph-as-input has symbolic nodes and edges", () => {
    const g = decodeModelProto(ticketToOnnx(t, { graphAsInput: true })).graph!;
    const dims = (v: O.ValueInfoProto) => v.type!.tensorType!.shape!.dim.map((d) => d.dimValue ?? d.dimParam);
    expect(g.input.map((v) => [v.name, v.type!.tensorType!.elemType, dims(v)])).toEqual([
      ["x", O.TensorProto_DataType.FLOAT, ["nodes", 67]],
      ["edge_src", O.TensorProto_DataType.INT64, ["edges"]],
      ["edge_dst", O.TensorProto_DataType.INT64, ["edges"]],
      ["edge_coef", O.TensorProto_DataType.FLOAT, ["edges"]],
    ]);
    expect(dims(g.output[0])).toEqual(["nodes", 5]);
    expect(g.initializer.some((i) => i.name?.startsWith("edge_") || i.name?.startsWith("graph_"))).toBe(false);
  });

  it("sparse initializers: pruned weights only, ascending int64 indices, values equal the weights", () => {
    const m = decodeModelProto(ticketToOnnx(t, { sparseInitializers: true }));
    const g = m.graph!;
    // layer 0 (5% dense) and layer 2 (25%) are sparse; layer 1 (50%) stays dense: its sparse form is larger
    expect(g.sparseInitializer.map((s) => s.values!.name)).toEqual(["l0_weight", "l2_weight"]);
    expect(g.initializer.some((i) => i.name === "l1_weight")).toBe(true);
    for (const s of g.sparseInitializer) {
      const layer = t.layers[Number(s.values!.name![1])];
      expect(s.dims).toEqual([layer.inFeatures, layer.outFeatures]);
      expect(s.indices!.dataType).toBe(O.TensorProto_DataType.INT64);
      const raw = s.indices!.rawData!;
      const idx = new BigInt64Array(raw.slice().buffer);
      for (let i = 1; i < idx.length; i++) expect(idx[i] > idx[i - 1]).toBe(true);
      const vals = new Float32Array(s.values!.rawData!.slice().buffer);
      const dense = new Float32Array(layer.inFeatures * layer.outFeatures);
      idx.forEach((lin, k) => (dense[Number(lin)] = vals[k]));
      const w = layer.weight;
      const expected = new Float32Array(w.rows * w.cols);
      if (w.format === "csr") for (let r = 0; r < w.rows; r++) for (let k = w.rowPtr[r]; k < w.rowPtr[r + 1]; k++) expected[r * w.cols + w.colIdx[k]] = w.values[k];
      expect(dense).toEqual(expected);
    }
    expect(ticketToOnnx(t, { sparseInitializers: true }).length).toBeLessThan(ticketToOnnx(t).length);
  });

  it("encodes the same bytes every time", () => {
    expect(ticketToOnnx(t)).toEqual(ticketToOnnx(onnxTicket(SPECS.wide)));
  });

  it("rejects bad options and tickets with clear errors", () => {
    expect(() => ticketToOnnx(t, { opset: 16 as 17 })).toThrow(/opset must be 17 or 18/);
    expect(() => ticketToOnnx(t, { messagePassing: "dense" as "gather" })).toThrow(/messagePassing must be one of gather, scatter-elements, scatter-nd/);
    expect(() => ticketToOnnx(t, { graphAsInput: true, messagePassing: "gather" })).toThrow(/"gather" bakes the graph in/);
    const broken = onnxTicket(SPECS.wide);
    broken.graph.colIdx[3] = 10_000;
    expect(() => ticketToOnnx(broken)).toThrow(TicketFormatError);
    expect(MESSAGE_PASSING).toEqual(["gather", "scatter-elements", "scatter-nd"]);
  });
});

describe("the ONNX codec", () => {
  it("round-trips a model, and names where a damaged one breaks", () => {
    const bytes = ticketToOnnx(onnxTicket(SPECS.awkward), { sparseInitializers: true });
    const m = decodeModelProto(bytes);
    expect(O.encodeModelProto(m)).toEqual(bytes);
    expect(() => decodeModelProto(bytes.subarray(0, bytes.length - 3))).toThrow(OnnxFormatError);
    expect(() => decodeModelProto(bytes.subarray(0, bytes.length - 3))).toThrow(/^ModelProto\.metadataProps\[7\]: truncated/);
    expect(() => decodeModelProto(bytes.subarray(0, 400))).toThrow(/^ModelProto\.graph: truncated/);
    expect(() => decodeModelProto(new Uint8Array([0x08, 0x80]))).toThrow(/ModelProto\.irVersion: truncated varint/);
  });

  it("keeps proto2 presence, reads packed and unpacked repeated scalars, rejects 64-bit values past 2^53", () => {
    const attr = O.createAttributeProto({ name: "axis", type: O.AttributeProto_AttributeType.INT, i: 0 });
    expect(O.decodeAttributeProto(O.encodeAttributeProto(attr))).toEqual(attr); // i = 0 is written, and read back as present
    expect(O.decodeAttributeProto(O.encodeAttributeProto(O.createAttributeProto({ name: "x" })))).not.toHaveProperty("i");
    const t = O.createTensorProto({ dims: [3, -1, 2 ** 40], int64Data: [1, -2, 3] });
    const enc = O.encodeTensorProto(t);
    expect(O.decodeTensorProto(enc)).toEqual(t);
    // dims (field 1) unpacked: tag 0x08 per element; int64_data (field 7) packed: one tag 0x3a
    expect([...enc.subarray(0, 2)]).toEqual([0x08, 3]);
    expect(enc.filter((b) => b === 0x3a).length).toBeGreaterThan(0);
    expect(O.decodeTensorProto(new Uint8Array([0x0a, 0x02, 0x05, 0x06])).dims).toEqual([5, 6]); // dims packed: also accepted
    const big = new Uint8Array([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]); // 2^53
    expect(() => O.decodeTensorProto(big)).toThrow(/beyond ±2\^53/);
  });
});

describe("verifyOnnx", () => {
  it("reports a model that disagrees with the ticket", async () => {
    const t = onnxTicket(SPECS.wide);
    const other = onnxTicket({ ...SPECS.wide, seed: 77 });
    const r = await verifyOnnx(ticketToOnnx(other), t, { runs: 1 });
    expect(r.maxRelativeError).toBeGreaterThan(0.1);
    expect(r.samePredictions).toBe(false);
    expect(r.mismatchedNodes).toBeGreaterThan(0);
  });

  it("needs features, the x → logits interface and bytes that are ONNX", async () => {
    const t = onnxTicket(SPECS.pruned); // no features
    await expect(verifyOnnx(ticketToOnnx(t), t)).rejects.toThrow(/no features/);
    const bytes = encodeTicket(smallTicket());
    await expect(verifyOnnx(bytes, smallTicket())).rejects.toThrow(OnnxFormatError);
    const m = decodeModelProto(ticketToOnnx(smallTicket()));
    m.graph!.input[0].name = "features";
    await expect(verifyOnnx(O.encodeModelProto(m), smallTicket())).rejects.toThrow(/expected input "x" and output "logits"/);
  });

  it("passes ORT's load errors on as one line", async () => {
    const m = decodeModelProto(ticketToOnnx(smallTicket()));
    m.graph!.node[0].opType = "NoSuchOp";
    const err = await verifyOnnx(O.encodeModelProto(m), smallTicket()).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^ONNX Runtime could not load the model: .*NoSuchOp/);
    expect((err as Error).message).not.toMatch(/\n/);
  });

  it("says how to install onnxruntime-node when it is missing, and when it is broken", async () => {
    const missing = async (s: string) => {
      throw new Error(`Cannot find package '${s}' imported from /x/verify.ts`);
    };
    await expect(loadOnnxRuntime(missing)).rejects.toThrow(/onnxruntime-node is not installed .*ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node/);
    const broken = async () => {
      throw new Error("libonnxruntime.so.1: cannot open shared object file\n  at dlopen");
    };
    await expect(loadOnnxRuntime(broken)).rejects.toThrow(/^onnxruntime-node is installed but failed to load: libonnxruntime\.so\.1: cannot open shared object file at dlopen$/);
    await expect(loadOnnxRuntime(async () => ({}))).rejects.toThrow(/has no InferenceSession/);
  });

  it("compares rows at each row's scale and lets ties go either way", () => {
    const ref = new Float32Array([1000, 1, 0, /* row 2 */ 0.001, 0.002, 0, /* row 3: tie */ 5, 5, 1]);
    const got = new Float32Array([1000.05, 1.04, 0, 0.001, 0.0020001, 0, 5, 5.000001, 1]);
    const c = compareLogitRows(ref, got, 3);
    expect(c.maxRelativeError).toBeCloseTo(5e-5, 6); // row 0: 0.05 / 1000; row 1: 1e-7 / 0.002 (not 1e-7 / 0.001)
    expect(c.samePredictions).toBe(true);
    expect(compareLogitRows(ref, new Float32Array([0, 1000, 0, 0.001, 0.002, 0, 5, 5, 1]), 3).mismatchedNodes).toBe(1);
    expect(compareLogitRows(new Float32Array([1, 2]), new Float32Array([1, Number.NaN]), 2).maxRelativeError).toBe(Infinity);
  });
});

describe("file sizes: a 95%-weight-sparse Cora-shaped ticket (1433 → 512 → 7, 2708 nodes, 13,264 edges)", () => {
  it(".glt vs ONNX with dense and with sparse initializers", async () => {
    const t = coraShapedTicket(0.05);
    const glt = encodeTicket(t).length;
    const dense = ticketToOnnx(t).length;
    const sparse = ticketToOnnx(t, { sparseInitializers: true }).length;
    const scatter = ticketToOnnx(t, { messagePassing: "scatter-elements" }).length;
    console.log(
      `[onnx sizes] .glt ${glt} B; ONNX dense initializers ${dense} B (${(dense / glt).toFixed(1)}× the .glt), ` +
        `sparse initializers ${sparse} B (${(sparse / glt).toFixed(1)}×), scatter-elements form ${scatter} B`,
    );
    // dense weights alone are (1433·512 + 512·7)·4 B = 2.95 MB
    expect(dense).toBeGreaterThan(2_950_000);
    expect(dense / glt).toBeGreaterThan(10);
    expect(sparse).toBeLessThan(dense / 4);
    // and it still runs
    const r = await verifyOnnx(ticketToOnnx(t, { sparseInitializers: true }), t, { features: randomFeatures(t, 3), runs: 1 });
    expect(r.maxRelativeError).toBeLessThanOrEqual(TOL);
  });
});
