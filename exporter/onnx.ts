/**
 * A GCN, GIN or GAT Ticket as an ONNX model (opset 17 or 18, IR version 8) that ONNX Runtime loads
 * and runs.
 *
 *   input  x       float32 [nodes, features]   (dense node features)
 *   output logits  float32 [nodes, classes]
 *
 * A GCN or GIN layer computes act(Â · (H · W) + b), the Ticket's definition, with the message
 * passing Â · Y run on the narrower side: Â · (H · W) when out ≤ in (1433 → 512, 512 → 7 on Cora),
 * else (Â · H) · W. Â is the pruned graph with its baked coefficients (self-loops included).
 *
 * A GAT layer (ticket/ticket.ts) is written in the "gather" form only, its buckets counting the
 * edges with coefficient > 0 (an edge of coefficient 0 has no weight in the softmax and is left
 * out): Z = H · W; el, er = Z times block-diagonal matrices of the attention vectors; per bucket,
 * Gather the K source rows of Z and el and the destination's er, LeakyReLU, + log(coef) (−∞ on
 * padded slots), Softmax over the K axis, the α-weighted sum of the source rows. Nodes without a
 * kept in-edge take a zero row; averaged heads are one MatMul; then + b and the activation.
 *
 * How Â · Y is written ("message passing"; measured on a Cora-size dense GCN in README.md
 * "ONNX export"):
 *
 * - "gather" (the default for a baked-in graph): nodes are grouped by in-degree into buckets of
 *   padded width K = 1, 2, 4, 8, … (a node with d in-edges goes to the smallest K ≥ d; padded slots
 *   point at an appended zero row and have coefficient 0, so at most 2× the edges are gathered).
 *   Per bucket: Gather(Y, src [rows, K]) → [rows, K, f], then MatMul(coef [rows, 1, K], that) →
 *   [rows, 1, f]; the buckets are concatenated and put back in node order by one Gather. Every
 *   node's sum is computed by one thread in a fixed order, so no update can be lost whatever the
 *   thread count (the logits were bitwise the same at 1 and 2 threads), and it is as fast as
 *   ScatterND (27 vs 29 ms at 1 thread, 15 vs 15 ms at 2, Cora).
 * - "scatter-elements" (the default with `graphAsInput`, where the buckets cannot be baked in):
 *   Gather(Y, src) → Mul(coef) → ScatterElements(base, Expand(dst), axis 0, reduction "add").
 *   Exact at any thread count and any edge order, but ORT's ScatterElements updates one element
 *   at a time: ~10× slower than the others at Cora size.
 * - "scatter-nd": Gather(Y, src) → Mul(coef) → ScatterND(base, dst, reduction "add"). Fast, but
 *   ONNX Runtime 1.30's ScatterND with reduction "add" loses updates when the session has more
 *   than one intra-op thread (upstream issues microsoft/onnxruntime#18048, #23396); ORT's default
 *   is one thread per physical core it detects, so on most machines such a model is silently
 *   wrong under default session options. Only for users who pin intraOpNumThreads to 1;
 *   verifyOnnx does so for such models.
 *
 * Weights are initializers: dense by default; with `sparseInitializers` a weight matrix whose
 * sparse form is smaller (density < 1/3) is stored as a SparseTensorProto with int64 linearised
 * indices (the index type the ONNX checker requires). ONNX Runtime densifies sparse initializers
 * when it loads the model: they shrink the file, not the work.
 *
 * With `graphAsInput` the edge list is not baked in: the model takes three more inputs,
 * edge_src int64 [edges], edge_dst int64 [edges] and edge_coef float32 [edges] (edge k adds
 * edge_coef[k] · Y[edge_src[k]] to row edge_dst[k]; any order, duplicates allowed), and the node
 * count is symbolic too, so one model serves any graph with these feature and class sizes.
 * `onnxGraphInputs(ticket)` gives a ticket's own edge list in that form.
 *
 * Like protobuf.ts, this module needs only protobufjs/minimal (no fs, no onnxruntime).
 */
