/**
 * Loads a `planetoid-npz-free/<name>/` folder: flat little-endian binaries plus JSON
 * (features.{indptr,indices}.u32, features.values.f32, labels.i32, edges.u32, split.json, meta.json).
 * Sizes are checked against meta.json, and sha256 values too when meta.json lists them.
 */
import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { CsrMatrix } from "../../ticket/csr.js";
import { canonicalEdges, GraphFormatError, type Graph } from "./graph.js";

export interface FlatMeta {
  name?: string;
  num_nodes: number;
  num_features: number;
  num_classes: number;
  num_edges: number;
  features_available?: boolean;
  features_nnz?: number | null;
  files?: Record<string, { bytes?: number; count?: number; sha256?: string }>;
  [k: string]: unknown;
}

export interface FlatParts {
  name: string;
  meta: FlatMeta;
  numNodes: number;
  numFeatures: number;
  numClasses: number;
  labels: Int32Array;
  edges: ReturnType<typeof canonicalEdges>;
  trainIdx: Int32Array;
  valIdx: Int32Array;
  testIdx: Int32Array;
  /** null when meta.json says `features_available: false` (PubMed here) */
  features: CsrMatrix | null;
}

export interface FlatOptions {
  /** compare every file with the sha256 listed in meta.json (default true) */
  verifySha256?: boolean;
}

/** The message used when a flat folder has no features (PubMed without ind.pubmed.allx). */
export function featuresUnavailableMessage(name: string): string {
  return (
    `features are not available for '${name}' (meta.json: features_available = false): ` +
    `ind.${name}.allx, the feature rows of the non-test nodes, is missing from the shared data. ` +
    `To complete it, put the original ind.${name}.allx (sha256 listed in /work/shared/data/README.md) into planetoid/ and rerun the conversion, ` +
    `as described under "Completing PubMed" in /work/shared/data/README.md; ` +
    `or load '${name}' by name without a data directory so the raw files are downloaded into the cache.`
  );
}

function readTyped<T extends Uint32Array | Int32Array | Float32Array>(
  path: string,
  ctor: { new (b: ArrayBuffer): T; BYTES_PER_ELEMENT: number },
  meta: FlatMeta,
  expectedCount: number | null,
  verify: boolean,
): T {
  if (!existsSync(path)) throw new GraphFormatError(path, "file not found");
  const b = readFileSync(path);
  checkAgainstMeta(path, b, meta, verify);
  if (b.byteLength % ctor.BYTES_PER_ELEMENT !== 0) {
    throw new GraphFormatError(path, `size ${b.byteLength} bytes is not a multiple of ${ctor.BYTES_PER_ELEMENT} (truncated?)`);
  }
  const count = b.byteLength / ctor.BYTES_PER_ELEMENT;
  if (expectedCount !== null && count !== expectedCount) {
    throw new GraphFormatError(path, `holds ${count} values, expected ${expectedCount} (truncated or does not match meta.json)`);
  }
  return new ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
}

function checkAgainstMeta(path: string, b: Buffer, meta: FlatMeta, verify: boolean): void {
  const entry = meta.files?.[basename(path)];
  if (!entry) return;
  if (typeof entry.bytes === "number" && entry.bytes !== b.byteLength) {
    throw new GraphFormatError(path, `is ${b.byteLength} bytes, meta.json says ${entry.bytes} (truncated or replaced?)`);
  }
  if (verify && typeof entry.sha256 === "string") {
    const got = createHash("sha256").update(b).digest("hex");
    if (got !== entry.sha256) throw new GraphFormatError(path, `sha256 ${got} differs from meta.json's ${entry.sha256}`);
  }
}

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new GraphFormatError(path, "file not found");
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch (e) {
    throw new GraphFormatError(path, `invalid JSON: ${(e as Error).message}`);
  }
}

function count(meta: FlatMeta, key: "num_nodes" | "num_features" | "num_classes" | "num_edges", path: string): number {
  const v = meta[key];
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0) throw new GraphFormatError(path, `'${key}' is missing or not a non-negative integer`);
  return v;
}

/** Reads and checks a split JSON {"train":[...],"val":[...],"test":[...]} against the node count and labels. */
export function parseSplit(obj: unknown, path: string, numNodes: number, labels: Int32Array): { trainIdx: Int32Array; valIdx: Int32Array; testIdx: Int32Array } {
  if (typeof obj !== "object" || obj === null || Array.isArray(obj)) throw new GraphFormatError(path, 'expected an object {"train": [...], "val": [...], "test": [...]}');
  const seen = new Map<number, string>();
  const part = (k: "train" | "val" | "test"): Int32Array => {
    const a = (obj as Record<string, unknown>)[k];
    if (!Array.isArray(a)) throw new GraphFormatError(path, `"${k}" is missing or not an array`);
    const out = new Int32Array(a.length);
    a.forEach((id, i) => {
      if (typeof id !== "number" || !Number.isInteger(id) || id < 0 || id >= numNodes) {
        throw new GraphFormatError(path, `"${k}"[${i}] = ${JSON.stringify(id)} is not a node id in 0..${numNodes - 1}`);
      }
      const prev = seen.get(id);
      if (prev !== undefined) throw new GraphFormatError(path, `node ${id} is in "${prev}" and again in "${k}"`);
      seen.set(id, k);
      if (labels[id] < 0) throw new GraphFormatError(path, `"${k}" node ${id} has no label`);
      out[i] = id;
    });
    return out;
  };
  return { trainIdx: part("train"), valIdx: part("val"), testIdx: part("test") };
}

