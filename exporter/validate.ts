import { TICKET_FORMAT_VERSION, type Ticket, type TicketMeta } from "../ticket/ticket.js";
import { TicketFormatError } from "./errors.js";

/** Largest row/column count a Ticket may declare: indices live in Int32Array, and rows + 1 must fit. */
export const MAX_DIM = 0x7ffffffe;

/** Every TicketMeta field and its type (the compiler checks the list is complete). */
export const META_FIELDS: { readonly [K in keyof TicketMeta]: TicketMeta[K] extends string ? "string" : "number" } = {
  dataset: "string",
  model: "string",
  method: "string",
  seed: "number",
  graphSparsity: "number",
  weightSparsity: "number",
  edgesDense: "number",
  weightsDense: "number",
  macsDense: "number",
  macsTicket: "number",
  valAccuracy: "number",
  testAccuracy: "number",
  denseTestAccuracy: "number",
  trainingSeconds: "number",
  createdAt: "string",
};

const LAYER_KINDS: readonly string[] = ["gcn", "gin", "gat"];
const ACTIVATIONS: readonly string[] = ["relu", "elu", "none"];

function fail(where: string, problem: string): never {
  throw new TicketFormatError(where, problem);
}

function checkDim(where: string, n: unknown, min: number): number {
  if (typeof n !== "number" || !Number.isInteger(n) || n < min || n > MAX_DIM) {
    fail(where, `${String(n)} is not an integer in [${min}, ${MAX_DIM}]`);
  }
  return n;
}

function checkFinite(where: string, a: unknown, length: number): void {
  if (!(a instanceof Float32Array)) fail(where, "must be a Float32Array");
  if (a.length !== length) fail(where, `has ${a.length} entries, expected ${length}`);
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    if (v - v !== 0) fail(where, `entry ${i} is ${v} (values must be finite)`);
  }
}

/** rowPtr has rows + 1 entries, starts at 0 and never decreases. */
export function validateRowPtr(where: string, rows: number, rowPtr: unknown): asserts rowPtr is Int32Array {
  if (!(rowPtr instanceof Int32Array)) fail(where, "must be an Int32Array");
  if (rowPtr.length !== rows + 1) fail(where, `has ${rowPtr.length} entries, expected rows + 1 = ${rows + 1}`);
  if (rowPtr[0] !== 0) fail(where, `starts at ${rowPtr[0]}, expected 0`);
  for (let r = 0; r < rows; r++) {
    if (rowPtr[r + 1] < rowPtr[r]) fail(where, `decreases at row ${r} (${rowPtr[r]} then ${rowPtr[r + 1]}); must be non-decreasing`);
  }
}

export interface CsrNames {
  rowPtr?: string;
  colIdx?: string;
  values?: string;
}

/**
 * Checks a CSR structure: rowPtr has rows + 1 entries, starts at 0, never decreases and ends at
 * nnz = colIdx.length = values.length; every column index is in [0, cols), strictly ascending
 * within its row when `sorted`; every value finite.
 */
export function validateCsr(
  where: string,
  rows: number,
  cols: number,
  rowPtr: unknown,
  colIdx: unknown,
  values: unknown,
  sorted: boolean,
  names: CsrNames = {},
): void {
  const rp = `${where}.${names.rowPtr ?? "rowPtr"}`;
  const ci = `${where}.${names.colIdx ?? "colIdx"}`;
  const va = `${where}.${names.values ?? "values"}`;
  validateRowPtr(rp, rows, rowPtr);
  if (!(colIdx instanceof Int32Array)) fail(ci, "must be an Int32Array");
  const nnz = rowPtr[rows];
  if (colIdx.length !== nnz) fail(rp, `ends at ${nnz} but ${names.colIdx ?? "colIdx"} has ${colIdx.length} entries (must end at nnz)`);
  for (let r = 0; r < rows; r++) {
    let prev = -1;
    for (let k = rowPtr[r], e = rowPtr[r + 1]; k < e; k++) {
      const c = colIdx[k];
      if (c < 0 || c >= cols) fail(ci, `entry ${k} (row ${r}) = ${c} is out of range [0, ${cols})`);
      if (sorted && c <= prev) fail(ci, `row ${r} is not strictly ascending at entry ${k} (${prev} then ${c})`);
      prev = c;
    }
  }
  checkFinite(va, values, nnz);
}

/**
 * Checks a gat layer's attention against its outFeatures; returns the weight's column count,
 * heads · headFeatures.
 */
function gatWeightCols(l: Ticket["layers"][number], at: string, fout: number): number {
  const a = l.attention;
  if (typeof a !== "object" || a === null) fail(`${at}.attention`, "missing (a gat layer needs heads, headFeatures, src, dst, negativeSlope and concat)");
  const heads = checkDim(`${at}.attention.heads`, a.heads, 1);
  const f = checkDim(`${at}.attention.headFeatures`, a.headFeatures, 1);
  const width = heads * f;
  if (width > MAX_DIM) fail(`${at}.attention`, `heads x headFeatures = ${heads} x ${f} is absurdly large (limit ${MAX_DIM})`);
  if (typeof a.concat !== "boolean") fail(`${at}.attention.concat`, "must be a boolean");
  if (typeof a.negativeSlope !== "number" || !Number.isFinite(a.negativeSlope)) {
    fail(`${at}.attention.negativeSlope`, `${String(a.negativeSlope)} is not a finite number`);
  }
  const expected = a.concat ? width : f;
  if (fout !== expected) {
    const rule = a.concat ? `heads x headFeatures = ${heads} x ${f} (concat)` : `headFeatures (heads averaged)`;
    fail(`${at}.outFeatures`, `${fout} but ${rule} = ${expected}`);
  }
  checkFinite(`${at}.attention.src`, a.src, width);
  checkFinite(`${at}.attention.dst`, a.dst, width);
  return width;
}