import type { CsrMatrix } from "../ticket/csr.js";
import type { GatAttention, Ticket, WeightMatrix } from "../ticket/ticket.js";
import * as O from "./generated/onnx-schema.js";
import { validateTicket } from "./validate.js";

export { OnnxFormatError, decodeModelProto } from "./generated/onnx-schema.js";

/** ONNX IR version written: 8 (ONNX 1.12/1.13, the IR of opsets 17 and 18; ORT ≥ 1.14 reads it). */
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = "x";
export const ONNX_OUTPUT = "logits";
/** Names of the graph inputs a `graphAsInput` model takes besides `x`. */
export const ONNX_GRAPH_INPUTS = { src: "edge_src", dst: "edge_dst", coef: "edge_coef" } as const;

export type MessagePassing = "gather" | "scatter-elements" | "scatter-nd";
export const MESSAGE_PASSING: readonly MessagePassing[] = ["gather", "scatter-elements", "scatter-nd"];

export interface OnnxExportOptions {
  /** src/dst/coef as model inputs instead of initializers (default false). */
  graphAsInput?: boolean;
  /** pruned weight matrices as SparseTensorProto initializers when that is smaller (default false). */
  sparseInitializers?: boolean;
  /** ONNX opset of the default domain (default 18). */
  opset?: 17 | 18;
  /**
   * How Â · Y is written (see the module comment). Default "gather", or "scatter-elements" with
   * `graphAsInput` ("gather" needs the graph baked in).
   */
  messagePassing?: MessagePassing;
  /** model doc_string (default: a one-line description of the ticket). */
  docString?: string;
}

const DT = O.TensorProto_DataType;
const AT = O.AttributeProto_AttributeType;
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function le(a: Float32Array | Int32Array | BigInt64Array): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(a.buffer, a.byteOffset, a.byteLength).slice();
  const out = new Uint8Array(a.length * a.BYTES_PER_ELEMENT);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < a.length; i++) {
    if (a instanceof Float32Array) dv.setFloat32(4 * i, a[i], true);
    else if (a instanceof Int32Array) dv.setInt32(4 * i, a[i], true);
    else dv.setBigInt64(8 * i, a[i], true);
  }
  return out;
}

function tensor(name: string, dims: number[], a: Float32Array | Int32Array | BigInt64Array): O.TensorProto {
  const dataType = a instanceof Float32Array ? DT.FLOAT : a instanceof Int32Array ? DT.INT32 : DT.INT64;
  return O.createTensorProto({ name, dims, dataType, rawData: le(a) });
}

function int64s(values: ArrayLike<number>): BigInt64Array {
  return BigInt64Array.from(values as ArrayLike<number>, (v) => BigInt(v));
}

/** An attribute value: a number is an INT attribute, `{ float }` a FLOAT one. */
type Attr = number | string | number[] | { float: number };

function node(opType: string, inputs: string[], outputs: string[], attrs: Record<string, Attr> = {}): O.NodeProto {
  const attribute: O.AttributeProto[] = [];
  for (const [name, v] of Object.entries(attrs)) {
    if (typeof v === "number") attribute.push(O.createAttributeProto({ name, type: AT.INT, i: v }));
    else if (typeof v === "object" && !Array.isArray(v)) attribute.push(O.createAttributeProto({ name, type: AT.FLOAT, f: v.float }));
    else if (typeof v === "string") attribute.push(O.createAttributeProto({ name, type: AT.STRING, s: new TextEncoder().encode(v) }));
    else attribute.push(O.createAttributeProto({ name, type: AT.INTS, ints: v }));
  }
  return O.createNodeProto({ opType, input: inputs, output: outputs, name: outputs[0], attribute });
}

function valueInfo(name: string, elemType: number, dims: (number | string)[]): O.ValueInfoProto {
  const dim = dims.map((d) => (typeof d === "number" ? O.createTensorShapeProto_Dimension({ dimValue: d }) : O.createTensorShapeProto_Dimension({ dimParam: d })));
  return O.createValueInfoProto({
    name,
    type: O.createTypeProto({ tensorType: O.createTypeProto_Tensor({ elemType, shape: O.createTensorShapeProto({ dim }) }) }),
  });
}

