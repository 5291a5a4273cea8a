/**
 * Value encodings of the .glt file (ticket.proto, ValueType): IEEE half (f16) and int8 with one f32
 * scale per row, both turned back into f32 on decoding. Runtime-safe: no fs, no tfjs.
 *
 * Error bounds (what the tests hold the encoder to):
 *   f16:  |x − f16(x)| ≤ max(|x| · 2^−11, 2^−25)   (round to nearest even; subnormal halves below 2^−14)
 *   int8: |x − q·s| ≤ s / 2 with s = max |row| / 127 (one f32 scale per row), so the error is at
 *         most 1/254 of the row's largest magnitude; rows whose entries are all multiples of one
 *         step (up to 127 of it, as in row-normalised 0/1 features) take it as their scale: exact.
 *         Arrays with fewer than 4 entries per row are stored as f16 instead when every value is
 *         within the same bound (fewer bytes: the scales cost more than int8 saves).
 */
import { TicketFormatError } from "./errors.js";

/** How values are stored: f32 (lossless), f16, or int8 with a per-row f32 scale. */
export type ValueEncoding = "f32" | "f16" | "int8";
export const VALUE_ENCODINGS: readonly ValueEncoding[] = ["f32", "f16", "int8"];

/** Largest finite half. */
export const F16_MAX = 65504;

/** Rows of a value array: a (validated) CSR row pointer, or `rows` rows of `rowLength` entries. */
export type RowLayout = { rowPtr: Int32Array } | { rows: number; rowLength: number };

export function layoutRows(l: RowLayout): number {
  return "rowPtr" in l ? l.rowPtr.length - 1 : l.rows;
}

function rowStart(l: RowLayout, r: number): number {
  return "rowPtr" in l ? l.rowPtr[r] : r * l.rowLength;
}

function fail(where: string, problem: string): never {
  throw new TicketFormatError(where, problem);
}

const f32Box = new Float32Array(1);
const u32Box = new Uint32Array(f32Box.buffer);

/**
 * The IEEE half nearest to `x` (rounded to f32 first, then to nearest even), as its 16 bits.
 * Overflow gives ±infinity (0x7c00), NaN a quiet NaN: callers that need a finite half check.
 */
export function f32ToF16Bits(x: number): number {
  f32Box[0] = x;
  const b = u32Box[0];
  const sign = (b >>> 16) & 0x8000;
  const exp = (b >>> 23) & 0xff;
  let mant = b & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    // a subnormal half (units of 2^-24) or zero
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1) !== 0)) h++; // may carry into the smallest normal: right
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1) !== 0)) h++; // a carry into the exponent is right; 0x7c00 = overflow
  return sign | h;
}

/** The value of a half's 16 bits (exact in f32 and in double). */
export function f16BitsToNumber(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >>> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 0x1f) return m !== 0 ? Number.NaN : s * Infinity;
  return s * (1024 + m) * 2 ** (e - 25);
}

/** `x` rounded to the nearest half (what an f16-stored value decodes to). */
export function roundToF16(x: number): number {
  return f16BitsToNumber(f32ToF16Bits(x));
}

/** Halves of `values`; throws TicketFormatError when a value is beyond the f16 range. */
export function encodeF16(values: Float32Array, where: string): Uint16Array {
  const out = new Uint16Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const h = f32ToF16Bits(values[i]);
    if ((h & 0x7c00) === 0x7c00) {
      fail(where, `entry ${i} = ${values[i]} is outside the f16 range (|x| ≤ ${F16_MAX}): store these values as f32 or int8`);
    }
    out[i] = h;
  }
  return out;
}

/** f32 values of halves; throws TicketFormatError for infinity or NaN. */
export function decodeF16(bits: Uint16Array, where: string): Float32Array {
  const out = new Float32Array(bits.length);
  for (let i = 0; i < bits.length; i++) {
    const h = bits[i];
    if ((h & 0x7c00) === 0x7c00) fail(where, `entry ${i} is ${f16BitsToNumber(h)} (f16 values must be finite)`);
    out[i] = f16BitsToNumber(h);
  }
  return out;
}

/** The largest f32 below a positive finite f32 `x`. */
function f32Below(x: number): number {
  f32Box[0] = x;
  u32Box[0] -= 1;
  return f32Box[0];
}

const MIN_SUBNORMAL = 2 ** -149;

/** A row's scale: its exact common step if it has one, else max |row| / 127. */
function rowScale(values: Float32Array, a: number, b: number): number {
  let max = 0;
  let min = Infinity;
  for (let k = a; k < b; k++) {
    const m = Math.abs(values[k]);
    if (m > max) max = m;
    if (m !== 0 && m < min) min = m;
  }
  if (max === 0) return 1; // empty or all-zero row: any positive scale will do
  // Every entry an integer multiple (up to 127) of the smallest magnitude, exactly in f32: then
  // the row is stored without loss (row-normalised 0/1 features, for one).
  if (max / min <= 127) {
    let exact = true;
    for (let k = a; k < b && exact; k++) exact = Math.fround(Math.round(values[k] / min) * min) === values[k];
    if (exact) return min;
  }
  let s = Math.max(Math.fround(max / 127), MIN_SUBNORMAL);
  while (!Number.isFinite(Math.fround(127 * s))) s = f32Below(s);
  return s;
}

