/**
 * The .glt file: encode a Ticket to bytes and decode it back, rejecting anything inconsistent.
 *
 * Layout (schema and field meanings in ticket.proto):
 *   [0..4)  magic "FGLT"    [4..8)  u32 LE format version    [8..)  GltFile { format_version,
 *   crc32, payload = TicketPayload }, the crc32 (IEEE) taken over the payload bytes.
 *
 * Imported by the edge runtime: depends on protobufjs/minimal (through the generated schema) only:
 * no fs, no path, no tfjs, no onnxruntime, no `new Function`.
 */
import { denseToCsr, csrToDense, type CsrMatrix } from "../ticket/csr.js";
import {
  type Activation,
  type GatAttention,
  type LayerKind,
  type Ticket,
  type TicketLayer,
  type TicketMeta,
  type WeightMatrix,
} from "../ticket/ticket.js";
import { crc32 } from "./crc32.js";
import { TicketFormatError } from "./errors.js";
import * as S from "./generated/ticket-schema.js";
import { chooseInt8OrF16, decodeF16, dequantizeInt8Rows, encodeF16, valueBytes, type RowLayout, type ValueEncoding } from "./quantize.js";
import { MAX_DIM, META_FIELDS, validateRowPtr, validateTicket } from "./validate.js";

export { TicketFormatError } from "./errors.js";
export { validateTicket } from "./validate.js";
export { crc32 } from "./crc32.js";
export type { ValueEncoding } from "./quantize.js";

/** "FGLT" */
export const GLT_MAGIC: Readonly<Uint8Array> = new Uint8Array([0x46, 0x47, 0x4c, 0x54]);
/**
 * The format version of files with f32 values and fixed-width graph indices: what encodeTicket
 * writes by default, and what every version-1 reader reads.
 */
export const GLT_FORMAT_VERSION = 1;
/**
 * The newest format version this module reads and writes: version 1 plus f16 / int8 values and
 * delta-varint graph sources (ticket.proto). Written only for files that use them.
 */
export const GLT_MAX_FORMAT_VERSION = 2;
export const GLT_HEADER_BYTES = 8;

export interface EncodeOptions {
  /**
   * How each layer's weights are stored. "auto" (default): CSR when its bytes (row pointers + column
   * indices + f32 values) are fewer than dense f32 bytes, else dense. "keep": as in memory. "csr" /
   * "dense": force. Converting dense to CSR drops entries equal to 0 (so a −0 comes back as +0).
   */
  weightFormat?: "auto" | "keep" | "csr" | "dense";
  /**
   * How index arrays are stored. "auto" (default): the fewest bytes among u16 (when the largest
   * entry fits), u32 and, for CSR column indices of weights and features, delta varints.
   * "fixed": u16 when it fits, else u32. "u32": always u32.
   */
  indexEncoding?: "auto" | "fixed" | "u32";
  /**
   * How layer weights are stored: "f32" (default, lossless), "f16" (IEEE half; throws if a weight
   * is beyond ±65504) or "int8" (one f32 scale per weight row, error ≤ max |row| / 254;
   * a matrix with fewer than 4 entries per row on average is stored as f16 instead when that keeps
   * every value within the same bound, being then fewer bytes). Lossy: decoding gives the rounded
   * values back as f32. Biases and GAT attention vectors stay f32.
   */
  weightValues?: ValueEncoding;
  /** How the graph's edge coefficients are stored: "f32" (default) or "f16". */
  coefValues?: "f32" | "f16";
  /**
   * How the node features (if the ticket has them) are stored: "f32" (default), "f16" or "int8"
   * (per node; exact for rows whose entries are multiples of one step, e.g. row-normalised 0/1).
   */
  featureValues?: ValueEncoding;
  /**
   * How the graph's source indices are stored. "fixed" (default): fixed width, edges in the
   * ticket's order. "delta": each node's in-edges sorted by source and stored as per-row delta
   * varints when that is fewer bytes (and no node has the same source twice). Sorting changes the
   * order in which each node's messages are summed, so results may differ in rounding only; the
   * trainer's tickets are sorted already.
   */
  graphIndices?: "fixed" | "delta";
}

/** Any of the options that need format version 2. */
export function needsVersion2(opts: EncodeOptions): boolean {
  return (opts.weightValues ?? "f32") !== "f32" || (opts.coefValues ?? "f32") !== "f32" || (opts.featureValues ?? "f32") !== "f32" || opts.graphIndices === "delta";
}

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(where: string, problem: string): never {
  throw new TicketFormatError(where, problem);
}

// ------------------------------------------------------------------------------------------
// Encoding

function maxOf(a: Int32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) if (a[i] > m) m = a[i];
  return m;
}

function fixedWidth(max: number, opts: EncodeOptions): 2 | 4 {
  return opts.indexEncoding === "u32" || max > 0xffff ? 4 : 2;
}