/** Destination node of each edge (the CSR row it sits in). */
function edgeDestinations(rowPtr: Int32Array, numNodes: number): Int32Array {
  const dst = new Int32Array(rowPtr[numNodes]);
  for (let v = 0; v < numNodes; v++) dst.fill(v, rowPtr[v], rowPtr[v + 1]);
  return dst;
}

/** The ticket's edge list as the extra inputs of a `graphAsInput` model. */
export function onnxGraphInputs(ticket: Ticket): { edge_src: BigInt64Array; edge_dst: BigInt64Array; edge_coef: Float32Array } {
  const g = ticket.graph;
  const e = g.rowPtr[g.numNodes];
  return {
    edge_src: int64s(g.colIdx.subarray(0, e)),
    edge_dst: int64s(edgeDestinations(g.rowPtr, g.numNodes)),
    edge_coef: g.coef.slice(0, e),
  };
}

/** The degree buckets of the "gather" form. */
interface Bucket {
  k: number; // padded width
  src: Int32Array; // rows × k, padded with numNodes (the appended zero row)
  coef: Float32Array; // rows × k, padded with 0
  rows: number;
}

function degreeBuckets(g: Ticket["graph"]): { buckets: Bucket[]; order: Int32Array | null; padded: boolean } {
  const n = g.numNodes;
  const members = new Map<number, number[]>();
  let padded = false;
  for (let v = 0; v < n; v++) {
    const d = g.rowPtr[v + 1] - g.rowPtr[v];
    let k = 1;
    while (k < d) k *= 2;
    if (k !== d) padded = true;
    (members.get(k) ?? members.set(k, []).get(k)!).push(v);
  }
  const order = new Int32Array(n); // order[v] = row of node v in the concatenated bucket outputs
  const buckets: Bucket[] = [];
  let row = 0;
  for (const k of [...members.keys()].sort((a, b) => a - b)) {
    const vs = members.get(k)!;
    const src = new Int32Array(vs.length * k).fill(n);
    const coef = new Float32Array(vs.length * k);
    vs.forEach((v, i) => {
      order[v] = row++;
      for (let e = g.rowPtr[v], j = i * k; e < g.rowPtr[v + 1]; e++, j++) {
        src[j] = g.colIdx[e];
        coef[j] = g.coef[e];
      }
    });
    buckets.push({ k, src, coef, rows: vs.length });
  }
  const identity = order.every((r, v) => r === v);
  return { buckets, order: identity ? null : order, padded };
}

/** The GAT form's degree buckets: nodes grouped by their count of kept in-edges (coefficient > 0). */
interface GatBucket {
  k: number; // padded width
  rows: number;
  src: Int32Array; // rows × k, padded with numNodes (the appended zero row)
  dst: Int32Array; // rows × 1: the bucket's nodes
  logCoef: Float32Array; // rows × k × 1: log(coef), padded with −∞ (weight 0 in the softmax)
}

