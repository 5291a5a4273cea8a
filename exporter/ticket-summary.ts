/** Byte breakdown of an encoded .glt file, for reports. Runtime-safe (no fs). */
import pb from "protobufjs/minimal.js";
import { FIELD, IndexEncoding, ValueType, decodeTicketPayload, type ValueArray } from "./generated/ticket-schema.js";
import { GLT_HEADER_BYTES, decodeTicket, openContainerVersioned } from "./protobuf.js";
import type { ValueEncoding } from "./quantize.js";
import type { LayerKind } from "../ticket/ticket.js";

export interface CsrBytes {
  total: number;
  rowPtr: number;
  colIdx: number;
  values: number;
}

export interface LayerBytes {
  index: number;
  kind: LayerKind;
  /** gat layers: attention heads and whether they are concatenated (else averaged); null otherwise */
  heads: number | null;
  concat: boolean | null;
  format: "csr" | "dense";
  rows: number;
  cols: number;
  /** stored weight entries (nnz for CSR, rows × cols for dense) */
  storedEntries: number;
  /** the whole layer record */
  total: number;
  weight: number;
  bias: number;
  /** gat layers: the attention record (heads, vectors, slope, concat); 0 otherwise */
  attention: number;
  /** for CSR: its arrays; for dense: values only (with int8: the row scales included) */
  weightParts: CsrBytes;
  /** how the weight values are stored */
  valueType: ValueEncoding;
}

export interface TicketByteSummary {
  totalBytes: number;
  /** the file's format version (1: f32 GCN only; 2: f16 / int8 values, delta graph sources, GIN, GAT or ELU) */
  formatVersion: number;
  /** magic + version */
  headerBytes: number;
  /** GltFile framing around the payload: version, crc32, payload tag and length */
  containerBytes: number;
  payloadBytes: number;
  graph: CsrBytes & { numNodes: number; edges: number; coefType: ValueEncoding; deltaSources: boolean };
  layers: LayerBytes[];
  /** null when the file carries no features */
  features: (CsrBytes & { rows: number; cols: number; nnz: number; valueType: ValueEncoding }) | null;
  meta: number;
  /** payload bytes outside graph, layers, features and meta (ticket version, class count) */
  other: number;
}

interface FieldSpan {
  id: number;
  /** bytes on the wire including tag and length prefix */
  bytes: number;
  /** for length-delimited fields: the content range */
  start: number;
  end: number;
}

/** Top-level fields of the message in buf[start, end) (the buffer is already validated). */
function fields(buf: Uint8Array, start: number, end: number): FieldSpan[] {
  const r = pb.Reader.create(buf);
  r.pos = start;
  const out: FieldSpan[] = [];
  while (r.pos < end) {
    const t0 = r.pos;
    const tag = r.uint32();
    const id = tag >>> 3;
    if ((tag & 7) === 2) {
      const len = r.uint32();
      const s = r.pos;
      r.pos += len;
      out.push({ id, bytes: r.pos - t0, start: s, end: r.pos });
    } else {
      r.skipType(tag & 7);
      out.push({ id, bytes: r.pos - t0, start: r.pos, end: r.pos });
    }
  }
  return out;
}

function sum(spans: FieldSpan[], id: number): number {
  let s = 0;
  for (const f of spans) if (f.id === id) s += f.bytes;
  return s;
}

function csrBytes(buf: Uint8Array, span: FieldSpan | undefined, ids: { rowPtr: number; colIdx: number; values: number }): CsrBytes {
  if (!span) return { total: 0, rowPtr: 0, colIdx: 0, values: 0 };
  const f = fields(buf, span.start, span.end);
  return { total: span.bytes, rowPtr: sum(f, ids.rowPtr), colIdx: sum(f, ids.colIdx), values: sum(f, ids.values) };
}

function encodingOf(a: ValueArray | null | undefined): ValueEncoding {
  return a?.type === ValueType.VALUE_TYPE_F16 ? "f16" : a?.type === ValueType.VALUE_TYPE_INT8_ROW_SCALED ? "int8" : "f32";
}

