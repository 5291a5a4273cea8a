/**
 * A small, safe reader for the Python pickles in the Planetoid `ind.*` files.
 *
 * It is not a general unpickler: it interprets only the protocol-2 opcodes those files use and
 * only six globals (`scipy.sparse.csr csr_matrix`, `numpy.core.multiarray _reconstruct`,
 * `numpy ndarray`, `numpy dtype`, `collections defaultdict`, `__builtin__ list`). Globals are
 * never resolved to code: each is a tag that the few allowed REDUCE / NEWOBJ / BUILD patterns
 * turn into plain data. Anything else is rejected with a PickleError naming the file, the opcode
 * or global and the byte offset.
 *
 * Results: numpy arrays become {@link NdArray} ({dtype, shape, data: typed array}),
 * `csr_matrix` becomes a checked {@link PickledCsr} (CsrMatrix-like), `defaultdict` a Map,
 * lists arrays, tuples arrays, Python 2 `str` a {@link PyBytes} (latin1 bytes), ints numbers.
 */
import { GraphFormatError } from "./graph.js";

export class PickleError extends GraphFormatError {
  constructor(
    file: string,
    readonly offset: number,
    problem: string,
  ) {
    super(file, `pickle offset ${offset}: ${problem}`);
    this.name = "PickleError";
  }
}

/** A Python 2 `str`: raw bytes (pickle decodes them as latin1). */
export class PyBytes {
  constructor(readonly bytes: Uint8Array) {}
  toString(): string {
    return Buffer.from(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength).toString("latin1");
  }
}

export type NdDtype = "bool" | "int8" | "uint8" | "int16" | "uint16" | "int32" | "uint32" | "int64" | "uint64" | "float32" | "float64";
export type NdData =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | BigInt64Array
  | BigUint64Array
  | Float32Array
  | Float64Array;

export interface NdArray {
  kind: "ndarray";
  dtype: NdDtype;
  shape: number[];
  /** C-order elements, length = product of shape */
  data: NdData;
}

/** A scipy csr_matrix, checked: shape, indptr monotone from 0 to nnz, indices in range. */
export interface PickledCsr {
  kind: "csr_matrix";
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  values: Float32Array;
  /** dtype of the pickled `data` array (values are converted to float32) */
  valueDtype: NdDtype;
}

export type PyValue = null | boolean | number | PyBytes | PyValue[] | Map<PyKey, PyValue> | NdArray | PickledCsr;
export type PyKey = number | string | boolean | null;

// numpy type codes (after stripping the byte-order char) → dtype, element size
const NUMPY_TYPES: Record<string, [NdDtype, number]> = {
  b1: ["bool", 1],
  i1: ["int8", 1],
  u1: ["uint8", 1],
  i2: ["int16", 2],
  u2: ["uint16", 2],
  i4: ["int32", 4],
  u4: ["uint32", 4],
  i8: ["int64", 8],
  u8: ["uint64", 8],
  f4: ["float32", 4],
  f8: ["float64", 8],
};

const ALLOWED_GLOBALS = new Set([
  "scipy.sparse.csr csr_matrix",
  "numpy.core.multiarray _reconstruct",
  "numpy ndarray",
  "numpy dtype",
  "collections defaultdict",
  "__builtin__ list",
]);

// --- internal objects on the VM stack --------------------------------------------------------
class Global {
  constructor(readonly name: string) {}
}
class Mark {}
const MARK = new Mark();
class Tuple {
  constructor(readonly items: unknown[]) {}
}
class DtypeObj {
  order = "<";
  constructor(
    readonly code: string,
    readonly offset: number,
  ) {}
}
class PendingArray {
  result: NdArray | null = null;
  constructor(readonly offset: number) {}
}
class PendingCsr {
  state: Map<PyKey, unknown> | null = null;
  constructor(readonly offset: number) {}
}
class DefaultDict {
  readonly map = new Map<PyKey, unknown>();
}