function gatBuckets(g: Ticket["graph"]): { buckets: GatBucket[]; order: Int32Array | null; padded: boolean; noInEdges: boolean } {
  const n = g.numNodes;
  const members = new Map<number, number[]>();
  let padded = false;
  const kept = new Int32Array(n);
  for (let v = 0; v < n; v++) {
    for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) if (g.coef[e] !== 0) kept[v]++;
    if (kept[v] === 0) continue;
    let k = 1;
    while (k < kept[v]) k *= 2;
    if (k !== kept[v]) padded = true;
    (members.get(k) ?? members.set(k, []).get(k)!).push(v);
  }
  const buckets: GatBucket[] = [];
  const order = new Int32Array(n).fill(-1); // order[v] = row of node v in the concatenated bucket outputs
  let row = 0;
  for (const k of [...members.keys()].sort((a, b) => a - b)) {
    const vs = members.get(k)!;
    const src = new Int32Array(vs.length * k).fill(n);
    const logCoef = new Float32Array(vs.length * k).fill(-Infinity);
    vs.forEach((v, i) => {
      order[v] = row++;
      let j = i * k;
      for (let e = g.rowPtr[v]; e < g.rowPtr[v + 1]; e++) {
        if (g.coef[e] === 0) continue;
        src[j] = g.colIdx[e];
        logCoef[j++] = Math.log(g.coef[e]);
      }
    });
    buckets.push({ k, rows: vs.length, src, dst: Int32Array.from(vs), logCoef });
  }
  const noInEdges = row < n;
  for (let v = 0; v < n; v++) if (order[v] < 0) order[v] = row; // the zero row after the buckets
  const identity = order.every((r, v) => r === v);
  return { buckets, order: identity ? null : order, padded, noInEdges };
}

/**
 * Encodes a GCN, GIN or GAT ticket as an ONNX model (ModelProto bytes). The ticket is validated
 * first (a TicketFormatError names what is wrong). See the module comment for the graph's form; a
 * GAT ticket needs the "gather" form (a RangeError otherwise).
 */