function packFixed(a: Int32Array, w: 2 | 4): S.IndexArray {
  let data: Uint8Array;
  if (w === 4 && LITTLE_ENDIAN) {
    data = new Uint8Array(a.buffer, a.byteOffset, a.byteLength); // entries are >= 0: same bits as u32
  } else if (w === 2 && LITTLE_ENDIAN) {
    data = new Uint8Array(new Uint16Array(a).buffer);
  } else {
    data = new Uint8Array(a.length * w);
    const dv = new DataView(data.buffer);
    for (let i = 0; i < a.length; i++) {
      if (w === 2) dv.setUint16(2 * i, a[i], true);
      else dv.setUint32(4 * i, a[i], true);
    }
  }
  return S.createIndexArray({ encoding: w === 2 ? S.IndexEncoding.INDEX_U16 : S.IndexEncoding.INDEX_U32, data });
}

/** Row pointers and graph arrays: fixed width only. */
function packIndices(a: Int32Array, opts: EncodeOptions): S.IndexArray {
  return packFixed(a, fixedWidth(maxOf(a), opts));
}

function varintLen(v: number): number {
  return v < 0x80 ? 1 : v < 0x4000 ? 2 : v < 0x200000 ? 3 : v < 0x10000000 ? 4 : 5;
}

/** Bytes of a CSR matrix's column indices as delta varints (rows must ascend strictly). */
function deltaVarintBytes(rowPtr: Int32Array, colIdx: Int32Array, rows: number): number {
  let n = 0;
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      n += varintLen(colIdx[k] - prev - 1);
      prev = colIdx[k];
    }
  }
  return n;
}

function packDeltaVarint(rowPtr: Int32Array, colIdx: Int32Array, rows: number, size: number): S.IndexArray {
  const data = new Uint8Array(size);
  let pos = 0;
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let k = rowPtr[r]; k < rowPtr[r + 1]; k++) {
      let v = colIdx[k] - prev - 1;
      prev = colIdx[k];
      while (v >= 0x80) {
        data[pos++] = (v & 0x7f) | 0x80;
        v >>>= 7;
      }
      data[pos++] = v;
    }
  }
  return S.createIndexArray({ encoding: S.IndexEncoding.INDEX_DELTA_VARINT, data });
}

/** How a CSR matrix's column indices are stored, and their bytes. */
function colIdxPlan(m: CsrMatrix, opts: EncodeOptions): { delta: boolean; width: 2 | 4; bytes: number } {
  const nnz = m.rowPtr[m.rows];
  const width = fixedWidth(maxOf(m.colIdx), opts);
  const fixed = nnz * width;
  if ((opts.indexEncoding ?? "auto") !== "auto" || nnz === 0) return { delta: false, width, bytes: fixed };
  const delta = deltaVarintBytes(m.rowPtr, m.colIdx, m.rows);
  return delta < fixed ? { delta: true, width, bytes: delta } : { delta: false, width, bytes: fixed };
}

/**
 * Bytes of a CSR matrix's arrays as this encoder would store them (framing of a few bytes ignored),
 * its values stored as `values` (default: opts.weightValues, else f32).
 */
export function csrStorageBytes(m: CsrMatrix, opts: EncodeOptions = {}, values: ValueEncoding = opts.weightValues ?? "f32"): number {
  const nnz = m.rowPtr[m.rows];
  return (m.rows + 1) * fixedWidth(nnz, opts) + colIdxPlan(m, opts).bytes + valueBytes(values, nnz, m.rows);
}

/** f32 array -> little-endian bytes (a view when the platform is little-endian). */
function f32Bytes(a: Float32Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const data = new Uint8Array(a.length * 4);
  const dv = new DataView(data.buffer);
  for (let i = 0; i < a.length; i++) dv.setFloat32(4 * i, a[i], true);
  return data;
}

function packF32(a: Float32Array): S.ValueArray {
  return S.createValueArray({ type: S.ValueType.VALUE_TYPE_F32, data: f32Bytes(a) });
}

/** Values in `enc`; `where` names them in the error for an f16 value out of range. */
function packValues(a: Float32Array, layout: RowLayout, enc: ValueEncoding, where: string): S.ValueArray {
  if (enc === "f32") return packF32(a);
  const c = enc === "int8" ? chooseInt8OrF16(a, layout) : null;
  if (enc === "f16" || (c !== null && "f16" in c)) {
    const h = c !== null && "f16" in c ? c.f16 : encodeF16(a, where);
    let data: Uint8Array;
    if (LITTLE_ENDIAN) data = new Uint8Array(h.buffer, h.byteOffset, h.byteLength);
    else {
      data = new Uint8Array(h.length * 2);
      const dv = new DataView(data.buffer);
      for (let i = 0; i < h.length; i++) dv.setUint16(2 * i, h[i], true);
    }
    return S.createValueArray({ type: S.ValueType.VALUE_TYPE_F16, data });
  }
  if (c !== null && "q" in c) {
    const { q, scales } = c;
    return S.createValueArray({
      type: S.ValueType.VALUE_TYPE_INT8_ROW_SCALED,
      data: new Uint8Array(q.buffer, q.byteOffset, q.byteLength),
      rowScales: f32Bytes(scales),
    });
  }
  return fail(where, `unknown value encoding ${JSON.stringify(enc)} (expected f32, f16 or int8)`);
}

