/**
 * A user's own graph, from a directory or explicit paths:
 *
 * - edges: CSV/TSV/whitespace text, two integer columns (src, dst), an optional header line and
 *   `#` comments. Treated as undirected: symmetrised, self loops and duplicates dropped.
 * - features: CSV/TSV dense rows of numbers (optional header), or a 2-D `.npy`
 *   ('<f4', '<f8', '<i4', '<i8', C order). Stored as CSR when at most half the entries are nonzero,
 *   dense otherwise.
 * - labels: CSV/TSV/text with one integer per line (line i = node i), or `node,label` pairs
 *   (unlisted nodes are unlabelled), or a 1-D integer `.npy`. -1 means "no label".
 * - split (optional): JSON {"train":[...],"val":[...],"test":[...]}; otherwise a seeded
 *   Planetoid-style split (graph.ts seededSplit: 20 per class, 500 val, 1000 test, capped on
 *   small graphs).
 *
 * The node count is the number of feature rows; labels must agree with it. Every problem (an edge
 * to a node that does not exist, a label out of range, a ragged row, NaN, a truncated .npy) is a
 * GraphFormatError naming the file and the line.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, resolve } from "node:path";
import { denseToCsr } from "../../ticket/csr.js";
import { Rng } from "../util/rng.js";
import { canonicalEdges, GraphFormatError, seededSplit, type Features, type Graph } from "./graph.js";
import { readNpyFile } from "./npy.js";
import { parseSplit } from "./planetoid-flat.js";

export interface UserGraphPaths {
  edges: string;
  features: string;
  labels: string;
  split?: string;
}

export interface UserGraphOptions {
  /** seed of the split when there is no split file (default 0) */
  seed?: number;
  /** graph name (default: the directory name, or the edges file's) */
  name?: string;
  /** number of classes; by default max label + 1 */
  numClasses?: number;
}

const CANDIDATES = {
  edges: ["edges.csv", "edges.tsv", "edges.txt"],
  features: ["features.csv", "features.tsv", "features.npy"],
  labels: ["labels.csv", "labels.tsv", "labels.txt", "labels.npy"],
  split: ["split.json"],
} as const;

/** Finds edges/features/labels/split files in `dir`; null when it has no edge list at all. */
export function findUserGraphFiles(dir: string): UserGraphPaths | null {
  const pick = (kind: keyof typeof CANDIDATES, required: boolean): string | undefined => {
    const found = CANDIDATES[kind].filter((f) => existsSync(join(dir, f)));
    if (found.length > 1) throw new GraphFormatError(dir, `holds ${found.join(" and ")}: keep only one ${kind} file`);
    if (found.length === 0) {
      if (required) throw new GraphFormatError(dir, `no ${kind} file (expected one of ${CANDIDATES[kind].join(", ")})`);
      return undefined;
    }
    return join(dir, found[0]);
  };
  if (!CANDIDATES.edges.some((f) => existsSync(join(dir, f)))) return null;
  return { edges: pick("edges", true)!, features: pick("features", true)!, labels: pick("labels", true)!, split: pick("split", false) };
}

// ---------------------------------------------------------------------------------------------
// text tables

interface Row {
  line: number;
  fields: string[];
}

const NUMBER_RE = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT_RE = /^[+-]?\d+$/;
const NONFINITE_RE = /^[+-]?(nan|inf|infinity)$/i;

/**
 * Splits a text table into rows of fields. `#` starts a comment; blank lines are skipped. The
 * delimiter (comma, tab or whitespace) is taken from the first data line. A first line with a
 * field that is not a number (and not NaN/inf) is a header and is skipped.
 */
function readTable(path: string): Row[] {
  if (!existsSync(path)) throw new GraphFormatError(path, "file not found");
  let text = readFileSync(path, "utf8");
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const lines = text.split("\n");
  const rows: Row[] = [];
  let split: ((s: string) => string[]) | null = null;
  for (let i = 0; i < lines.length; i++) {
    let l = lines[i];
    const hash = l.indexOf("#");
    if (hash >= 0) l = l.slice(0, hash);
    l = l.trim();
    if (l === "") continue;
    if (!split) {
      if (l.includes(",")) split = (s) => s.split(",").map((f) => f.trim());
      else if (l.includes("\t")) split = (s) => s.split("\t").map((f) => f.trim());
      else split = (s) => s.split(/\s+/);
      const fields = split(l);
      if (fields.some((f) => !NUMBER_RE.test(f) && !NONFINITE_RE.test(f))) continue; // header
      rows.push({ line: i + 1, fields });
      continue;
    }
    rows.push({ line: i + 1, fields: split(l) });
  }
  return rows;
}

