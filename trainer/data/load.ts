/**
 * The one entry point the CLI uses to get a graph:
 *
 *   synthetic                       seeded synthetic graph (synthetic.ts), Cora-sized by default
 *   synthetic:nodes=10000,classes=5 …with options: nodes, classes, features, degree, homophily,
 *                                   words, seed (also the full option names of SyntheticOptions)
 *   cora | citeseer | pubmed        raw Planetoid files from opts.dataDir, else $FASTGLT_DATA, else
 *                                   downloaded (sha256-checked) into the cache
 *   <path>                          a directory with ind.<name>.* files (one dataset), a
 *                                   planetoid-npz-free folder (meta.json + edges.u32), or a user graph
 *                                   (edges.csv|tsv|txt, features.csv|tsv|npy, labels.csv|tsv|txt|npy,
 *                                   optional split.json)
 *
 * Features are row-normalised (graph.ts rowNormalise) unless `normalise: false`.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { ensurePlanetoidFiles } from "./download.js";
import { GraphFormatError, numEdges, rowNormalise, type Graph } from "./graph.js";
import { loadPlanetoidFlat } from "./planetoid-flat.js";
import { loadPlanetoidRaw, PLANETOID_NAMES } from "./planetoid-raw.js";
import { syntheticGraph, type SyntheticOptions } from "./synthetic.js";
import { findUserGraphFiles, loadUserGraph } from "./user-graph.js";

export interface LoadOptions {
  /** directory holding raw `ind.<name>.*` files (or a folder with a `planetoid/` subfolder) */
  dataDir?: string;
  /** row-normalise features (default true) */
  normalise?: boolean;
  /** seed for synthetic graphs and for user graphs without a split file (default 0) */
  seed?: number;
  cacheDir?: string;
  baseUrl?: string;
  /** custom fetch for downloads (tests) */
  fetchImpl?: typeof fetch;
  log?: (msg: string) => void;
}

const SYNTHETIC_KEYS: Record<string, keyof SyntheticOptions> = {
  nodes: "numNodes",
  n: "numNodes",
  numnodes: "numNodes",
  classes: "numClasses",
  numclasses: "numClasses",
  features: "numFeatures",
  numfeatures: "numFeatures",
  degree: "avgDegree",
  avgdegree: "avgDegree",
  homophily: "homophily",
  words: "wordsPerNode",
  wordspernode: "wordsPerNode",
  topicrate: "topicRate",
  topicfraction: "topicFraction",
  trainperclass: "trainPerClass",
  val: "numVal",
  numval: "numVal",
  test: "numTest",
  numtest: "numTest",
  seed: "seed",
};

/** Parses `synthetic[:k=v,...]` options; throws on unknown keys or non-numeric values. */
export function parseSyntheticSpec(spec: string): SyntheticOptions {
  const out: Record<string, number> = {};
  const rest = spec.slice("synthetic".length);
  if (rest === "") return out;
  if (!rest.startsWith(":")) throw new Error(`bad dataset spec '${spec}': expected synthetic or synthetic:key=value,...`);
  for (const part of rest.slice(1).split(",")) {
    if (part.trim() === "") continue;
    const eq = part.indexOf("=");
    if (eq < 0) throw new Error(`bad dataset spec '${spec}': '${part}' is not key=value`);
    const k = part.slice(0, eq).trim().toLowerCase();
    const v = part.slice(eq + 1).trim();
    const key = SYNTHETIC_KEYS[k];
    if (!key) throw new Error(`bad dataset spec '${spec}': unknown option '${k}' (known: ${Object.keys(SYNTHETIC_KEYS).join(", ")})`);
    const num = Number(v.replace(/_/g, ""));
    if (v === "" || !Number.isFinite(num)) throw new Error(`bad dataset spec '${spec}': '${k}' needs a number, got '${v}'`);
    out[key] = num;
  }
  return out as SyntheticOptions;
}

function hasRaw(dir: string, name: string): boolean {
  return existsSync(join(dir, `ind.${name}.x`)) || existsSync(join(dir, `ind.${name}.graph`));
}