export function ticketToOnnx(ticket: Ticket, opts: OnnxExportOptions = {}): Uint8Array {
  validateTicket(ticket);
  const opset = opts.opset ?? 18;
  if (opset !== 17 && opset !== 18) throw new RangeError(`opset must be 17 or 18, got ${String(opset)}`);
  const graphAsInput = opts.graphAsInput === true;
  const mp = opts.messagePassing ?? (graphAsInput ? "scatter-elements" : "gather");
  if (!MESSAGE_PASSING.includes(mp)) throw new RangeError(`messagePassing must be one of ${MESSAGE_PASSING.join(", ")}; got ${String(mp)}`);
  if (mp === "gather" && graphAsInput) throw new RangeError(`messagePassing "gather" bakes the graph in; with graphAsInput use "scatter-elements" or "scatter-nd"`);
  if (ticket.layers.length === 0) throw new RangeError("the ticket has no layers");
  const isGat = ticket.layers[0].kind === "gat"; // validated: then every layer is
  if (isGat && graphAsInput) throw new RangeError("a GAT ticket cannot be exported with graphAsInput: its attention softmax is written per degree bucket, which needs the graph baked in");
  if (isGat && mp !== "gather") throw new RangeError(`a GAT ticket exports with messagePassing "gather" only, not "${mp}"`);
  const g = ticket.graph;
  const numEdges = g.rowPtr[g.numNodes];
  const nodesDim: number | string = graphAsInput ? "nodes" : g.numNodes;

  const nodes: O.NodeProto[] = [];
  const initializer: O.TensorProto[] = [];
  const sparseInitializer: O.SparseTensorProto[] = [];
  const input: O.ValueInfoProto[] = [valueInfo(ONNX_INPUT, DT.FLOAT, [nodesDim, ticket.layers[0].inFeatures])];
  const constant = (name: string, dims: number[], a: Float32Array | Int32Array | BigInt64Array): string => {
    if (!initializer.some((t) => t.name === name)) initializer.push(tensor(name, dims, a));
    return name;
  };

  // ---- the graph, shared by all layers ----
  const hasEdges = graphAsInput || numEdges > 0;
  const SRC = "edge_src"; // [E]; int32 when baked (half the bytes), int64 as an input
  const DST = "edge_dst_col"; // [E, 1]; ScatterND's indices must be int64
  const COEF = "edge_coef_col"; // [E, 1]
  let gather: ReturnType<typeof degreeBuckets> | null = null;
  let gatGather: ReturnType<typeof gatBuckets> | null = null;
  if (isGat) {
    gatGather = gatBuckets(g);
    for (const b of gatGather.buckets) {
      constant(`graph_k${b.k}_src`, [b.rows, b.k], b.src);
      constant(`graph_k${b.k}_dst`, [b.rows, 1], b.dst);
      constant(`graph_k${b.k}_log_coef`, [b.rows, b.k, 1], b.logCoef);
    }
    if (gatGather.order) constant("graph_order", [g.numNodes], gatGather.order);
  } else if (graphAsInput) {
    input.push(valueInfo(ONNX_GRAPH_INPUTS.src, DT.INT64, ["edges"])); // used as SRC directly
    input.push(valueInfo(ONNX_GRAPH_INPUTS.dst, DT.INT64, ["edges"]));
    input.push(valueInfo(ONNX_GRAPH_INPUTS.coef, DT.FLOAT, ["edges"]));
    nodes.push(node("Unsqueeze", [ONNX_GRAPH_INPUTS.dst, constant("axes_1", [1], int64s([1]))], [DST]));
    nodes.push(node("Unsqueeze", [ONNX_GRAPH_INPUTS.coef, "axes_1"], [COEF]));
  } else if (numEdges > 0 && mp === "gather") {
    gather = degreeBuckets(g);
    for (const b of gather.buckets) {
      constant(`graph_k${b.k}_src`, [b.rows, b.k], b.src);
      constant(`graph_k${b.k}_coef`, [b.rows, 1, b.k], b.coef);
    }
    if (gather.order) constant("graph_order", [g.numNodes], gather.order);
  } else if (numEdges > 0) {
    const dst = edgeDestinations(g.rowPtr, g.numNodes);
    constant(SRC, [numEdges], g.colIdx.slice(0, numEdges));
    constant(DST, [numEdges, 1], mp === "scatter-nd" ? int64s(dst) : dst);
    constant(COEF, [numEdges, 1], g.coef.slice(0, numEdges));
  }

  /** `out` = Â · y (+ bias), y [N, f]. */
  const aggregate = (p: string, y: string, f: number, bias: string | null, out: string): void => {
    if (!hasEdges) {
      // no edges: Â · y = 0
      nodes.push(node("Shape", [y], [`${p}_shape`]));
      if (bias) nodes.push(node("Expand", [bias, `${p}_shape`], [out]));
      else nodes.push(node("ConstantOfShape", [`${p}_shape`], [out]));
      return;
    }
    if (gather) {
      let table = y;
      if (gather.padded) {
        table = `${p}_padded`;
        nodes.push(node("Concat", [y, constant(`zero_row_${f}`, [1, f], new Float32Array(f))], [table], { axis: 0 }));
      }
      // the last step writes `out`
      const multi = gather.buckets.length > 1;
      const aggName = bias ? `${p}_aggregated` : out;
      const concatName = gather.order ? `${p}_buckets` : aggName;
      const parts: string[] = [];
      for (const b of gather.buckets) {
        const q = `${p}_k${b.k}`;
        const rows = multi ? `${q}_rows` : concatName;
        nodes.push(node("Gather", [table, `graph_k${b.k}_src`], [`${q}_gathered`], { axis: 0 })); // [rows, k, f]
        nodes.push(node("MatMul", [`graph_k${b.k}_coef`, `${q}_gathered`], [`${q}_summed`])); // [rows, 1, f]
        nodes.push(node("Squeeze", [`${q}_summed`, constant("axes_1", [1], int64s([1]))], [rows])); // [rows, f]
        parts.push(rows);
      }
      if (multi) nodes.push(node("Concat", parts, [concatName], { axis: 0 }));
      if (gather.order) nodes.push(node("Gather", [concatName, "graph_order"], [aggName], { axis: 0 }));
      if (bias) nodes.push(node("Add", [aggName, bias], [out]));
      return;
    }
    // scatter forms: base = bias broadcast to [N, f] (or zeros), then the messages are added in
    nodes.push(node("Shape", [y], [`${p}_shape`]));
    nodes.push(bias ? node("Expand", [bias, `${p}_shape`], [`${p}_base`]) : node("ConstantOfShape", [`${p}_shape`], [`${p}_base`]));
    nodes.push(node("Gather", [y, SRC], [`${p}_gathered`], { axis: 0 }));
    nodes.push(node("Mul", [`${p}_gathered`, COEF], [`${p}_messages`]));
    if (mp === "scatter-nd") {
      nodes.push(node("ScatterND", [`${p}_base`, DST, `${p}_messages`], [out], { reduction: "add" }));
    } else {
      nodes.push(node("Shape", [`${p}_messages`], [`${p}_messages_shape`]));
      nodes.push(node("Expand", [DST, `${p}_messages_shape`], [`${p}_dst`]));
      nodes.push(node("ScatterElements", [`${p}_base`, `${p}_dst`, `${p}_messages`], [out], { axis: 0, reduction: "add" }));
    }
  };

  /**
   * `out` = the GAT aggregation of z [N, heads·F] (ticket/ticket.ts), heads concatenated or
   * averaged, + bias. Per bucket of in-degree ≤ K: the K source rows of z and el, er of the
   * destination, LeakyReLU, + log(coef) (−∞ on padded slots), Softmax over the K axis, the
   * α-weighted sum of the source rows. Nodes without kept in-edges take the zero row.
   */
  const gatAggregate = (p: string, z: string, att: GatAttention, bias: string | null, out: string): void => {
    const gg = gatGather!;
    const heads = att.heads;
    const f = att.headFeatures;
    const width = heads * f;
    // el = z · Asrc, er = z · Adst: block-diagonal [heads·F, heads], column k holding head k's vector
    const blocks = (a: Float32Array): Float32Array => {
      const m = new Float32Array(width * heads);
      for (let k = 0; k < heads; k++) for (let c = 0; c < f; c++) m[(k * f + c) * heads + k] = a[k * f + c];
      return m;
    };
    nodes.push(node("MatMul", [z, constant(`${p}_att_src`, [width, heads], blocks(att.src))], [`${p}_el`])); // [N, heads]
    nodes.push(node("MatMul", [z, constant(`${p}_att_dst`, [width, heads], blocks(att.dst))], [`${p}_er`]));
    let zTable = z;
    let elTable = `${p}_el`;
    if (gg.padded) {
      zTable = `${p}_z_padded`;
      elTable = `${p}_el_padded`;
      nodes.push(node("Concat", [z, constant(`zero_row_${width}`, [1, width], new Float32Array(width))], [zTable], { axis: 0 }));
      nodes.push(node("Concat", [`${p}_el`, constant(`zero_row_${heads}`, [1, heads], new Float32Array(heads))], [elTable], { axis: 0 }));
    }
    const parts: string[] = [];
    for (const b of gg.buckets) {
      const q = `${p}_k${b.k}`;
      const src = `graph_k${b.k}_src`;
      nodes.push(node("Gather", [elTable, src], [`${q}_el`], { axis: 0 })); // [rows, K, heads]
      nodes.push(node("Gather", [`${p}_er`, `graph_k${b.k}_dst`], [`${q}_er`], { axis: 0 })); // [rows, 1, heads]
      nodes.push(node("Add", [`${q}_el`, `${q}_er`], [`${q}_score`]));
      nodes.push(node("LeakyRelu", [`${q}_score`], [`${q}_leaky`], { alpha: { float: att.negativeSlope } }));
      nodes.push(node("Add", [`${q}_leaky`, `graph_k${b.k}_log_coef`], [`${q}_logits`]));
      nodes.push(node("Softmax", [`${q}_logits`], [`${q}_alpha`], { axis: 1 }));
      nodes.push(node("Unsqueeze", [`${q}_alpha`, constant("axes_3", [1], int64s([3]))], [`${q}_alpha4`])); // [rows, K, heads, 1]
      nodes.push(node("Gather", [zTable, src], [`${q}_z`], { axis: 0 })); // [rows, K, heads·F]
      nodes.push(node("Reshape", [`${q}_z`, constant(`shape_${b.rows}x${b.k}x${heads}x${f}`, [4], int64s([b.rows, b.k, heads, f]))], [`${q}_z4`]));
      nodes.push(node("Mul", [`${q}_z4`, `${q}_alpha4`], [`${q}_messages`]));
      nodes.push(node("ReduceSum", [`${q}_messages`, constant("axes_1", [1], int64s([1]))], [`${q}_summed`], { keepdims: 0 })); // [rows, heads, F]
      nodes.push(node("Reshape", [`${q}_summed`, constant(`shape_${b.rows}x${width}`, [2], int64s([b.rows, width]))], [`${q}_rows`]));
      parts.push(`${q}_rows`);
    }
    if (gg.noInEdges) parts.push(constant(`zero_row_${width}`, [1, width], new Float32Array(width)));
    let agg = parts[0];
    if (parts.length > 1) nodes.push(node("Concat", parts, [(agg = `${p}_buckets`)], { axis: 0 }));
    if (gg.order) nodes.push(node("Gather", [agg, "graph_order"], [(agg = `${p}_aggregated`)], { axis: 0 }));
    if (!att.concat && heads > 1) {
      const mean = new Float32Array(width * f);
      for (let k = 0; k < heads; k++) for (let c = 0; c < f; c++) mean[(k * f + c) * f + c] = 1 / heads;
      nodes.push(node("MatMul", [agg, constant(`head_mean_${heads}x${f}`, [width, f], mean)], [(agg = `${p}_head_mean`)]));
    }
    nodes.push(bias ? node("Add", [agg, bias], [out]) : node("Identity", [agg], [out]));
  };

  let h = ONNX_INPUT;
  for (const [i, layer] of ticket.layers.entries()) {
    const p = `l${i}`;
    const last = i === ticket.layers.length - 1;
    const w = `${p}_weight`;
    addWeight(w, layer.weight, opts.sparseInitializers === true, initializer, sparseInitializer);
    const bias = layer.bias ? constant(`${p}_bias`, [layer.outFeatures], layer.bias) : null;
    const act = layer.activation === "relu" ? "Relu" : layer.activation === "elu" ? "Elu" : null;
    const out = last ? ONNX_OUTPUT : `${p}_out`;
    const pre = act ? `${p}_pre` : out; // the affine part; act(pre) → out
    if (layer.kind === "gat") {
      nodes.push(node("MatMul", [h, w], [`${p}_z`]));
      gatAggregate(p, `${p}_z`, layer.attention!, bias, pre);
    } else if (layer.outFeatures <= layer.inFeatures || !hasEdges) {
      nodes.push(node("MatMul", [h, w], [`${p}_hw`])); // Â · (H · W) + b
      aggregate(p, `${p}_hw`, layer.outFeatures, bias, pre);
    } else {
      aggregate(p, h, layer.inFeatures, null, `${p}_ah`); // (Â · H) · W + b
      nodes.push(node("MatMul", [`${p}_ah`, w], [bias ? `${p}_ahw` : pre]));
      if (bias) nodes.push(node("Add", [`${p}_ahw`, bias], [pre]));
    }
    if (act) nodes.push(node(act, [pre], [out]));
    h = out;
  }

  const m = ticket.meta;
  const shape = `${ticket.layers.map((l) => l.inFeatures).join("-")}-${ticket.numClasses}`;
  const family = isGat ? "GAT" : ticket.layers.every((l) => l.kind === "gin") ? "GIN" : "GCN";
  const model = O.createModelProto({
    irVersion: ONNX_IR_VERSION,
    opsetImport: [O.createOperatorSetIdProto({ domain: "", version: opset })],
    producerName: "fastglt",
    producerVersion: "0.1.0",
    modelVersion: 1,
    docString: opts.docString ?? `fastglt ${family} ticket ${shape}, ${g.numNodes} nodes, ${numEdges} edges${graphAsInput ? " (the edge list is an input)" : ""}`,
    graph: O.createGraphProto({
      name: `fastglt_${family.toLowerCase()}`,
      node: nodes,
      initializer,
      sparseInitializer,
      input,
      output: [valueInfo(ONNX_OUTPUT, DT.FLOAT, [nodesDim, ticket.numClasses])],
    }),
    metadataProps: [
      ["fastglt.message_passing", mp],
      ["fastglt.graph_as_input", String(graphAsInput)],
      ["fastglt.dataset", m.dataset],
      ["fastglt.method", m.method],
      ["fastglt.seed", String(m.seed)],
      ["fastglt.graph_sparsity", String(m.graphSparsity)],
      ["fastglt.weight_sparsity", String(m.weightSparsity)],
      ["fastglt.test_accuracy", String(m.testAccuracy)],
    ].map(([key, value]) => O.createStringStringEntryProto({ key, value })),
  });
  return O.encodeModelProto(model);
}