/**
 * Throws TicketFormatError (saying what and where) unless `t` is a consistent Ticket: the same
 * checks the decoder applies to every file, and the encoder to every ticket it writes.
 */
export function validateTicket(t: Ticket): void {
  if (typeof t !== "object" || t === null) fail("", "ticket must be an object");
  if (t.version !== TICKET_FORMAT_VERSION) fail("version", `${t.version} is not supported (expected ${TICKET_FORMAT_VERSION})`);
  checkDim("numClasses", t.numClasses, 1);

  const g = t.graph;
  if (typeof g !== "object" || g === null) fail("graph", "missing");
  const n = checkDim("graph.numNodes", g.numNodes, 0);
  validateCsr("graph", n, n, g.rowPtr, g.colIdx, g.coef, false, { values: "coef" });

  const f = t.features;
  if (f !== null) {
    if (typeof f !== "object") fail("features", "must be a CsrMatrix or null");
    checkDim("features.rows", f.rows, 0);
    checkDim("features.cols", f.cols, 1);
    if (f.rows !== n) fail("features.rows", `${f.rows} but graph.numNodes = ${n} (one feature row per node)`);
    validateCsr("features", f.rows, f.cols, f.rowPtr, f.colIdx, f.values, true);
  }

  if (!Array.isArray(t.layers) || t.layers.length === 0) fail("layers", "a ticket needs at least one layer");
  t.layers.forEach((l, i) => {
    const at = `layers[${i}]`;
    if (typeof l !== "object" || l === null) fail(at, "must be an object");
    if (!LAYER_KINDS.includes(l.kind)) fail(`${at}.kind`, `unknown layer kind ${JSON.stringify(l.kind)}`);
    if (!ACTIVATIONS.includes(l.activation)) fail(`${at}.activation`, `unknown activation ${JSON.stringify(l.activation)}`);
    if (l.kind === "gat" ? t.layers[0].kind !== "gat" : t.layers[0].kind === "gat") {
      fail(`${at}.kind`, `${JSON.stringify(l.kind)} but layers[0].kind is ${JSON.stringify(t.layers[0].kind)} (a ticket's layers are all gcn/gin or all gat: they share one graph, whose coefficients mean different things)`);
    }
    const fin = checkDim(`${at}.inFeatures`, l.inFeatures, 1);
    const fout = checkDim(`${at}.outFeatures`, l.outFeatures, 1);
    const wcols = l.kind === "gat" ? gatWeightCols(l, at, fout) : fout;
    if (l.kind !== "gat" && l.attention !== undefined) fail(`${at}.attention`, `only gat layers have attention (this layer is ${l.kind})`);
    if (i === 0 && f !== null && fin !== f.cols) {
      fail(`${at}.inFeatures`, `${fin} but features.cols = ${f.cols} (shapes do not chain)`);
    }
    if (i > 0 && fin !== t.layers[i - 1].outFeatures) {
      fail(`${at}.inFeatures`, `${fin} but layers[${i - 1}].outFeatures = ${t.layers[i - 1].outFeatures} (shapes do not chain)`);
    }
    const w = l.weight;
    if (typeof w !== "object" || w === null) fail(`${at}.weight`, "missing");
    if (w.rows !== fin || w.cols !== wcols) {
      const expected = l.kind === "gat" ? "inFeatures x heads·headFeatures" : "inFeatures x outFeatures";
      fail(`${at}.weight`, `is ${w.rows} x ${w.cols}, expected ${expected} = ${fin} x ${wcols}`);
    }
    if (w.format === "dense") checkFinite(`${at}.weight.data`, w.data, fin * wcols);
    else if (w.format === "csr") validateCsr(`${at}.weight`, fin, wcols, w.rowPtr, w.colIdx, w.values, true);
    else fail(`${at}.weight.format`, `unknown weight format ${JSON.stringify((w as { format: unknown }).format)}`);
    if (l.bias !== null) checkFinite(`${at}.bias`, l.bias, fout);
  });
  if (t.layers[0].kind === "gat") {
    for (let v = 0; v < n; v++) {
      for (let k = g.rowPtr[v]; k < g.rowPtr[v + 1]; k++) {
        if (!(g.coef[k] >= 0)) fail("graph.coef", `entry ${k} (row ${v}) is ${g.coef[k]}; a GAT ticket's coefficients are edge-mask values and must be >= 0`);
      }
    }
  }
  const last = t.layers[t.layers.length - 1];
  if (t.numClasses !== last.outFeatures) {
    fail("numClasses", `${t.numClasses} but the last layer (layers[${t.layers.length - 1}]) has outFeatures = ${last.outFeatures}`);
  }

  const m = t.meta;
  if (typeof m !== "object" || m === null) fail("meta", "missing");
  for (const [k, ty] of Object.entries(META_FIELDS)) {
    if (typeof (m as unknown as Record<string, unknown>)[k] !== ty) fail(`meta.${k}`, `must be a ${ty}`);
  }
}