function csrMsg(m: CsrMatrix, opts: EncodeOptions, values: ValueEncoding, where: string): S.CsrMatrix {
  const plan = colIdxPlan(m, opts);
  return S.createCsrMatrix({
    rows: m.rows,
    cols: m.cols,
    rowPtr: packIndices(m.rowPtr, opts),
    colIdx: plan.delta ? packDeltaVarint(m.rowPtr, m.colIdx, m.rows, plan.bytes) : packFixed(m.colIdx, plan.width),
    values: packValues(m.values, { rowPtr: m.rowPtr }, values, where),
  });
}

/** `w` as CSR, or null when a dense matrix's nonzero values alone already need the dense bytes. */
function asCsr(w: WeightMatrix, needSmaller: boolean): CsrMatrix | null {
  if (w.format === "csr") return w;
  if (needSmaller) {
    let nnz = 0;
    for (let i = 0; i < w.data.length; i++) if (w.data[i] !== 0) nnz++;
    if (nnz >= w.data.length) return null;
  }
  return denseToCsr(w);
}

/**
 * Bytes of a layer's weight arrays stored as CSR and as dense, values as opts.weightValues
 * (framing of a few bytes ignored).
 */
export function weightStorageBytes(w: WeightMatrix, opts: EncodeOptions = {}): { csr: number; dense: number } {
  const csr = asCsr(w, true);
  return { csr: csr === null ? Infinity : csrStorageBytes(csr, opts), dense: denseBytes(w, opts) };
}

function denseBytes(w: { rows: number; cols: number }, opts: EncodeOptions): number {
  return valueBytes(opts.weightValues ?? "f32", w.rows * w.cols, w.rows);
}

/** The layer's weights in the format they will be stored in. */
function storedWeight(w: WeightMatrix, opts: EncodeOptions): WeightMatrix {
  const mode = opts.weightFormat ?? "auto";
  const dense = (): WeightMatrix => (w.format === "dense" ? w : { format: "dense", ...csrToDense(w) });
  const csr = (m: CsrMatrix): WeightMatrix => (w.format === "csr" ? w : { format: "csr", ...m });
  if (mode === "keep") return w;
  if (mode === "dense") return dense();
  if (mode === "csr") return csr(asCsr(w, false)!);
  const m = asCsr(w, true);
  return m !== null && csrStorageBytes(m, opts) < denseBytes(w, opts) ? csr(m) : dense();
}

const KIND_TO_WIRE: Record<LayerKind, number> = { gcn: S.LayerKind.LAYER_KIND_GCN, gin: S.LayerKind.LAYER_KIND_GIN, gat: S.LayerKind.LAYER_KIND_GAT };
const ACT_TO_WIRE: Record<Activation, number> = {
  none: S.Activation.ACTIVATION_NONE,
  relu: S.Activation.ACTIVATION_RELU,
  elu: S.Activation.ACTIVATION_ELU,
};

function layerMsg(l: TicketLayer, opts: EncodeOptions, i: number): S.Layer {
  const m = S.createLayer({
    kind: KIND_TO_WIRE[l.kind],
    inFeatures: l.inFeatures,
    outFeatures: l.outFeatures,
    activation: ACT_TO_WIRE[l.activation],
    bias: l.bias === null ? null : packF32(l.bias),
    attention:
      l.attention === undefined
        ? null
        : S.createGatAttention({
            heads: l.attention.heads,
            headFeatures: l.attention.headFeatures,
            src: packF32(l.attention.src),
            dst: packF32(l.attention.dst),
            negativeSlope: l.attention.negativeSlope,
            concat: l.attention.concat,
          }),
  });
  const w = storedWeight(l.weight, opts);
  const enc = opts.weightValues ?? "f32";
  const where = `layers[${i}].weight.values`;
  if (w.format === "csr") m.weightCsr = csrMsg(w, opts, enc, where);
  else m.weightDense = S.createDenseMatrix({ rows: w.rows, cols: w.cols, values: packValues(w.data, { rows: w.rows, rowLength: w.cols }, enc, where) });
  return m;
}

/**
 * The graph's sources and coefficients as stored: with graphIndices "delta", each row sorted by
 * source and the sources as delta varints, when no row repeats a source and it saves bytes.
 */
