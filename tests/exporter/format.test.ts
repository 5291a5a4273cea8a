import { describe, expect, it } from "vitest";
import * as S from "../../exporter/generated/ticket-schema.js";
import { decodeTicket, encodeTicket, ticketToMessage, weightStorageBytes, type EncodeOptions } from "../../exporter/protobuf.js";
import { summarizeTicketBytes } from "../../exporter/ticket-summary.js";
import type { Ticket, WeightMatrix } from "../../ticket/ticket.js";
import { bits, randomMeta, rng, withDenseWeights } from "./helpers.js";

/** A rows × cols dense weight with exactly round(density · rows · cols) nonzeros at random places. */
function denseWeight(rows: number, cols: number, density: number, seed: number): WeightMatrix {
  const rand = rng(seed);
  const n = rows * cols;
  const keep = Math.round(density * n);
  const idx = Int32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < keep; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = idx[i];
    idx[i] = idx[j];
    idx[j] = t;
  }
  const data = new Float32Array(n);
  for (let i = 0; i < keep; i++) data[idx[i]] = Math.fround(rand() - 0.5) || 0.25;
  return { format: "dense", rows, cols, data };
}

/** A one-layer ticket on a tiny graph, so the file is essentially that layer. */
function oneLayer(weight: WeightMatrix): Ticket {
  return {
    version: 1,
    numClasses: weight.cols,
    graph: { numNodes: 3, rowPtr: new Int32Array([0, 1, 3, 3]), colIdx: new Int32Array([0, 2, 1]), coef: new Float32Array([1, 0.5, 0.5]) },
    layers: [{ kind: "gcn", inFeatures: weight.rows, outFeatures: weight.cols, weight, bias: new Float32Array(weight.cols).fill(0.1), activation: "relu" }],
    features: null,
    meta: randomMeta(rng(9)),
  };
}

const storedFormat = (t: Ticket, opts: EncodeOptions = {}) => {
  const l = ticketToMessage(t, opts).layers[0];
  return l.weightCsr ? "csr" : "dense";
};

describe("weight format choice", () => {
  it("a 95%-sparse 1433×512 layer is stored as CSR, ≥ 15× smaller than its dense f32 bytes", () => {
    const w = denseWeight(1433, 512, 0.05, 1);
    const t = oneLayer(w);
    const bytes = encodeTicket(t);
    const denseBytes = 1433 * 512 * 4;
    expect(storedFormat(t)).toBe("csr");
    expect(ticketToMessage(t).layers[0].weightCsr!.colIdx!.encoding).toBe(S.IndexEncoding.INDEX_DELTA_VARINT);
    expect(bytes.length * 15).toBeLessThanOrEqual(denseBytes);
    const d = decodeTicket(bytes);
    expect(d.layers[0].weight.format).toBe("csr");
    expect(bits(withDenseWeights(d))).toEqual(bits(t));
    // the same layer handed over as CSR gives the same file
    const asCsr = { ...t, layers: [{ ...t.layers[0], weight: d.layers[0].weight }] };
    expect(encodeTicket(asCsr)).toEqual(bytes);
    const s = summarizeTicketBytes(bytes);
    expect(s.layers[0].storedEntries).toBe(Math.round(0.05 * 1433 * 512));
  });

  it("with fixed-width u16 indices it is still CSR, but only ~13× smaller (why the varint deltas exist)", () => {
    const t = oneLayer(denseWeight(1433, 512, 0.05, 1));
    const bytes = encodeTicket(t, { indexEncoding: "fixed" });
    expect(storedFormat(t, { indexEncoding: "fixed" })).toBe("csr");
    const ratio = (1433 * 512 * 4) / bytes.length;
    expect(ratio).toBeGreaterThan(12.5);
    expect(ratio).toBeLessThan(15);
  });

  it("a dense layer is stored dense, even when handed over as CSR", () => {
    const w = denseWeight(300, 64, 1, 2);
    expect(storedFormat(oneLayer(w))).toBe("dense");
    const d = decodeTicket(encodeTicket(oneLayer(w), { weightFormat: "csr" }));
    expect(d.layers[0].weight.format).toBe("csr");
    expect(storedFormat(d)).toBe("dense");
    expect(decodeTicket(encodeTicket(d)).layers[0].weight.format).toBe("dense");
  });

  it("a fully pruned layer is CSR with no entries", () => {
    const t = oneLayer(denseWeight(40, 30, 0, 3));
    expect(storedFormat(t)).toBe("csr");
    const d = decodeTicket(encodeTicket(t));
    expect(d.layers[0].weight.format === "csr" && d.layers[0].weight.colIdx.length).toBe(0);
  });

  it("break-even: u16 indices pay above ~1/3 sparsity; varint deltas above ~1/5", () => {
    const fixed: EncodeOptions = { indexEncoding: "fixed" };
    expect(storedFormat(oneLayer(denseWeight(200, 100, 0.7, 4)), fixed)).toBe("dense"); // 30% sparse
    expect(storedFormat(oneLayer(denseWeight(200, 100, 0.6, 4)), fixed)).toBe("csr"); // 40% sparse
    expect(storedFormat(oneLayer(denseWeight(200, 100, 0.85, 4)))).toBe("dense"); // 15% sparse
    expect(storedFormat(oneLayer(denseWeight(200, 100, 0.75, 4)))).toBe("csr"); // 25% sparse
  });

  it("always takes the smaller of the two, within framing bytes", () => {
    for (const density of [0, 0.01, 0.1, 0.3, 0.5, 0.66, 0.7, 0.8, 0.9, 1]) {
      for (const opts of [{}, { indexEncoding: "fixed" }, { indexEncoding: "u32" }] as EncodeOptions[]) {
        const t = oneLayer(denseWeight(64, 48, density, 5));
        const auto = encodeTicket(t, opts).length;
        const csr = encodeTicket(t, { ...opts, weightFormat: "csr" }).length;
        const dense = encodeTicket(t, { ...opts, weightFormat: "dense" }).length;
        expect(auto).toBe(csr < dense ? csr : dense);
        const est = weightStorageBytes(t.layers[0].weight, opts);
        expect(est.csr < est.dense).toBe(csr < dense);
      }
    }
  });
});