/** int8 codes and per-row scales for `values` laid out in rows: |x − q·s| ≤ s / 2. */
export function quantizeInt8Rows(values: Float32Array, layout: RowLayout): { q: Int8Array; scales: Float32Array } {
  const rows = layoutRows(layout);
  const q = new Int8Array(values.length);
  const scales = new Float32Array(rows);
  for (let r = 0; r < rows; r++) {
    const a = rowStart(layout, r);
    const b = rowStart(layout, r + 1);
    const s = rowScale(values, a, b);
    scales[r] = s;
    for (let k = a; k < b; k++) {
      const v = Math.round(values[k] / s);
      q[k] = v > 127 ? 127 : v < -127 ? -127 : v;
    }
  }
  return { q, scales };
}

/**
 * f32 values fround(q · s) of int8 codes and per-row scales. Throws TicketFormatError unless every
 * scale is finite and > 0 and every value is finite. `q.length` must match the layout (the caller
 * checks sizes before allocating).
 */
export function dequantizeInt8Rows(q: Int8Array, scales: Float32Array, layout: RowLayout, where: string): Float32Array {
  const rows = layoutRows(layout);
  for (let r = 0; r < rows; r++) {
    const s = scales[r];
    if (!(s > 0 && s !== Infinity)) fail(`${where}.rowScales`, `entry ${r} is ${Object.is(s, -0) ? "-0" : s} (scales must be finite and > 0)`);
  }
  const out = new Float32Array(q.length);
  for (let r = 0; r < rows; r++) {
    const s = scales[r];
    for (let k = rowStart(layout, r), e = rowStart(layout, r + 1); k < e; k++) {
      const x = Math.fround(q[k] * s);
      if (x === Infinity || x === -Infinity) fail(where, `entry ${k} (row ${r}) = ${q[k]} × scale ${s} overflows f32`);
      out[k] = x;
    }
  }
  return out;
}

/**
 * Halves of `values` if every one is within int8's guarantee, |x − f16(x)| ≤ max |row| / 254, else
 * null. With few entries per row the per-row scales cost more than int8 saves: then f16 is both
 * smaller and within the same bound (int8 storage takes it, see `chooseInt8OrF16`).
 */
export function f16WithinInt8Bound(values: Float32Array, layout: RowLayout): Uint16Array | null {
  const rows = layoutRows(layout);
  const out = new Uint16Array(values.length);
  for (let r = 0; r < rows; r++) {
    const a = rowStart(layout, r);
    const b = rowStart(layout, r + 1);
    let max = 0;
    for (let k = a; k < b; k++) max = Math.max(max, Math.abs(values[k]));
    const bound = max / 254;
    for (let k = a; k < b; k++) {
      const h = f32ToF16Bits(values[k]);
      if ((h & 0x7c00) === 0x7c00 || !(Math.abs(values[k] - f16BitsToNumber(h)) <= bound)) return null;
      out[k] = h;
    }
  }
  return out;
}

/**
 * What storing `values` as "int8" writes: int8 codes with per-row scales, or halves when those are
 * no more bytes (2·count ≤ count + 4·rows, i.e. fewer than 4 entries per row on average) and
 * within the same error bound.
 */
export function chooseInt8OrF16(values: Float32Array, layout: RowLayout): { f16: Uint16Array } | { q: Int8Array; scales: Float32Array } {
  const int8 = quantizeInt8Rows(values, layout);
  if (2 * values.length <= values.length + 4 * layoutRows(layout)) {
    const f16 = f16WithinInt8Bound(values, layout);
    if (f16 !== null) return { f16 };
  }
  return int8;
}

/** `values` as they come back from storing them with `enc` (for reports and tests; no range check). */
export function roundTripValues(values: Float32Array, layout: RowLayout, enc: ValueEncoding): Float32Array {
  if (enc === "f32") return values.slice();
  if (enc === "f16") return Float32Array.from(values, roundToF16);
  const c = chooseInt8OrF16(values, layout);
  return "f16" in c ? Float32Array.from(c.f16, f16BitsToNumber) : dequantizeInt8Rows(c.q, c.scales, layout, "values");
}

/**
 * Bytes of `count` values in `rows` rows stored with `enc` (data and scales, no framing); for int8
 * the smaller of int8 and f16 (what chooseInt8OrF16 picks when f16 is accurate enough).
 */
export function valueBytes(enc: ValueEncoding, count: number, rows: number): number {
  return enc === "f32" ? 4 * count : enc === "f16" ? 2 * count : Math.min(count + 4 * rows, 2 * count);
}