function graphArrays(g: Ticket["graph"], opts: EncodeOptions): { colIdx: S.IndexArray; coef: Float32Array } {
  const fixed = () => ({ colIdx: packIndices(g.colIdx, opts), coef: g.coef });
  if (opts.graphIndices !== "delta" || g.colIdx.length === 0) return fixed();
  const n = g.numNodes;
  let colIdx = g.colIdx;
  let coef = g.coef;
  let sorted = true;
  for (let v = 0; v < n && sorted; v++) for (let k = g.rowPtr[v] + 1; k < g.rowPtr[v + 1]; k++) if (g.colIdx[k] <= g.colIdx[k - 1]) sorted = false;
  if (!sorted) {
    colIdx = new Int32Array(g.colIdx.length);
    coef = new Float32Array(g.coef.length);
    for (let v = 0; v < n; v++) {
      const a = g.rowPtr[v];
      const order = Array.from({ length: g.rowPtr[v + 1] - a }, (_, i) => a + i).sort((x, y) => g.colIdx[x] - g.colIdx[y] || x - y);
      for (let i = 0; i < order.length; i++) {
        colIdx[a + i] = g.colIdx[order[i]];
        coef[a + i] = g.coef[order[i]];
        if (i > 0 && colIdx[a + i] === colIdx[a + i - 1]) return fixed(); // a repeated source: not expressible
      }
    }
  }
  const bytes = deltaVarintBytes(g.rowPtr, colIdx, n);
  if (bytes >= colIdx.length * fixedWidth(maxOf(colIdx), opts)) return fixed();
  return { colIdx: packDeltaVarint(g.rowPtr, colIdx, n, bytes), coef };
}

/**
 * The format version a payload message needs: 2 if it uses f16 / int8 values, delta graph sources,
 * GIN or GAT layers or the ELU activation.
 */
export function formatVersionOf(m: S.TicketPayload): number {
  const arrays: (S.ValueArray | null)[] = [m.graph?.coef ?? null, m.features?.values ?? null];
  for (const l of m.layers) arrays.push(l.weightCsr?.values ?? null, l.weightDense?.values ?? null, l.bias, l.attention?.src ?? null, l.attention?.dst ?? null);
  const v2 =
    arrays.some((a) => a !== null && a.type !== S.ValueType.VALUE_TYPE_F32) ||
    m.graph?.colIdx?.encoding === S.IndexEncoding.INDEX_DELTA_VARINT ||
    m.layers.some((l) => !V1_KINDS.has(l.kind) || !V1_ACTIVATIONS.has(l.activation) || l.attention !== null);
  return v2 ? 2 : 1;
}

const V1_KINDS: ReadonlySet<number> = new Set([S.LayerKind.LAYER_KIND_GCN]);
const V1_ACTIVATIONS: ReadonlySet<number> = new Set([S.Activation.ACTIVATION_NONE, S.Activation.ACTIVATION_RELU]);

/**
 * The protobuf message for a ticket, without validating it (encodeTicket validates first).
 * Exposed for tools and tests that need to build or inspect the payload message directly.
 */
export function ticketToMessage(t: Ticket, opts: EncodeOptions = {}): S.TicketPayload {
  const meta = S.createMeta();
  for (const k of Object.keys(META_FIELDS) as (keyof TicketMeta)[]) (meta as unknown as Record<string, unknown>)[k] = t.meta[k];
  const g = graphArrays(t.graph, opts);
  const coefEnc = opts.coefValues ?? "f32";
  if (coefEnc !== "f32" && coefEnc !== "f16") fail("graph.coef", `unknown coefficient encoding ${JSON.stringify(coefEnc)} (expected f32 or f16)`);
  return S.createTicketPayload({
    ticketVersion: t.version,
    numClasses: t.numClasses,
    graph: S.createGraph({
      numNodes: t.graph.numNodes,
      rowPtr: packIndices(t.graph.rowPtr, opts),
      colIdx: g.colIdx,
      coef: packValues(g.coef, { rowPtr: t.graph.rowPtr }, coefEnc, "graph.coef"),
    }),
    layers: t.layers.map((l, i) => layerMsg(l, opts, i)),
    features: t.features === null ? null : csrMsg(t.features, opts, opts.featureValues ?? "f32", "features.values"),
    meta,
  });
}

/**
 * Wraps payload bytes in the container: magic, version, GltFile { version, crc32, payload }.
 * `version` must be the one the payload needs (formatVersionOf its message).
 */
export function sealPayload(payload: Uint8Array, version: number = GLT_FORMAT_VERSION): Uint8Array {
  const env = S.encodeGltFile(S.createGltFile({ formatVersion: version, crc32: crc32(payload), payload }));
  const out = new Uint8Array(GLT_HEADER_BYTES + env.length);
  out.set(GLT_MAGIC, 0);
  new DataView(out.buffer).setUint32(4, version, true);
  out.set(env, GLT_HEADER_BYTES);
  return out;
}