/** The weight as a dense row-major in × out array (CSR duplicates summed). */
function denseWeight(w: WeightMatrix): Float32Array {
  if (w.format === "dense") return w.data;
  const m: CsrMatrix = w;
  const out = new Float32Array(m.rows * m.cols);
  for (let r = 0; r < m.rows; r++) for (let k = m.rowPtr[r]; k < m.rowPtr[r + 1]; k++) out[r * m.cols + m.colIdx[k]] += m.values[k];
  return out;
}

/**
 * A weight initializer: dense, or (`sparse`, and when it is smaller: 4 bytes per value + 8 per
 * int64 index against 4 per entry, i.e. below 1/3 density) a SparseTensorProto of the nonzero
 * entries, linearised row-major indices ascending as the ONNX spec requires.
 */
function addWeight(name: string, w: WeightMatrix, sparse: boolean, dense: O.TensorProto[], sparseOut: O.SparseTensorProto[]): void {
  const data = denseWeight(w);
  if (sparse) {
    let nnz = 0;
    for (let i = 0; i < data.length; i++) if (data[i] !== 0) nnz++;
    if (12 * nnz < 4 * data.length) {
      const index = new BigInt64Array(nnz);
      const value = new Float32Array(nnz);
      for (let i = 0, k = 0; i < data.length; i++) {
        if (data[i] !== 0) {
          index[k] = BigInt(i);
          value[k++] = data[i];
        }
      }
      sparseOut.push(
        O.createSparseTensorProto({
          values: tensor(name, [nnz], value),
          indices: tensor(`${name}_indices`, [nnz], index),
          dims: [w.rows, w.cols],
        }),
      );
      return;
    }
  }
  dense.push(tensor(name, [w.rows, w.cols], data));
}