async function loadNamed(name: string, opts: LoadOptions, log: (m: string) => void): Promise<Graph> {
  const dataDir = opts.dataDir ?? (process.env.FASTGLT_DATA || undefined);
  if (dataDir) {
    const base = resolve(dataDir);
    for (const dir of [base, join(base, "planetoid")]) {
      if (hasRaw(dir, name)) {
        log(`loading ${name} from raw Planetoid files in ${dir}`);
        return loadPlanetoidRaw(dir, name);
      }
    }
    throw new GraphFormatError(base, `no ind.${name}.* files here or in ${join(base, "planetoid")}${opts.dataDir ? "" : " (from $FASTGLT_DATA)"}; unset it to download them into the cache`);
  }
  const r = await ensurePlanetoidFiles(name, { cacheDir: opts.cacheDir, baseUrl: opts.baseUrl, fetchImpl: opts.fetchImpl, log });
  log(`${name}: ${r.cached.length} cached, ${r.downloaded.length} downloaded into ${r.dir}`);
  return loadPlanetoidRaw(r.dir, name);
}

function loadPath(p: string, opts: LoadOptions, log: (m: string) => void): Graph {
  const dir = resolve(p);
  if (!statSync(dir).isDirectory()) throw new GraphFormatError(dir, "expected a directory (Planetoid ind.* files, a planetoid-npz-free folder or a user graph)");
  if (existsSync(join(dir, "meta.json")) && existsSync(join(dir, "edges.u32"))) {
    log(`loading flat Planetoid folder ${dir}`);
    return loadPlanetoidFlat(dir);
  }
  const rawNames = [...new Set(readdirSync(dir).flatMap((f) => /^ind\.([A-Za-z0-9_-]+)\.(x|graph)$/.exec(f)?.[1] ?? []))];
  if (rawNames.length === 1) {
    log(`loading raw Planetoid files ind.${rawNames[0]}.* from ${dir}`);
    return loadPlanetoidRaw(dir, rawNames[0]);
  }
  if (rawNames.length > 1) {
    throw new GraphFormatError(dir, `holds several Planetoid datasets (${rawNames.join(", ")}): give the name (e.g. '${rawNames[0]}') with dataDir = ${dir}`);
  }
  if (findUserGraphFiles(dir)) {
    log(`loading user graph from ${dir}`);
    return loadUserGraph(dir, { seed: opts.seed });
  }
  throw new GraphFormatError(
    dir,
    "not a graph directory: expected ind.<name>.* Planetoid files, meta.json + edges.u32 (planetoid-npz-free), or edges.csv|tsv|txt + features.csv|tsv|npy + labels.csv|tsv|txt|npy",
  );
}

export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<Graph> {
  const log = opts.log ?? (() => {});
  const s = spec.trim();
  let g: Graph;
  const lower = s.toLowerCase();
  if (lower === "synthetic" || lower.startsWith("synthetic:")) {
    const so = parseSyntheticSpec(lower);
    so.seed ??= opts.seed ?? 0;
    g = syntheticGraph(so);
  } else if ((PLANETOID_NAMES as readonly string[]).includes(lower)) {
    g = await loadNamed(lower, opts, log);
  } else if (existsSync(s)) {
    g = loadPath(s, opts, log);
  } else {
    throw new Error(`unknown dataset '${spec}': use synthetic[:nodes=..,classes=..], cora, citeseer, pubmed, or a path to a graph directory`);
  }
  if (opts.normalise ?? true) g = { ...g, features: rowNormalise(g.features) };
  log(
    `${g.name}: ${g.numNodes} nodes, ${numEdges(g)} directed edges, ${g.numFeatures} features (${g.features.kind}), ${g.numClasses} classes, ` +
      `split ${g.trainIdx.length}/${g.valIdx.length}/${g.testIdx.length}${opts.normalise ?? true ? ", rows normalised" : ""}`,
  );
  return g;
}
