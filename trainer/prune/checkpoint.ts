/**
 * Checkpoints of the ticket searches: everything needed to continue a run exactly where it stopped
 * (variables, binary masks, Adam moments and step counts, the rewind point θ0, the best-so-far
 * record, counters and the run's options), in one file written atomically.
 *
 * File layout: "FGLTCKP1", a little-endian u32 n, n bytes of UTF-8 JSON
 *   { header, arrays: [{ name, dtype, length, offset }], dataBytes, sha256 }
 * then the data section (each array 8-byte aligned at `offset`). `sha256` covers the data section,
 * so a truncated or corrupted file is refused instead of resuming from garbage.
 */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import * as tf from "@tensorflow/tfjs-core";
import { writeFileAtomic } from "../../exporter/file.js";
import type { PrunableModel } from "../models/prunable.js";
import type { AdamSlotState, FusedAdam } from "../ops/fused-adam.js";

const MAGIC = "FGLTCKP1";

export type CheckpointArray = Float32Array | Float64Array | Int32Array | Uint8Array;
type DType = "f32" | "f64" | "i32" | "u8";

export interface Checkpoint {
  /** JSON-serialisable: method, options, counters, records */
  header: Record<string, unknown>;
  arrays: Map<string, CheckpointArray>;
}

export class CheckpointError extends Error {
  constructor(
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "CheckpointError";
  }
}

function dtypeOf(a: CheckpointArray): DType {
  if (a instanceof Float32Array) return "f32";
  if (a instanceof Float64Array) return "f64";
  if (a instanceof Int32Array) return "i32";
  return "u8";
}

const BYTES: Record<DType, number> = { f32: 4, f64: 8, i32: 4, u8: 1 };

export function encodeCheckpoint(c: Checkpoint): Uint8Array {
  const entries: { name: string; dtype: DType; length: number; offset: number }[] = [];
  let offset = 0;
  for (const [name, a] of c.arrays) {
    const dtype = dtypeOf(a);
    entries.push({ name, dtype, length: a.length, offset });
    offset += Math.ceil((a.length * BYTES[dtype]) / 8) * 8;
  }
  const data = new Uint8Array(offset);
  for (const e of entries) {
    const a = c.arrays.get(e.name)!;
    data.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), e.offset);
  }
  const sha256 = createHash("sha256").update(data).digest("hex");
  const json = Buffer.from(JSON.stringify({ header: c.header, arrays: entries, dataBytes: data.length, sha256 }), "utf8");
  const headLen = 8 + 4 + json.length;
  const pad = (8 - (headLen % 8)) % 8;
  const out = new Uint8Array(headLen + pad + data.length);
  out.set(Buffer.from(MAGIC, "latin1"), 0);
  new DataView(out.buffer).setUint32(8, json.length + pad, true);
  out.set(json, 12);
  out.fill(0x20, 12 + json.length, headLen + pad); // spaces: still valid JSON
  out.set(data, headLen + pad);
  return out;
}

export function decodeCheckpoint(bytes: Uint8Array, file = "checkpoint"): Checkpoint {
  if (bytes.length < 12 || Buffer.from(bytes.subarray(0, 8)).toString("latin1") !== MAGIC) throw new CheckpointError(file, "not a fastglt checkpoint (bad magic)");
  const n = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(8, true);
  if (12 + n > bytes.length) throw new CheckpointError(file, "truncated header");
  let meta: { header: Record<string, unknown>; arrays: { name: string; dtype: DType; length: number; offset: number }[]; dataBytes: number; sha256: string };
  try {
    meta = JSON.parse(Buffer.from(bytes.subarray(12, 12 + n)).toString("utf8"));
  } catch (e) {
    throw new CheckpointError(file, `unreadable header (${(e as Error).message})`);
  }
  const data = bytes.subarray(12 + n);
  if (data.length !== meta.dataBytes) throw new CheckpointError(file, `data section is ${data.length} bytes, expected ${meta.dataBytes} (truncated?)`);
  if (createHash("sha256").update(data).digest("hex") !== meta.sha256) throw new CheckpointError(file, "checksum mismatch (corrupted)");
  const arrays = new Map<string, CheckpointArray>();
  for (const e of meta.arrays) {
    const bytesLen = e.length * BYTES[e.dtype];
    const copy = data.slice(e.offset, e.offset + bytesLen); // aligned copy
    const buf = copy.buffer;
    const a = e.dtype === "f32" ? new Float32Array(buf) : e.dtype === "f64" ? new Float64Array(buf) : e.dtype === "i32" ? new Int32Array(buf) : new Uint8Array(buf);
    arrays.set(e.name, a);
  }
  return { header: meta.header, arrays };
}