/**
 * Validates the ticket (TicketFormatError if inconsistent) and encodes it as a .glt file: format
 * version 1 unless the options ask for f16 / int8 values or delta graph sources, or the ticket has
 * GIN / GAT layers or ELU (then 2).
 */
export function encodeTicket(t: Ticket, opts: EncodeOptions = {}): Uint8Array {
  validateTicket(t);
  const m = ticketToMessage(t, opts);
  return sealPayload(S.encodeTicketPayload(m), formatVersionOf(m));
}

// ------------------------------------------------------------------------------------------
// Decoding

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/**
 * Checks the header, the container and the checksum; returns the payload bytes (a view into
 * `bytes`). Throws TicketFormatError for a truncated file, wrong magic, unsupported version or a
 * checksum mismatch.
 */
export function openContainer(bytes: Uint8Array): Uint8Array {
  return openContainerVersioned(bytes).payload;
}

/** openContainer, also returning the file's format version (1 or 2). */
export function openContainerVersioned(bytes: Uint8Array): { version: number; payload: Uint8Array } {
  if (!(bytes instanceof Uint8Array)) fail("", "expected the file's bytes as a Uint8Array");
  const n = bytes.length;
  for (let i = 0; i < GLT_MAGIC.length && i < n; i++) {
    if (bytes[i] !== GLT_MAGIC[i]) {
      fail("header", `not a .glt file: starts with ${hex(bytes.subarray(0, 4))}, expected magic ${hex(GLT_MAGIC)} ("FGLT")`);
    }
  }
  if (n < GLT_HEADER_BYTES) fail("header", `truncated: the file is ${n} bytes, shorter than the ${GLT_HEADER_BYTES}-byte header`);
  const version = new DataView(bytes.buffer, bytes.byteOffset, n).getUint32(4, true);
  if (version < GLT_FORMAT_VERSION || version > GLT_MAX_FORMAT_VERSION) {
    fail("header", `unsupported format version ${version} (this decoder reads versions ${GLT_FORMAT_VERSION} and ${GLT_MAX_FORMAT_VERSION})`);
  }
  if (n === GLT_HEADER_BYTES) fail("container", "truncated: nothing after the header");
  const env = S.decodeGltFile(bytes.subarray(GLT_HEADER_BYTES), "container");
  if (env.formatVersion !== version) {
    fail("container.formatVersion", `${env.formatVersion} does not match the header's version ${version}`);
  }
  if (env.payload.length === 0) fail("container.payload", "missing (truncated file?)");
  const actual = crc32(env.payload);
  if (actual !== env.crc32) {
    fail(
      "container",
      `checksum mismatch: stored crc32 ${env.crc32.toString(16).padStart(8, "0")}, payload hashes to ` +
        `${actual.toString(16).padStart(8, "0")} (the file is corrupted)`,
    );
  }
  return { version, payload: env.payload };
}

function fixedWidthOf(a: S.IndexArray, where: string): 2 | 4 {
  if (a.encoding === S.IndexEncoding.INDEX_U16) return 2;
  if (a.encoding === S.IndexEncoding.INDEX_U32) return 4;
  if (a.encoding === 0) fail(`${where}.encoding`, "missing index encoding");
  if (a.encoding === S.IndexEncoding.INDEX_DELTA_VARINT) {
    fail(`${where}.encoding`, "INDEX_DELTA_VARINT is only allowed for column indices, never for row pointers");
  }
  return fail(`${where}.encoding`, `unknown index encoding enum value ${a.encoding}`);
}

/**
 * Fixed-width index array of `count` entries. The byte length is checked against the count the
 * rest of the file declares (`countFrom` says which) before anything is allocated.
 */
function unpackIndices(a: S.IndexArray | null, count: number, where: string, countFrom: string): Int32Array {
  if (a === null) fail(where, "missing");
  const w = fixedWidthOf(a, where);
  if (a.data.length !== count * w) {
    fail(where, `holds ${a.data.length} bytes, expected ${count * w} (${count} entries of ${w} bytes; ${countFrom})`);
  }
  const out = new Int32Array(count);
  if (w === 2) {
    if (LITTLE_ENDIAN) {
      const u16 = new Uint16Array(count);
      new Uint8Array(u16.buffer).set(a.data);
      out.set(u16);
    } else {
      const dv = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
      for (let i = 0; i < count; i++) out[i] = dv.getUint16(2 * i, true);
    }
  } else {
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(a.data);
    else {
      const dv = new DataView(a.data.buffer, a.data.byteOffset, a.data.byteLength);
      for (let i = 0; i < count; i++) out[i] = dv.getInt32(4 * i, true);
    }
    for (let i = 0; i < count; i++) {
      if (out[i] < 0) fail(where, `entry ${i} = ${out[i] >>> 0} exceeds the int32 range`);
    }
  }
  return out;
}