/** Decodes (and so validates) the file, then attributes every byte of it. */
export function summarizeTicketBytes(bytes: Uint8Array): TicketByteSummary {
  const t = decodeTicket(bytes);
  const { version, payload } = openContainerVersioned(bytes);
  const msg = decodeTicketPayload(payload, "payload");
  const top = fields(payload, 0, payload.length);
  const P = FIELD.TicketPayload;
  const graphSpan = top.find((f) => f.id === P.graph);
  const featSpan = top.find((f) => f.id === P.features);
  const layerSpans = top.filter((f) => f.id === P.layers);

  const layers: LayerBytes[] = layerSpans.map((span, index) => {
    const lf = fields(payload, span.start, span.end);
    const csr = lf.find((f) => f.id === FIELD.Layer.weightCsr);
    const dense = lf.find((f) => f.id === FIELD.Layer.weightDense);
    const l = t.layers[index];
    const w = l.weight;
    const weightParts = csr
      ? csrBytes(payload, csr, FIELD.CsrMatrix)
      : { ...csrBytes(payload, dense, { rowPtr: -1, colIdx: -1, values: FIELD.DenseMatrix.values }) };
    return {
      index,
      kind: l.kind,
      heads: l.attention?.heads ?? null,
      concat: l.attention?.concat ?? null,
      format: w.format,
      rows: w.rows,
      cols: w.cols,
      storedEntries: w.format === "csr" ? w.rowPtr[w.rows] : w.rows * w.cols,
      total: span.bytes,
      weight: (csr ?? dense)?.bytes ?? 0,
      bias: sum(lf, FIELD.Layer.bias),
      attention: sum(lf, FIELD.Layer.attention),
      weightParts,
      valueType: encodingOf((msg.layers[index].weightCsr ?? msg.layers[index].weightDense)?.values),
    };
  });

  const g = csrBytes(payload, graphSpan, { rowPtr: FIELD.Graph.rowPtr, colIdx: FIELD.Graph.colIdx, values: FIELD.Graph.coef });
  const features = featSpan && t.features
    ? {
        ...csrBytes(payload, featSpan, FIELD.CsrMatrix),
        rows: t.features.rows,
        cols: t.features.cols,
        nnz: t.features.rowPtr[t.features.rows],
        valueType: encodingOf(msg.features?.values),
      }
    : null;
  const meta = sum(top, P.meta);
  const layerTotal = layers.reduce((s, l) => s + l.total, 0);
  return {
    totalBytes: bytes.length,
    formatVersion: version,
    headerBytes: GLT_HEADER_BYTES,
    containerBytes: bytes.length - GLT_HEADER_BYTES - payload.length,
    payloadBytes: payload.length,
    graph: {
      ...g,
      numNodes: t.graph.numNodes,
      edges: t.graph.colIdx.length,
      coefType: encodingOf(msg.graph?.coef),
      deltaSources: msg.graph?.colIdx?.encoding === IndexEncoding.INDEX_DELTA_VARINT,
    },
    layers,
    features,
    meta,
    other: payload.length - g.total - layerTotal - (features?.total ?? 0) - meta,
  };
}

function kib(n: number): string {
  return n < 1024 ? `${n} B` : `${(n / 1024).toFixed(1)} KiB`;
}

/** A few lines of text for a report. */
export function formatTicketByteSummary(s: TicketByteSummary): string {
  const lines = [
    `total ${kib(s.totalBytes)}, format version ${s.formatVersion} (header ${s.headerBytes} B, container ${s.containerBytes} B, payload ${kib(s.payloadBytes)})`,
    `graph ${kib(s.graph.total)}: ${s.graph.numNodes} nodes, ${s.graph.edges} edges ` +
      `(rowPtr ${kib(s.graph.rowPtr)}, colIdx ${kib(s.graph.colIdx)}${s.graph.deltaSources ? " delta" : ""}, coef ${kib(s.graph.values)} ${s.graph.coefType})`,
  ];
  for (const l of s.layers) {
    const heads = l.heads === null ? "" : ` (${l.heads} heads, ${l.concat ? "concatenated" : "averaged"})`;
    const attention = l.heads === null ? "" : `, attention ${kib(l.attention)}`;
    lines.push(
      `layer ${l.index} ${l.kind}${heads} ${kib(l.total)}: ${l.rows}x${l.cols} ${l.format} ${l.valueType}, ${l.storedEntries} stored entries ` +
        `(weights ${kib(l.weight)}, bias ${kib(l.bias)}${attention})`,
    );
  }
  if (s.features) {
    lines.push(`features ${kib(s.features.total)}: ${s.features.rows}x${s.features.cols} ${s.features.valueType}, ${s.features.nnz} nonzeros`);
  }
  lines.push(`meta ${kib(s.meta)}, other ${s.other} B`);
  return lines.join("\n");
}