/** Writes the checkpoint atomically (temporary file in the same folder, fsync, rename). */
export async function writeCheckpoint(path: string, c: Checkpoint): Promise<number> {
  const bytes = encodeCheckpoint(c);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

export async function readCheckpoint(path: string): Promise<Checkpoint> {
  return decodeCheckpoint(new Uint8Array(await readFile(path)), path);
}

// ---- model and optimizer state ------------------------------------------------------------------

export function maskToBytes(m: Float32Array): Uint8Array {
  const out = new Uint8Array(m.length);
  for (let i = 0; i < m.length; i++) out[i] = m[i] !== 0 ? 1 : 0;
  return out;
}

export function bytesToMask(b: Uint8Array): Float32Array {
  return Float32Array.from(b);
}

/** The binary masks of a model (edgeKeep and one per weight matrix), copied. */
export interface MaskSet {
  edgeKeep: Float32Array;
  weights: Float32Array[];
}

export function copyMasks(model: PrunableModel): MaskSet {
  return { edgeKeep: model.edgeKeep.slice(), weights: model.weights.map((w) => w.mask.slice()) };
}

export function installMasks(model: PrunableModel, m: MaskSet): void {
  model.edgeKeep = m.edgeKeep.slice();
  m.weights.forEach((w, i) => {
    model.weights[i].mask = w.slice();
  });
  model.syncMasks();
}

export function putMasks(arrays: Map<string, CheckpointArray>, prefix: string, m: MaskSet): void {
  arrays.set(`${prefix}edgeKeep`, maskToBytes(m.edgeKeep));
  m.weights.forEach((w, i) => arrays.set(`${prefix}w${i + 1}`, maskToBytes(w)));
}

export function getMasks(arrays: Map<string, CheckpointArray>, prefix: string, numWeights: number): MaskSet {
  const need = (name: string): Uint8Array => {
    const a = arrays.get(name);
    if (!(a instanceof Uint8Array)) throw new Error(`checkpoint: missing mask ${name}`);
    return a;
  };
  return { edgeKeep: bytesToMask(need(`${prefix}edgeKeep`)), weights: Array.from({ length: numWeights }, (_, i) => bytesToMask(need(`${prefix}w${i + 1}`))) };
}

/** Variable values by name (model.namedVariables()), copied. */
export type VariableValues = Map<string, Float32Array>;

export function readVariables(model: PrunableModel): VariableValues {
  const out: VariableValues = new Map();
  for (const [name, v] of model.namedVariables()) out.set(name, v.dataSync().slice() as Float32Array);
  return out;
}

/** Assigns the values it holds (names the model lacks are an error; variables it lacks stay). */
export function writeVariables(model: PrunableModel, values: VariableValues): void {
  const vars = model.namedVariables();
  for (const [name, x] of values) {
    const v = vars.get(name);
    if (!v) throw new Error(`checkpoint: the model has no variable ${name}`);
    if (v.size !== x.length) throw new Error(`checkpoint: ${name} has ${x.length} values, the model ${v.size}`);
    tf.tidy(() => v.assign(tf.tensor(x, v.shape)));
  }
}

export function putVariables(arrays: Map<string, CheckpointArray>, prefix: string, values: VariableValues): void {
  for (const [name, x] of values) arrays.set(`${prefix}${name}`, x);
}

export function getVariables(arrays: Map<string, CheckpointArray>, prefix: string): VariableValues {
  const out: VariableValues = new Map();
  for (const [name, a] of arrays) if (name.startsWith(prefix) && a instanceof Float32Array) out.set(name.slice(prefix.length), a);
  return out;
}

/** Adam state of the named variables: moments as arrays, step counts returned for the header. */
export function putAdam(arrays: Map<string, CheckpointArray>, prefix: string, opt: FusedAdam, vars: Map<string, tf.Variable>): Record<string, number> {
  const names = [...vars.keys()];
  const states = opt.getState([...vars.values()]);
  const steps: Record<string, number> = {};
  states.forEach((s, i) => {
    if (!s) return;
    arrays.set(`${prefix}m.${names[i]}`, s.m);
    arrays.set(`${prefix}v.${names[i]}`, s.v);
    if (s.since) arrays.set(`${prefix}since.${names[i]}`, s.since);
    steps[names[i]] = s.step;
  });
  return steps;
}

export function getAdam(arrays: Map<string, CheckpointArray>, prefix: string, opt: FusedAdam, vars: Map<string, tf.Variable>, steps: Record<string, number>): void {
  const states: (AdamSlotState | null)[] = [...vars.keys()].map((name) => {
    const step = steps[name];
    if (step === undefined) return null;
    const m = arrays.get(`${prefix}m.${name}`);
    const v = arrays.get(`${prefix}v.${name}`);
    if (!(m instanceof Float32Array) || !(v instanceof Float32Array)) throw new Error(`checkpoint: missing Adam moments of ${name}`);
    const since = arrays.get(`${prefix}since.${name}`);
    if (since !== undefined && !(since instanceof Int32Array)) throw new Error(`checkpoint: Adam's pending decays of ${name} are not i32`);
    return { step, m, v, since: since ?? null };
  });
  opt.setState([...vars.values()], states);
}