/** What an ONNX model's graph is made of, for tools (verifyOnnx uses `scatterNdAdd`). */
export interface OnnxModelSummary {
  irVersion: number;
  opset: number;
  inputs: string[];
  outputs: string[];
  ops: Record<string, number>;
  initializers: number;
  sparseInitializers: number;
  /** the model has ScatterND with reduction "add" (wrong in ORT 1.30 with more than one thread) */
  scatterNdAdd: boolean;
}

export function summarizeOnnx(bytes: Uint8Array): OnnxModelSummary {
  const m = O.decodeModelProto(bytes);
  const g = m.graph ?? O.createGraphProto();
  const ops: Record<string, number> = {};
  let scatterNdAdd = false;
  for (const n of g.node) {
    const op = n.opType ?? "";
    ops[op] = (ops[op] ?? 0) + 1;
    if (op === "ScatterND") {
      const red = n.attribute.find((a) => a.name === "reduction");
      if (red?.s && new TextDecoder().decode(red.s) !== "none") scatterNdAdd = true;
    }
  }
  const opset = m.opsetImport.find((o) => (o.domain ?? "") === "" || o.domain === "ai.onnx")?.version ?? 0;
  return {
    irVersion: m.irVersion ?? 0,
    opset,
    inputs: g.input.map((v) => v.name ?? ""),
    outputs: g.output.map((v) => v.name ?? ""),
    ops,
    initializers: g.initializer.length,
    sparseInitializers: g.sparseInitializer.length,
    scatterNdAdd,
  };
}