/** Reads everything a flat folder has; `features` is null when the folder has none (PubMed). */
export function readPlanetoidFlatParts(dir: string, opts: FlatOptions = {}): FlatParts {
  const verify = opts.verifySha256 ?? true;
  const metaPath = join(dir, "meta.json");
  const metaObj = readJson(metaPath);
  if (typeof metaObj !== "object" || metaObj === null) throw new GraphFormatError(metaPath, "expected a JSON object");
  const meta = metaObj as FlatMeta;
  const name = typeof meta.name === "string" ? meta.name : basename(dir);
  const numNodes = count(meta, "num_nodes", metaPath);
  const numFeatures = count(meta, "num_features", metaPath);
  const numClasses = count(meta, "num_classes", metaPath);
  const numEdgesMeta = count(meta, "num_edges", metaPath);

  const labelsPath = join(dir, "labels.i32");
  const labels = readTyped(labelsPath, Int32Array, meta, numNodes, verify);
  for (let i = 0; i < numNodes; i++) {
    const l = labels[i];
    if (l < -1 || l >= numClasses) throw new GraphFormatError(labelsPath, `node ${i} has label ${l}, outside -1..${numClasses - 1}`);
  }

  const edgesPath = join(dir, "edges.u32");
  const flat = readTyped(edgesPath, Uint32Array, meta, 2 * numEdgesMeta, verify);
  const src = new Int32Array(numEdgesMeta);
  const dst = new Int32Array(numEdgesMeta);
  for (let e = 0; e < numEdgesMeta; e++) {
    const s = flat[2 * e];
    const d = flat[2 * e + 1];
    if (s >= numNodes || d >= numNodes) throw new GraphFormatError(edgesPath, `edge ${e} (${s} -> ${d}) names a node outside 0..${numNodes - 1}`);
    src[e] = s;
    dst[e] = d;
  }
  const edges = canonicalEdges(src, dst, numNodes, edgesPath);
  let canonical = edges.edgeSrc.length === numEdgesMeta;
  for (let e = 0; canonical && e < numEdgesMeta; e++) canonical = edges.edgeSrc[e] === src[e] && edges.edgeDst[e] === dst[e];
  if (!canonical) {
    throw new GraphFormatError(
      edgesPath,
      `is not in canonical form (both directions stored, no duplicates, no self loops, sorted by (src, dst)): ${numEdgesMeta} pairs give ${edges.edgeSrc.length} canonical edges`,
    );
  }

  const splitPath = join(dir, "split.json");
  const splitRaw = readJson(splitPath);
  checkAgainstMeta(splitPath, readFileSync(splitPath), meta, verify);
  const split = parseSplit(splitRaw, splitPath, numNodes, labels);

  let features: CsrMatrix | null = null;
  const indptrPath = join(dir, "features.indptr.u32");
  if (meta.features_available === false) {
    features = null;
  } else {
    const indptr = readTyped(indptrPath, Uint32Array, meta, numNodes + 1, verify);
    const nnz = indptr[numNodes];
    const indicesPath = join(dir, "features.indices.u32");
    const valuesPath = join(dir, "features.values.f32");
    const indices = readTyped(indicesPath, Uint32Array, meta, null, verify);
    const values = readTyped(valuesPath, Float32Array, meta, null, verify);
    if (indices.length !== nnz) throw new GraphFormatError(indicesPath, `holds ${indices.length} column ids, indptr[${numNodes}] says ${nnz}`);
    if (values.length !== nnz) throw new GraphFormatError(valuesPath, `holds ${values.length} values, indptr[${numNodes}] says ${nnz}`);
    if (indptr[0] !== 0) throw new GraphFormatError(indptrPath, `indptr[0] = ${indptr[0]}, expected 0`);
    const rowPtr = new Int32Array(numNodes + 1);
    for (let r = 0; r < numNodes; r++) {
      if (indptr[r + 1] < indptr[r]) throw new GraphFormatError(indptrPath, `decreases at row ${r} (${indptr[r]} > ${indptr[r + 1]})`);
      rowPtr[r + 1] = indptr[r + 1];
      for (let k = indptr[r]; k < indptr[r + 1]; k++) {
        const c = indices[k];
        if (c >= numFeatures) throw new GraphFormatError(indicesPath, `row ${r} has column ${c}, outside 0..${numFeatures - 1}`);
        if (k > indptr[r] && c <= indices[k - 1]) throw new GraphFormatError(indicesPath, `row ${r}: column ids not strictly ascending (${indices[k - 1]}, ${c})`);
        if (!Number.isFinite(values[k])) throw new GraphFormatError(valuesPath, `value ${k} (row ${r}) is ${values[k]}`);
      }
    }
    features = { rows: numNodes, cols: numFeatures, rowPtr, colIdx: new Int32Array(indices.buffer), values };
  }

  return { name, meta, numNodes, numFeatures, numClasses, labels, edges, ...split, features };
}

/** Loads a flat folder as a Graph (features CSR, not normalised). Fails clearly when the folder has no features. */
export function loadPlanetoidFlat(dir: string, opts: FlatOptions = {}): Graph {
  const p = readPlanetoidFlatParts(dir, opts);
  if (!p.features) throw new GraphFormatError(join(dir, "meta.json"), featuresUnavailableMessage(p.name));
  return {
    name: p.name,
    numNodes: p.numNodes,
    numFeatures: p.numFeatures,
    numClasses: p.numClasses,
    ...p.edges,
    features: { kind: "csr", ...p.features },
    labels: p.labels,
    trainIdx: p.trainIdx,
    valIdx: p.valIdx,
    testIdx: p.testIdx,
  };
}