/** Column indices stored as per-row delta varints; rowPtr must already be checked. */
function unpackDeltaVarint(data: Uint8Array, rowPtr: Int32Array, rows: number, cols: number, where: string): Int32Array {
  const nnz = rowPtr[rows];
  const n = data.length;
  if (n < nnz || n > 5 * nnz) {
    fail(where, `holds ${n} bytes, impossible for ${nnz} delta varints (1 to 5 bytes each; count from rowPtr[${rows}]: row pointers must end at nnz)`);
  }
  const out = new Int32Array(nnz);
  let pos = 0;
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let k = rowPtr[r], e = rowPtr[r + 1]; k < e; k++) {
      let v = 0;
      let scale = 1;
      let b: number;
      do {
        if (pos >= n) fail(where, `truncated varint at entry ${k} (row ${r})`);
        b = data[pos++];
        if (scale === 0x10000000 && b > 0x0f) fail(where, `varint at entry ${k} (row ${r}) exceeds 32 bits`);
        v += (b & 0x7f) * scale;
        scale *= 0x80;
      } while (b & 0x80);
      const c = prev + 1 + v;
      if (c >= cols) fail(where, `entry ${k} (row ${r}) = ${c} is out of range [0, ${cols})`);
      out[k] = c;
      prev = c;
    }
  }
  if (pos !== n) fail(where, `${n - pos} bytes left over after ${nnz} delta varints`);
  return out;
}

/**
 * A ValueArray of `count` entries in the rows of `layout`, as f32. F16 and INT8_ROW_SCALED only in
 * format version 2. Byte lengths are checked against `count` (and the row count) before anything is
 * allocated; int8 scales must be finite and > 0, and every value finite.
 */
function unpackValues(a: S.ValueArray | null, count: number, layout: RowLayout, where: string, countFrom: string, version: number): Float32Array {
  if (a === null) fail(where, "missing");
  const type = a.type;
  const name = S.ValueTypeName[type];
  if (type === 0) fail(`${where}.type`, "missing value type");
  if (name === undefined) fail(`${where}.type`, `unknown value type enum value ${type}`);
  if (type !== S.ValueType.VALUE_TYPE_F32 && version < 2) {
    fail(`${where}.type`, `${name} values need format version 2 (this file is version ${version})`);
  }
  if (type !== S.ValueType.VALUE_TYPE_INT8_ROW_SCALED && a.rowScales.length !== 0) {
    fail(`${where}.rowScales`, "only allowed with INT8_ROW_SCALED values");
  }
  const data = a.data;
  if (type === S.ValueType.VALUE_TYPE_F32) {
    if (data.length !== count * 4) fail(where, `holds ${data.length} bytes, expected ${count * 4} (${count} f32 entries; ${countFrom})`);
    const out = new Float32Array(count);
    if (LITTLE_ENDIAN) new Uint8Array(out.buffer).set(data);
    else {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < count; i++) out[i] = dv.getFloat32(4 * i, true);
    }
    return out;
  }
  if (type === S.ValueType.VALUE_TYPE_F16) {
    if (data.length !== count * 2) fail(where, `holds ${data.length} bytes, expected ${count * 2} (${count} f16 entries; ${countFrom})`);
    const h = new Uint16Array(count);
    if (LITTLE_ENDIAN) new Uint8Array(h.buffer).set(data);
    else {
      const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      for (let i = 0; i < count; i++) h[i] = dv.getUint16(2 * i, true);
    }
    return decodeF16(h, where);
  }
  // INT8_ROW_SCALED
  if (data.length !== count) fail(where, `holds ${data.length} bytes, expected ${count} (${count} int8 entries; ${countFrom})`);
  const rows = "rowPtr" in layout ? layout.rowPtr.length - 1 : layout.rows;
  if (a.rowScales.length !== rows * 4) {
    fail(`${where}.rowScales`, `holds ${a.rowScales.length} bytes, expected ${rows * 4} (one f32 scale for each of ${rows} rows)`);
  }
  const scales = new Float32Array(rows);
  if (LITTLE_ENDIAN) new Uint8Array(scales.buffer).set(a.rowScales);
  else {
    const dv = new DataView(a.rowScales.buffer, a.rowScales.byteOffset, a.rowScales.byteLength);
    for (let i = 0; i < rows; i++) scales[i] = dv.getFloat32(4 * i, true);
  }
  return dequantizeInt8Rows(new Int8Array(data.buffer, data.byteOffset, data.length), scales, layout, where);
}