const OPNAMES: Record<number, string> = {
  0x80: "PROTO",
  0x63: "GLOBAL",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x68: "BINGET",
  0x6a: "LONG_BINGET",
  0x28: "MARK",
  0x29: "EMPTY_TUPLE",
  0x74: "TUPLE",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x7d: "EMPTY_DICT",
  0x5d: "EMPTY_LIST",
  0x73: "SETITEM",
  0x75: "SETITEMS",
  0x61: "APPEND",
  0x65: "APPENDS",
  0x81: "NEWOBJ",
  0x52: "REDUCE",
  0x62: "BUILD",
  0x4e: "NONE",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4d: "BININT2",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x2e: "STOP",
};

/** Parses a pickle held in `buf`. `file` is used in error messages only. Never executes code. */
export function readPickle(buf: Uint8Array, file: string): PyValue {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const stack: unknown[] = [];
  const memo = new Map<number, unknown>();
  let pos = 0;
  let opPos = 0;
  let opName = "";

  const fail = (problem: string, at = opPos): never => {
    throw new PickleError(file, at, problem);
  };
  const need = (n: number): void => {
    if (pos + n > buf.length) fail(`truncated: ${opName} needs ${n} more byte(s) but the file ends at ${buf.length}`);
  };
  const pop = (): unknown => {
    if (stack.length === 0) fail(`${opName} on an empty stack`);
    const v = stack.pop();
    if (v === MARK) fail(`${opName} found a MARK where it expected a value`);
    return v;
  };
  const top = (): unknown => {
    if (stack.length === 0 || stack[stack.length - 1] === MARK) fail(`${opName} needs a value on the stack`);
    return stack[stack.length - 1];
  };
  const popMark = (): unknown[] => {
    for (let i = stack.length - 1; i >= 0; i--) {
      if (stack[i] === MARK) {
        const items = stack.splice(i);
        items.shift();
        return items;
      }
    }
    return fail(`${opName} without a MARK on the stack`);
  };
  const readLine = (): string => {
    const end = buf.indexOf(0x0a, pos);
    if (end < 0) fail(`truncated: ${opName} argument has no terminating newline`);
    const s = Buffer.from(buf.buffer, buf.byteOffset + pos, end - pos).toString("latin1");
    pos = end + 1;
    return s;
  };
  const bytesAt = (n: number): Uint8Array => {
    need(n);
    const b = buf.subarray(pos, pos + n);
    pos += n;
    return b;
  };
  const key = (k: unknown): PyKey => {
    if (k instanceof PyBytes) return k.toString();
    if (typeof k === "number" || typeof k === "boolean" || k === null) return k;
    return fail(`unsupported dictionary key of type ${describe(k)}`);
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (items.length % 2 !== 0) fail(`${opName} with an odd number of items`);
    const map = target instanceof DefaultDict ? target.map : target instanceof Map ? target : null;
    if (!map) fail(`${opName} on a ${describe(target)}, expected a dict`);
    for (let i = 0; i < items.length; i += 2) map!.set(key(items[i]), items[i + 1]);
  };
  const appendItems = (target: unknown, items: unknown[]): void => {
    if (!Array.isArray(target)) fail(`${opName} on a ${describe(target)}, expected a list`);
    for (const it of items) (target as unknown[]).push(it);
  };

  for (;;) {
    opPos = pos;
    if (pos >= buf.length) fail(`truncated: the pickle ends without a STOP opcode (file is ${buf.length} bytes)`);
    const op = buf[pos++];
    const name = OPNAMES[op];
    opName = name ?? "";
    if (!name) {
      const ch = op >= 0x20 && op < 0x7f ? ` '${String.fromCharCode(op)}'` : "";
      fail(`unsupported opcode 0x${op.toString(16).padStart(2, "0")}${ch}: this reader only knows the protocol-2 subset used by the Planetoid files`);
    }
    switch (name) {
      case "PROTO": {
        need(1);
        const v = buf[pos++];
        if (v > 2) fail(`pickle protocol ${v} is not supported (only protocol 2 and below)`);
        break;
      }
      case "GLOBAL": {
        const mod = readLine();
        const nm = readLine();
        const full = `${mod} ${nm}`;
        if (!ALLOWED_GLOBALS.has(full)) fail(`global '${full}' is not allowed (allowed: ${[...ALLOWED_GLOBALS].join(", ")})`);
        stack.push(new Global(full));
        break;
      }
      case "BINPUT":
        need(1);
        memo.set(buf[pos++], top());
        break;
      case "LONG_BINPUT":
        need(4);
        memo.set(view.getUint32(pos, true), top());
        pos += 4;
        break;
      case "BINGET":
      case "LONG_BINGET": {
        const n = name === "BINGET" ? 1 : 4;
        need(n);
        const idx = n === 1 ? buf[pos] : view.getUint32(pos, true);
        pos += n;
        if (!memo.has(idx)) fail(`${name} ${idx}: memo slot was never set`);
        stack.push(memo.get(idx));
        break;
      }
      case "MARK":
        stack.push(MARK);
        break;
      case "EMPTY_TUPLE":
        stack.push(new Tuple([]));
        break;
      case "TUPLE":
        stack.push(new Tuple(popMark()));
        break;
      case "TUPLE1":
      case "TUPLE2":
      case "TUPLE3": {
        const n = Number(name[5]);
        const items: unknown[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        stack.push(new Tuple(items));
        break;
      }
      case "EMPTY_DICT":
        stack.push(new Map<PyKey, unknown>());
        break;
      case "EMPTY_LIST":
        stack.push([]);
        break;
      case "SETITEM": {
        const v = pop();
        const k = pop();
        setItems(top(), [k, v]);
        break;
      }
      case "SETITEMS": {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case "APPEND": {
        const v = pop();
        appendItems(top(), [v]);
        break;
      }
      case "APPENDS": {
        const items = popMark();
        appendItems(top(), items);
        break;
      }
      case "NONE":
        stack.push(null);
        break;
      case "NEWTRUE":
        stack.push(true);
        break;
      case "NEWFALSE":
        stack.push(false);
        break;
      case "BININT":
        need(4);
        stack.push(view.getInt32(pos, true));
        pos += 4;
        break;
      case "BININT1":
        need(1);
        stack.push(buf[pos++]);
        break;
      case "BININT2":
        need(2);
        stack.push(view.getUint16(pos, true));
        pos += 2;
        break;
      case "SHORT_BINSTRING": {
        need(1);
        const n = buf[pos++];
        stack.push(new PyBytes(bytesAt(n)));
        break;
      }
      case "BINSTRING": {
        need(4);
        const n = view.getInt32(pos, true);
        pos += 4;
        if (n < 0) fail(`BINSTRING with negative length ${n}`);
        stack.push(new PyBytes(bytesAt(n)));
        break;
      }
      case "NEWOBJ": {
        const args = pop();
        const cls = pop();
        if (!(cls instanceof Global) || cls.name !== "scipy.sparse.csr csr_matrix") {
          fail(`NEWOBJ of ${describe(cls)}: only scipy.sparse.csr csr_matrix may be instantiated this way`);
        }
        if (!(args instanceof Tuple) || args.items.length !== 0) fail("NEWOBJ csr_matrix with arguments (expected an empty tuple)");
        stack.push(new PendingCsr(opPos));
        break;
      }
      case "REDUCE": {
        const args = pop();
        const fn = pop();
        if (!(fn instanceof Global)) fail(`REDUCE on a ${describe(fn)}, expected an allowed global`);
        if (!(args instanceof Tuple)) fail(`REDUCE ${(fn as Global).name} with non-tuple arguments`);
        stack.push(reduce((fn as Global).name, (args as Tuple).items, fail, opPos));
        break;
      }
      case "BUILD": {
        const state = pop();
        const obj = top();
        build(obj, state, fail, file);
        break;
      }
      case "STOP": {
        const result = pop();
        if (stack.length !== 0) fail(`STOP with ${stack.length} value(s) left on the stack`);
        if (pos !== buf.length) fail(`${buf.length - pos} trailing byte(s) after STOP`);
        return finish(result, fail);
      }
    }
  }
}

type Fail = (problem: string, at?: number) => never;

function describe(v: unknown): string {
  if (v === null) return "None";
  if (v instanceof Global) return `global '${v.name}'`;
  if (v instanceof Tuple) return `tuple of ${v.items.length}`;
  if (v instanceof PyBytes) return "str";
  if (Array.isArray(v)) return "list";
  if (v instanceof Map || v instanceof DefaultDict) return "dict";
  if (v instanceof DtypeObj) return "numpy dtype";
  if (v instanceof PendingArray) return "numpy ndarray";
  if (v instanceof PendingCsr) return "csr_matrix";
  return typeof v;
}

function reduce(fn: string, args: unknown[], fail: Fail, at: number): unknown {
  switch (fn) {
    case "numpy.core.multiarray _reconstruct": {
      // _reconstruct(ndarray, (0,), 'b'): an empty array that BUILD fills in
      const [cls, shape, tc] = args;
      if (args.length !== 3 || !(cls instanceof Global) || cls.name !== "numpy ndarray" || !(shape instanceof Tuple) || !(tc instanceof PyBytes)) {
        fail("REDUCE numpy.core.multiarray _reconstruct: expected arguments (numpy.ndarray, (0,), 'b')");
      }
      return new PendingArray(at);
    }
    case "numpy dtype": {
      // dtype('f4', 0, 1)
      const [code, align, copy] = args;
      if (args.length !== 3 || !(code instanceof PyBytes) || typeof align !== "number" && typeof align !== "boolean" || typeof copy !== "number" && typeof copy !== "boolean") {
        fail("REDUCE numpy dtype: expected arguments (typecode, align, copy)");
      }
      const c = (code as PyBytes).toString();
      if (!NUMPY_TYPES[c]) fail(`numpy dtype '${c}' is not supported (supported: ${Object.keys(NUMPY_TYPES).join(", ")})`);
      return new DtypeObj(c, at);
    }
    case "collections defaultdict": {
      if (args.length !== 1 || !(args[0] instanceof Global) || args[0].name !== "__builtin__ list") {
        fail("REDUCE collections defaultdict: only defaultdict(list) is supported");
      }
      return new DefaultDict();
    }
    default:
      return fail(`REDUCE of global '${fn}' is not allowed`);
  }
}

function build(obj: unknown, state: unknown, fail: Fail, file: string): void {
  if (obj instanceof DtypeObj) {
    // (3, '<', None, None, None, -1, -1, 0)
    if (!(state instanceof Tuple) || state.items.length < 2 || !(state.items[1] instanceof PyBytes)) fail("BUILD numpy dtype: unexpected state");
    const order = ((state as Tuple).items[1] as PyBytes).toString();
    if (order !== "<" && order !== "|" && order !== "=") fail(`numpy dtype with byte order '${order}': only little-endian data is supported`);
    obj.order = order;
    return;
  }
  if (obj instanceof PendingArray) {
    // (version, shape, dtype, is_fortran, rawdata)
    if (!(state instanceof Tuple) || state.items.length !== 5) fail("BUILD numpy ndarray: expected a 5-tuple state");
    const [, shapeT, dt, fortran, raw] = (state as Tuple).items;
    if (!(shapeT instanceof Tuple) || !shapeT.items.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
      fail("BUILD numpy ndarray: shape is not a tuple of non-negative integers");
    }
    if (!(dt instanceof DtypeObj)) fail("BUILD numpy ndarray: dtype is not a numpy dtype");
    if (!(raw instanceof PyBytes)) fail("BUILD numpy ndarray: data is not a byte string (object arrays are not supported)");
    const shape = (shapeT as Tuple).items as number[];
    if (fortran === true && shape.filter((d) => d > 1).length > 1) fail("BUILD numpy ndarray: Fortran-ordered arrays are not supported");
    const [dtype, size] = NUMPY_TYPES[(dt as DtypeObj).code];
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = (raw as PyBytes).bytes;
    if (bytes.length !== count * size) {
      fail(`BUILD numpy ndarray: shape (${shape.join(", ")}) of ${dtype} needs ${count * size} bytes, the data has ${bytes.length}`);
    }
    obj.result = { kind: "ndarray", dtype, shape, data: typedArray(dtype, bytes) };
    return;
  }
  if (obj instanceof PendingCsr) {
    if (!(state instanceof Map)) fail("BUILD csr_matrix: state is not a dict");
    obj.state = state as Map<PyKey, unknown>;
    return;
  }
  fail(`BUILD on a ${describe(obj)} is not supported (${file})`);
}

function typedArray(dtype: NdDtype, bytes: Uint8Array): NdData {
  // copy into a fresh, aligned buffer (Buffer#slice would share memory, so copy explicitly)
  const copy = new Uint8Array(bytes.length);
  copy.set(bytes);
  const ab = copy.buffer;
  switch (dtype) {
    case "bool":
    case "uint8":
      return new Uint8Array(ab);
    case "int8":
      return new Int8Array(ab);
    case "int16":
      return new Int16Array(ab);
    case "uint16":
      return new Uint16Array(ab);
    case "int32":
      return new Int32Array(ab);
    case "uint32":
      return new Uint32Array(ab);
    case "int64":
      return new BigInt64Array(ab);
    case "uint64":
      return new BigUint64Array(ab);
    case "float32":
      return new Float32Array(ab);
    case "float64":
      return new Float64Array(ab);
  }
}

const MAX_DEPTH = 64;

/** Replaces the VM's internal objects by plain values, checking csr matrices. Self-referencing or absurdly deep structures are rejected. */
function finish(v: unknown, fail: Fail, depth = 0): PyValue {
  if (depth > MAX_DEPTH) fail(`result nests deeper than ${MAX_DEPTH} levels (or refers to itself)`);
  if (v === null || typeof v === "boolean" || typeof v === "number" || v instanceof PyBytes) return v;
  if (v instanceof Tuple) return v.items.map((x) => finish(x, fail, depth + 1));
  if (Array.isArray(v)) return v.map((x) => finish(x, fail, depth + 1));
  if (v instanceof DefaultDict || v instanceof Map) {
    const src = v instanceof DefaultDict ? v.map : v;
    const out = new Map<PyKey, PyValue>();
    for (const [k, x] of src) out.set(k, finish(x, fail, depth + 1));
    return out;
  }
  if (v instanceof PendingArray) {
    if (!v.result) fail("numpy ndarray was never filled in by BUILD", v.offset);
    return v.result!;
  }
  if (v instanceof PendingCsr) return finishCsr(v, fail);
  return fail(`unexpected ${describe(v)} in the result`);
}

function toInt32(a: NdArray, what: string, fail: Fail, at: number): Int32Array {
  if (a.dtype === "int32") return a.data as Int32Array;
  const out = new Int32Array(a.data.length);
  for (let i = 0; i < a.data.length; i++) {
    const x = Number(a.data[i]);
    if (!Number.isInteger(x) || x < -2147483648 || x > 2147483647) fail(`csr_matrix ${what}[${i}] = ${x} does not fit in int32`, at);
    out[i] = x;
  }
  return out;
}

function finishCsr(p: PendingCsr, fail: Fail): PickledCsr {
  const at = p.offset;
  const st = p.state;
  if (!st) fail("csr_matrix was never filled in by BUILD", at);
  const get = (k: string): unknown => {
    if (!st!.has(k)) fail(`csr_matrix state has no '${k}'`, at);
    return st!.get(k);
  };
  const fmt = get("format");
  if (!(fmt instanceof PyBytes) || fmt.toString() !== "csr") fail("csr_matrix state 'format' is not 'csr'", at);
  const shapeV = get("_shape");
  if (!(shapeV instanceof Tuple) || shapeV.items.length !== 2 || !shapeV.items.every((d) => typeof d === "number" && Number.isInteger(d) && d >= 0)) {
    fail("csr_matrix '_shape' is not a pair of non-negative integers", at);
  }
  const [rows, cols] = (shapeV as Tuple).items as number[];
  const arr = (k: string): NdArray => {
    const v = get(k);
    if (!(v instanceof PendingArray) || !v.result) fail(`csr_matrix '${k}' is not a numpy array`, at);
    const a = (v as PendingArray).result!;
    if (a.shape.length !== 1) fail(`csr_matrix '${k}' is not 1-D (shape ${a.shape.join("x")})`, at);
    return a;
  };
  const indptrA = arr("indptr");
  const indicesA = arr("indices");
  const dataA = arr("data");
  if (!indptrA.dtype.startsWith("int") && !indptrA.dtype.startsWith("uint")) fail(`csr_matrix indptr has dtype ${indptrA.dtype}`, at);
  if (!indicesA.dtype.startsWith("int") && !indicesA.dtype.startsWith("uint")) fail(`csr_matrix indices has dtype ${indicesA.dtype}`, at);
  const rowPtr = toInt32(indptrA, "indptr", fail, at);
  const colIdx = toInt32(indicesA, "indices", fail, at);
  if (rowPtr.length !== rows + 1) fail(`csr_matrix indptr has ${rowPtr.length} entries, shape (${rows}, ${cols}) needs ${rows + 1}`, at);
  const nnz = colIdx.length;
  if (dataA.data.length !== nnz) fail(`csr_matrix has ${nnz} indices but ${dataA.data.length} data values`, at);
  if (rowPtr[0] !== 0) fail(`csr_matrix indptr[0] = ${rowPtr[0]}, expected 0`, at);
  if (rowPtr[rows] !== nnz) fail(`csr_matrix indptr[${rows}] = ${rowPtr[rows]}, expected nnz = ${nnz}`, at);
  for (let r = 0; r < rows; r++) {
    const a = rowPtr[r];
    const b = rowPtr[r + 1];
    if (b < a) fail(`csr_matrix indptr decreases at row ${r} (${a} > ${b})`, at);
    for (let k = a; k < b; k++) {
      const c = colIdx[k];
      if (c < 0 || c >= cols) fail(`csr_matrix row ${r} has column ${c}, outside 0..${cols - 1}`, at);
    }
  }
  let values: Float32Array;
  if (dataA.dtype === "float32") values = dataA.data as Float32Array;
  else if (dataA.dtype === "int64" || dataA.dtype === "uint64") values = Float32Array.from(dataA.data as BigInt64Array, (x) => Number(x));
  else values = Float32Array.from(dataA.data as ArrayLike<number>);
  for (let k = 0; k < nnz; k++) if (!Number.isFinite(values[k])) fail(`csr_matrix data[${k}] = ${values[k]} is not finite`, at);
  // scipy allows unsorted column ids within a row; the CsrMatrix contract wants them ascending
  for (let r = 0; r < rows; r++) {
    const a = rowPtr[r];
    const b = rowPtr[r + 1];
    let sorted = true;
    for (let k = a + 1; k < b; k++) if (colIdx[k] <= colIdx[k - 1]) sorted = false;
    if (sorted) continue;
    const order = Array.from({ length: b - a }, (_, i) => a + i).sort((x, y) => colIdx[x] - colIdx[y]);
    const c2 = order.map((k) => colIdx[k]);
    const v2 = order.map((k) => values[k]);
    for (let i = 0; i < c2.length; i++) {
      if (i > 0 && c2[i] === c2[i - 1]) fail(`csr_matrix row ${r} has column ${c2[i]} twice`, at);
      colIdx[a + i] = c2[i];
      values[a + i] = v2[i];
    }
  }
  return { kind: "csr_matrix", rows, cols, rowPtr, colIdx, values, valueDtype: dataA.dtype };
}

export function isNdArray(v: PyValue): v is NdArray {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof PyBytes) && v.kind === "ndarray";
}

export function isPickledCsr(v: PyValue): v is PickledCsr {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Map) && !(v instanceof PyBytes) && v.kind === "csr_matrix";
}
