import * as S from "../../exporter/generated/ticket-schema.js";
import { sealPayload, ticketToMessage, type EncodeOptions } from "../../exporter/protobuf.js";
import type { Ticket } from "../../ticket/ticket.js";
import { randomMeta, rng } from "./helpers.js";

/**
 * A small hand-written ticket: 7 nodes (node 2 and 5 have no in-edges), features 7 × 6 (CSR),
 * layer 0: 6 × 4 CSR with bias (row 3 fully pruned), layer 1: 4 × 3 dense, no bias.
 */
export function smallTicket(): Ticket {
  return {
    version: 1,
    numClasses: 3,
    graph: {
      numNodes: 7,
      rowPtr: new Int32Array([0, 1, 3, 3, 4, 6, 6, 8]),
      colIdx: new Int32Array([0, 1, 2, 3, 4, 5, 6, 0]),
      coef: new Float32Array([1, 0.5, 0.5, 1, 0.25, 0.75, 0.5, 0.5]),
    },
    features: {
      rows: 7,
      cols: 6,
      rowPtr: new Int32Array([0, 2, 3, 3, 5, 6, 6, 7]),
      colIdx: new Int32Array([0, 5, 2, 1, 3, 4, 0]),
      values: new Float32Array([1, 1, 1, 1, 1, 1, 1]),
    },
    layers: [
      {
        kind: "gcn",
        inFeatures: 6,
        outFeatures: 4,
        weight: {
          format: "csr",
          rows: 6,
          cols: 4,
          rowPtr: new Int32Array([0, 2, 3, 5, 5, 6, 8]),
          colIdx: new Int32Array([0, 3, 1, 0, 2, 3, 1, 2]),
          values: new Float32Array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8]),
        },
        bias: new Float32Array([0.01, 0.02, 0.03, 0.04]),
        activation: "relu",
      },
      {
        kind: "gcn",
        inFeatures: 4,
        outFeatures: 3,
        weight: { format: "dense", rows: 4, cols: 3, data: Float32Array.from({ length: 12 }, (_, i) => (i - 6) / 8) },
        bias: null,
        activation: "none",
      },
    ],
    meta: randomMeta(rng(7)),
  };
}

/**
 * The small ticket's graph and features with two GAT layers: layer 0: 6 → 2 heads × 3 (concat, 6
 * out), CSR weight 6 × 6 with bias, ELU; layer 1: 6 → 3 heads × 3 averaged (3 out), dense weight
 * 6 × 9, no bias. Edge 2 has coefficient 0 (present in the file, no weight in the softmax).
 */
export function smallGatTicket(): Ticket {
  const t = smallTicket();
  t.graph.coef = new Float32Array([1, 0.5, 0, 1, 0.25, 0.75, 0.5, 0.5]);
  t.meta.model = "gat";
  t.layers = [
    {
      kind: "gat",
      inFeatures: 6,
      outFeatures: 6,
      weight: {
        format: "csr",
        rows: 6,
        cols: 6,
        rowPtr: new Int32Array([0, 2, 3, 5, 5, 6, 8]),
        colIdx: new Int32Array([0, 5, 1, 0, 4, 3, 1, 2]),
        values: new Float32Array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8]),
      },
      bias: new Float32Array([0.01, 0.02, 0.03, 0.04, 0.05, 0.06]),
      activation: "elu",
      attention: { heads: 2, headFeatures: 3, src: new Float32Array([0.5, -1, 0.25, 1, 0, -0.5]), dst: new Float32Array([-0.25, 0.5, 1, 0, 0.75, -1]), negativeSlope: 0.2, concat: true },
    },
    {
      kind: "gat",
      inFeatures: 6,
      outFeatures: 3,
      weight: { format: "dense", rows: 6, cols: 9, data: Float32Array.from({ length: 54 }, (_, i) => ((i * 7) % 11) / 8 - 0.6) },
      bias: null,
      activation: "none",
      attention: { heads: 3, headFeatures: 3, src: Float32Array.from({ length: 9 }, (_, i) => (i - 4) / 4), dst: Float32Array.from({ length: 9 }, (_, i) => (4 - i) / 8), negativeSlope: 0.01, concat: false },
    },
  ];
  return t;
}

export const FIXED: EncodeOptions = { weightFormat: "keep", indexEncoding: "fixed" };

/** The small ticket's payload message (weights as written above, fixed-width indices). */
export function smallMessage(opts: EncodeOptions = FIXED): S.TicketPayload {
  return ticketToMessage(smallTicket(), opts);
}

/** The small GAT ticket's payload message (weights as written above, fixed-width indices). */
export function smallGatMessage(opts: EncodeOptions = FIXED): S.TicketPayload {
  return ticketToMessage(smallGatTicket(), opts);
}

/** A .glt file from a (possibly broken) payload message, with a correct checksum; format version 1 unless given. */
export function seal(m: S.TicketPayload, version = 1): Uint8Array {
  return sealPayload(S.encodeTicketPayload(m), version);
}

export function u16(...v: number[]): S.IndexArray {
  return S.createIndexArray({ encoding: S.IndexEncoding.INDEX_U16, data: new Uint8Array(new Uint16Array(v).buffer) });
}

export function u32(...v: number[]): S.IndexArray {
  return S.createIndexArray({ encoding: S.IndexEncoding.INDEX_U32, data: new Uint8Array(new Uint32Array(v).buffer) });
}

export function f32(...v: number[]): S.ValueArray {
  return S.createValueArray({ type: S.ValueType.VALUE_TYPE_F32, data: new Uint8Array(new Float32Array(v).buffer) });
}