function dim(n: number, where: string): number {
  if (n > MAX_DIM) fail(where, `${n} is absurdly large (limit ${MAX_DIM})`);
  return n;
}

function unpackCsr(m: S.CsrMatrix, where: string, rows: number, cols: number, version: number): CsrMatrix {
  const rowPtr = unpackIndices(m.rowPtr, rows + 1, `${where}.rowPtr`, `count = rows + 1`);
  validateRowPtr(`${where}.rowPtr`, rows, rowPtr);
  const nnz = rowPtr[rows];
  const ci = m.colIdx;
  const colIdx =
    ci !== null && ci.encoding === S.IndexEncoding.INDEX_DELTA_VARINT
      ? unpackDeltaVarint(ci.data, rowPtr, rows, cols, `${where}.colIdx`)
      : unpackIndices(ci, nnz, `${where}.colIdx`, `count from rowPtr[${rows}]: row pointers must end at nnz`);
  const values = unpackValues(m.values, nnz, { rowPtr }, `${where}.values`, `count from rowPtr[${rows}]: row pointers must end at nnz`, version);
  return { rows, cols, rowPtr, colIdx, values };
}

const KIND_FROM_WIRE: Record<number, LayerKind> = {
  [S.LayerKind.LAYER_KIND_GCN]: "gcn",
  [S.LayerKind.LAYER_KIND_GIN]: "gin",
  [S.LayerKind.LAYER_KIND_GAT]: "gat",
};
const ACT_FROM_WIRE: Record<number, Activation> = {
  [S.Activation.ACTIVATION_NONE]: "none",
  [S.Activation.ACTIVATION_RELU]: "relu",
  [S.Activation.ACTIVATION_ELU]: "elu",
};

function enumValue<T>(table: Record<number, T>, v: number, where: string, what: string): T {
  if (v === 0) fail(where, `missing ${what}`);
  const x = table[v];
  if (x === undefined) fail(where, `unknown ${what} enum value ${v}`);
  return x;
}

function unpackLayer(m: S.Layer, i: number, version: number): TicketLayer {
  const at = `layers[${i}]`;
  const kind = enumValue(KIND_FROM_WIRE, m.kind, `${at}.kind`, "layer kind");
  const activation = enumValue(ACT_FROM_WIRE, m.activation, `${at}.activation`, "activation");
  if (version < 2) {
    const needs = `needs format version 2 (this file is version ${version})`;
    if (!V1_KINDS.has(m.kind)) fail(`${at}.kind`, `layer kind ${kind} ${needs}`);
    if (!V1_ACTIVATIONS.has(m.activation)) fail(`${at}.activation`, `activation ${activation} ${needs}`);
  }
  const fin = dim(m.inFeatures, `${at}.inFeatures`);
  const fout = dim(m.outFeatures, `${at}.outFeatures`);
  let attention: GatAttention | undefined;
  let cols = fout;
  if (kind === "gat") {
    if (m.attention === null) fail(`${at}.attention`, "missing (a gat layer needs its attention)");
    attention = unpackAttention(m.attention, at, fout, version);
    cols = attention.heads * attention.headFeatures;
  } else if (m.attention !== null) {
    fail(`${at}.attention`, `only gat layers have attention (this layer is ${kind})`);
  }
  const colsName = kind === "gat" ? "heads·headFeatures" : "outFeatures";
  let weight: WeightMatrix;
  const wm = m.weightCsr ?? m.weightDense;
  if (wm === null) fail(`${at}.weight`, "missing");
  if (wm.rows !== fin || wm.cols !== cols) {
    fail(`${at}.weight`, `is ${wm.rows} x ${wm.cols}, expected inFeatures x ${colsName} = ${fin} x ${cols}`);
  }
  if (m.weightCsr !== null) {
    weight = { format: "csr", ...unpackCsr(m.weightCsr, `${at}.weight`, fin, cols, version) };
  } else {
    const layout = { rows: fin, rowLength: cols };
    const data = unpackValues(m.weightDense!.values, fin * cols, layout, `${at}.weight.values`, `count = inFeatures x ${colsName} = ${fin} x ${cols}`, version);
    weight = { format: "dense", rows: fin, cols, data };
  }
  const bias = m.bias === null ? null : unpackValues(m.bias, fout, { rows: 1, rowLength: fout }, `${at}.bias`, `count = outFeatures = ${fout}`, version);
  const layer: TicketLayer = { kind, inFeatures: fin, outFeatures: fout, weight, bias, activation };
  if (attention !== undefined) layer.attention = attention;
  return layer;
}

