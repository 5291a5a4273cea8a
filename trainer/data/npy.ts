/**
 * A strict reader for NumPy `.npy` files (format versions 1.0, 2.0 and 3.0).
 * Supported: dtypes '<f4', '<f8', '<i4', '<i8' (the header must spell them with '<'), C order only.
 * Everything else, and any header or size inconsistency (a truncated file, trailing bytes), is a
 * GraphFormatError naming the file and the problem.
 */
import { readFileSync } from "node:fs";
import { GraphFormatError } from "./graph.js";

export type NpyDtype = "<f4" | "<f8" | "<i4" | "<i8";
export interface NpyArray {
  dtype: NpyDtype;
  shape: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array;
}

const ITEM: Record<NpyDtype, number> = { "<f4": 4, "<f8": 8, "<i4": 4, "<i8": 8 };
const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function readNpyFile(path: string): NpyArray {
  return parseNpy(readFileSync(path), path);
}

export function parseNpy(buf: Uint8Array, file: string): NpyArray {
  const err = (p: string) => new GraphFormatError(file, p);
  if (buf.length < 10) throw err(`truncated: ${buf.length} bytes is shorter than the .npy preamble`);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) throw err("not a .npy file (bad magic string)");
  const major = buf[6];
  const minor = buf[7];
  if (major < 1 || major > 3 || minor !== 0) throw err(`unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let headerStart: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else {
    if (buf.length < 12) throw err("truncated: the .npy preamble is incomplete");
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  }
  if (headerStart + headerLen > buf.length) throw err(`truncated: header of ${headerLen} bytes runs past the end of the file (${buf.length} bytes)`);
  const header = Buffer.from(buf.buffer, buf.byteOffset + headerStart, headerLen).toString(major === 3 ? "utf8" : "latin1");
  const dict = parseHeader(header, err);

  const descr = dict.get("descr");
  const fortran = dict.get("fortran_order");
  const shape = dict.get("shape");
  if (typeof descr !== "string") throw err("header has no string 'descr'");
  if (typeof fortran !== "boolean") throw err("header has no boolean 'fortran_order'");
  if (!Array.isArray(shape)) throw err("header has no tuple 'shape'");
  for (const k of dict.keys()) if (k !== "descr" && k !== "fortran_order" && k !== "shape") throw err(`unexpected header key '${k}'`);
  if (!(descr in ITEM)) throw err(`unsupported dtype '${descr}' (supported: ${Object.keys(ITEM).join(", ")}, little-endian)`);
  const ndim = shape.filter((d) => d > 1).length;
  if (fortran && ndim > 1) throw err("Fortran-ordered arrays are not supported (save with C order, e.g. np.ascontiguousarray)");
  const dtype = descr as NpyDtype;
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLen;
  const need = count * ITEM[dtype];
  const have = buf.length - dataStart;
  if (have < need) throw err(`truncated: shape (${shape.join(", ")}) of ${dtype} needs ${need} data bytes, the file has ${have}`);
  if (have > need) throw err(`${have - need} unexpected trailing byte(s) after the data of shape (${shape.join(", ")})`);
  const ab = new Uint8Array(need);
  ab.set(buf.subarray(dataStart, dataStart + need));
  const data =
    dtype === "<f4" ? new Float32Array(ab.buffer) : dtype === "<f8" ? new Float64Array(ab.buffer) : dtype === "<i4" ? new Int32Array(ab.buffer) : new BigInt64Array(ab.buffer);
  return { dtype, shape, data };
}

/** Parses the Python dict literal of an .npy header: string, bool and tuple-of-int values only. */
function parseHeader(text: string, err: (p: string) => Error): Map<string, unknown> {
  let i = 0;
  const s = text.replace(/[\s\n]+$/, "");
  const ws = () => {
    while (i < s.length && /\s/.test(s[i])) i++;
  };
  const expect = (c: string) => {
    ws();
    if (s[i] !== c) throw err(`malformed header: expected '${c}' at character ${i} of ${JSON.stringify(s)}`);
    i++;
  };
  const str = (): string => {
    ws();
    const q = s[i];
    if (q !== "'" && q !== '"') throw err(`malformed header: expected a string at character ${i}`);
    const end = s.indexOf(q, i + 1);
    if (end < 0) throw err("malformed header: unterminated string");
    const v = s.slice(i + 1, end);
    i = end + 1;
    return v;
  };
  const value = (): unknown => {
    ws();
    if (s[i] === "'" || s[i] === '"') return str();
    if (s.startsWith("True", i)) {
      i += 4;
      return true;
    }
    if (s.startsWith("False", i)) {
      i += 5;
      return false;
    }
    if (s[i] === "(") {
      i++;
      const dims: number[] = [];
      for (;;) {
        ws();
        if (s[i] === ")") {
          i++;
          return dims;
        }
        const m = /^\d+/.exec(s.slice(i));
        if (!m) throw err(`malformed header: bad shape entry at character ${i}`);
        dims.push(Number(m[0]));
        i += m[0].length;
        ws();
        if (s[i] === ",") i++;
        else if (s[i] !== ")") throw err(`malformed header: expected ',' or ')' in shape at character ${i}`);
      }
    }
    throw err(`malformed header: unsupported value at character ${i} (${JSON.stringify(s.slice(i, i + 20))})`);
  };
  const out = new Map<string, unknown>();
  expect("{");
  for (;;) {
    ws();
    if (s[i] === "}") {
      i++;
      break;
    }
    const k = str();
    expect(":");
    out.set(k, value());
    ws();
    if (s[i] === ",") i++;
    else if (s[i] !== "}") throw err(`malformed header: expected ',' or '}' at character ${i}`);
  }
  ws();
  if (i !== s.length) throw err("malformed header: text after the closing '}'");
  return out;
}