function parseIntField(path: string, row: Row, col: number, what: string): number {
  const f = row.fields[col];
  if (!INT_RE.test(f)) throw new GraphFormatError(path, `line ${row.line}: ${what} '${f}' is not an integer`);
  const v = Number(f);
  if (!Number.isSafeInteger(v)) throw new GraphFormatError(path, `line ${row.line}: ${what} ${f} is too large`);
  return v;
}

// ---------------------------------------------------------------------------------------------
// features

function finishFeatures(rows: number, cols: number, data: Float32Array): Features {
  let nnz = 0;
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) nnz++;
  if (nnz * 2 <= data.length) return { kind: "csr", ...denseToCsr({ rows, cols, data }) };
  return { kind: "dense", rows, cols, data };
}

function readFeaturesCsv(path: string): Features {
  const table = readTable(path);
  if (table.length === 0) throw new GraphFormatError(path, "no feature rows");
  const cols = table[0].fields.length;
  const data = new Float32Array(table.length * cols);
  table.forEach((row, r) => {
    if (row.fields.length !== cols) {
      throw new GraphFormatError(path, `line ${row.line}: ragged row with ${row.fields.length} values, the first row has ${cols}`);
    }
    for (let c = 0; c < cols; c++) {
      const f = row.fields[c];
      if (NONFINITE_RE.test(f)) throw new GraphFormatError(path, `line ${row.line}, column ${c + 1}: ${f} (features must be finite numbers)`);
      if (!NUMBER_RE.test(f)) throw new GraphFormatError(path, `line ${row.line}, column ${c + 1}: '${f}' is not a number`);
      const v = Number(f);
      if (!Number.isFinite(Math.fround(v))) throw new GraphFormatError(path, `line ${row.line}, column ${c + 1}: ${f} overflows float32`);
      data[r * cols + c] = v;
    }
  });
  return finishFeatures(table.length, cols, data);
}

function readFeaturesNpy(path: string): Features {
  const a = readNpyFile(path);
  if (a.shape.length !== 2) throw new GraphFormatError(path, `features must be a 2-D array (nodes x features), got shape (${a.shape.join(", ")})`);
  const [rows, cols] = a.shape;
  const data = new Float32Array(rows * cols);
  for (let i = 0; i < data.length; i++) {
    const x = Number(a.data[i]);
    const f = Math.fround(x);
    if (!Number.isFinite(f)) {
      throw new GraphFormatError(path, `row ${Math.floor(i / cols)}, column ${i % cols}: ${x} (features must be finite float32 numbers)`);
    }
    data[i] = f;
  }
  return finishFeatures(rows, cols, data);
}

// ---------------------------------------------------------------------------------------------
// labels

function checkLabel(path: string, where: string, v: number, numClasses: number | undefined): void {
  if (v < -1) throw new GraphFormatError(path, `${where}: label ${v} is out of range (labels are 0..C-1, or -1 for "no label")`);
  if (numClasses !== undefined && v >= numClasses) throw new GraphFormatError(path, `${where}: label ${v} is out of range 0..${numClasses - 1}`);
}

function readLabels(path: string, numNodes: number, featuresPath: string, numClasses: number | undefined): Int32Array {
  const labels = new Int32Array(numNodes).fill(-1);
  if (extname(path).toLowerCase() === ".npy") {
    const a = readNpyFile(path);
    if (a.shape.length !== 1 && !(a.shape.length === 2 && a.shape[1] === 1)) {
      throw new GraphFormatError(path, `labels must be a 1-D array, got shape (${a.shape.join(", ")})`);
    }
    if (a.dtype !== "<i4" && a.dtype !== "<i8") throw new GraphFormatError(path, `labels must be integers ('<i4' or '<i8'), got '${a.dtype}'`);
    if (a.shape[0] !== numNodes) throw new GraphFormatError(path, `has ${a.shape[0]} labels, but ${featuresPath} has ${numNodes} rows (one label per node)`);
    for (let i = 0; i < numNodes; i++) {
      const v = Number(a.data[i]);
      checkLabel(path, `entry ${i}`, v, numClasses);
      if (v > 2 ** 31 - 1) throw new GraphFormatError(path, `entry ${i}: label ${v} is out of range`);
      labels[i] = v;
    }
    return labels;
  }
  const table = readTable(path);
  if (table.length === 0) throw new GraphFormatError(path, "no labels");
  const width = table[0].fields.length;
  if (width !== 1 && width !== 2) throw new GraphFormatError(path, `line ${table[0].line}: expected one label per line or 'node,label' pairs, found ${width} columns`);
  if (width === 1 && table.length !== numNodes) {
    throw new GraphFormatError(path, `has ${table.length} labels, but ${featuresPath} has ${numNodes} rows (one label per node, in node order)`);
  }
  const seen = new Uint8Array(numNodes);
  table.forEach((row, r) => {
    if (row.fields.length !== width) throw new GraphFormatError(path, `line ${row.line}: ragged row with ${row.fields.length} columns, the first row has ${width}`);
    const node = width === 1 ? r : parseIntField(path, row, 0, "node id");
    const v = parseIntField(path, row, width - 1, "label");
    if (node < 0 || node >= numNodes) {
      throw new GraphFormatError(path, `line ${row.line}: node ${node} does not exist (${featuresPath} has ${numNodes} rows: nodes 0..${numNodes - 1})`);
    }
    if (seen[node]) throw new GraphFormatError(path, `line ${row.line}: node ${node} is labelled twice`);
    seen[node] = 1;
    checkLabel(path, `line ${row.line}`, v, numClasses);
    if (v > 2 ** 31 - 1) throw new GraphFormatError(path, `line ${row.line}: label ${v} is out of range`);
    labels[node] = v;
  });
  return labels;
}