/** A gat layer's attention; checks heads, headFeatures and outFeatures before reading any vector. */
function unpackAttention(a: S.GatAttention, layerAt: string, fout: number, version: number): GatAttention {
  const at = `${layerAt}.attention`;
  if (a.heads === 0) fail(`${at}.heads`, "missing (must be >= 1)");
  if (a.headFeatures === 0) fail(`${at}.headFeatures`, "missing (must be >= 1)");
  const heads = dim(a.heads, `${at}.heads`);
  const f = dim(a.headFeatures, `${at}.headFeatures`);
  const width = heads * f;
  if (width > MAX_DIM) fail(at, `heads x headFeatures = ${heads} x ${f} is absurdly large (limit ${MAX_DIM})`);
  const expected = a.concat ? width : f;
  if (fout !== expected) {
    fail(`${layerAt}.outFeatures`, `${fout} but ${a.concat ? `heads x headFeatures = ${heads} x ${f} (concat)` : "headFeatures (heads averaged)"} = ${expected}`);
  }
  if (!Number.isFinite(a.negativeSlope)) fail(`${at}.negativeSlope`, `${a.negativeSlope} is not a finite number`);
  const layout = { rows: heads, rowLength: f };
  const count = `count = heads x headFeatures = ${heads} x ${f}`;
  return {
    heads,
    headFeatures: f,
    src: unpackValues(a.src, width, layout, `${at}.src`, count, version),
    dst: unpackValues(a.dst, width, layout, `${at}.dst`, count, version),
    negativeSlope: a.negativeSlope,
    concat: a.concat,
  };
}

/** Payload message -> Ticket. Sizes are checked against byte lengths before anything is allocated. */
function messageToTicket(p: S.TicketPayload, version: number): Ticket {
  const g = p.graph;
  if (g === null) fail("graph", "missing");
  const n = dim(g.numNodes, "graph.numNodes");
  const rowPtr = unpackIndices(g.rowPtr, n + 1, "graph.rowPtr", "count = numNodes + 1");
  const nnz = rowPtr[n];
  const nnzFrom = `count from rowPtr[${n}]: row pointers must end at the edge count`;
  let colIdx: Int32Array;
  if (g.colIdx !== null && g.colIdx.encoding === S.IndexEncoding.INDEX_DELTA_VARINT) {
    if (version < 2) fail("graph.colIdx.encoding", `INDEX_DELTA_VARINT for the graph needs format version 2 (this file is version ${version})`);
    validateRowPtr("graph.rowPtr", n, rowPtr);
    colIdx = unpackDeltaVarint(g.colIdx.data, rowPtr, n, n, "graph.colIdx");
  } else colIdx = unpackIndices(g.colIdx, nnz, "graph.colIdx", nnzFrom);
  // int8 coefficients need valid rows; fixed-width ones are checked by validateTicket as before
  if (g.coef !== null && g.coef.type === S.ValueType.VALUE_TYPE_INT8_ROW_SCALED) validateRowPtr("graph.rowPtr", n, rowPtr);
  const coef = unpackValues(g.coef, nnz, { rowPtr }, "graph.coef", nnzFrom, version);

  let features: CsrMatrix | null = null;
  if (p.features !== null) {
    const rows = dim(p.features.rows, "features.rows");
    const cols = dim(p.features.cols, "features.cols");
    if (rows !== n) fail("features.rows", `${rows} but graph.numNodes = ${n} (one feature row per node)`);
    features = unpackCsr(p.features, "features", rows, cols, version);
  }
  if (p.meta === null) fail("meta", "missing");
  const meta = {} as Record<string, unknown>;
  for (const k of Object.keys(META_FIELDS)) meta[k] = (p.meta as unknown as Record<string, unknown>)[k];

  return {
    version: p.ticketVersion,
    numClasses: p.numClasses,
    graph: { numNodes: n, rowPtr, colIdx, coef },
    layers: p.layers.map((l, i) => unpackLayer(l, i, version)),
    features,
    meta: meta as unknown as TicketMeta,
  };
}

/**
 * Decodes payload bytes (no container) of a file of format `version` (default: the newest, which
 * accepts everything) and validates the result.
 */
export function decodePayload(payload: Uint8Array, version: number = GLT_MAX_FORMAT_VERSION): Ticket {
  const t = messageToTicket(S.decodeTicketPayload(payload, "payload"), version);
  validateTicket(t);
  return t;
}

/**
 * Decodes a .glt file. Returns a Ticket that passed validateTicket, or throws TicketFormatError
 * saying what is wrong and where; the result shares no memory with `bytes`.
 */
export function decodeTicket(bytes: Uint8Array): Ticket {
  try {
    const { version, payload } = openContainerVersioned(bytes);
    return decodePayload(payload, version);
  } catch (e) {
    if (e instanceof TicketFormatError) throw e;
    // Not expected: every check above throws TicketFormatError. Kept so callers see one error type.
    const err = e instanceof Error ? e : new Error(String(e));
    throw new TicketFormatError("", `unexpected ${err.name} while decoding: ${err.message}`, { cause: e });
  }
}