// ---------------------------------------------------------------------------------------------
// edges

function readEdges(path: string, numNodes: number, featuresPath: string): { src: Int32Array; dst: Int32Array } {
  const table = readTable(path);
  const src = new Int32Array(table.length);
  const dst = new Int32Array(table.length);
  table.forEach((row, e) => {
    if (row.fields.length !== 2) throw new GraphFormatError(path, `line ${row.line}: expected 2 columns (source, destination), found ${row.fields.length}`);
    const u = parseIntField(path, row, 0, "node id");
    const v = parseIntField(path, row, 1, "node id");
    for (const x of [u, v]) {
      if (x < 0 || x >= numNodes) {
        throw new GraphFormatError(path, `line ${row.line}: edge ${u} -> ${v} names node ${x}, which does not exist (${featuresPath} has ${numNodes} rows: nodes 0..${numNodes - 1})`);
      }
    }
    src[e] = u;
    dst[e] = v;
  });
  return { src, dst };
}

// ---------------------------------------------------------------------------------------------

/** Loads a user graph from a directory (see findUserGraphFiles) or explicit paths. Features are not normalised. */
export function loadUserGraph(source: string | UserGraphPaths, opts: UserGraphOptions = {}): Graph {
  let paths: UserGraphPaths;
  let name = opts.name;
  if (typeof source === "string") {
    const dir = resolve(source);
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new GraphFormatError(dir, "not a directory");
    const found = findUserGraphFiles(dir);
    if (!found) throw new GraphFormatError(dir, `no edge list (expected one of ${CANDIDATES.edges.join(", ")})`);
    paths = found;
    name ??= basename(dir);
  } else {
    paths = source;
    name ??= basename(paths.edges).replace(/\.[^.]*$/, "");
  }

  const features = extname(paths.features).toLowerCase() === ".npy" ? readFeaturesNpy(paths.features) : readFeaturesCsv(paths.features);
  const numNodes = features.rows;
  if (numNodes === 0) throw new GraphFormatError(paths.features, "no nodes");
  const labels = readLabels(paths.labels, numNodes, paths.features, opts.numClasses);
  let maxLabel = -1;
  for (const l of labels) if (l > maxLabel) maxLabel = l;
  if (maxLabel < 0) throw new GraphFormatError(paths.labels, "no node has a label");
  const numClasses = opts.numClasses ?? maxLabel + 1;
  if (numClasses > numNodes) {
    throw new GraphFormatError(paths.labels, `label ${maxLabel} is out of range: ${numNodes} nodes cannot have ${numClasses} classes (labels are 0..C-1)`);
  }

  const { src, dst } = readEdges(paths.edges, numNodes, paths.features);
  const edges = canonicalEdges(src, dst, numNodes, paths.edges);

  let split: { trainIdx: Int32Array; valIdx: Int32Array; testIdx: Int32Array };
  if (paths.split) {
    let obj: unknown;
    try {
      obj = JSON.parse(readFileSync(paths.split, "utf8"));
    } catch (e) {
      throw new GraphFormatError(paths.split, `invalid JSON: ${(e as Error).message}`);
    }
    split = parseSplit(obj, paths.split, numNodes, labels);
  } else {
    split = seededSplit(labels, numClasses, new Rng(opts.seed ?? 0));
  }

  return { name, numNodes, numFeatures: features.cols, numClasses, ...edges, features, labels, ...split };
}
