import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { GraphFormatError } from "../../../trainer/data/graph.js";
import { isNdArray, isPickledCsr, PickleError, readPickle } from "../../../trainer/data/pickle.js";
import { rawDir } from "./paths.js";

const bytes = (s: string) => Buffer.from(s, "latin1");
const catchErr = (f: () => unknown): Error => {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error("expected an error");
};

describe("pickle reader on the real Planetoid files", () => {
  it("reads a one-hot label array as {dtype, shape, data}", () => {
    const v = readPickle(readFileSync(join(rawDir, "ind.cora.y")), "ind.cora.y");
    expect(isNdArray(v)).toBe(true);
    if (!isNdArray(v)) return;
    expect(v.dtype).toBe("int32");
    expect(v.shape).toEqual([140, 7]);
    expect(v.data).toBeInstanceOf(Int32Array);
    for (let r = 0; r < 140; r++) {
      let s = 0;
      for (let c = 0; c < 7; c++) s += Number(v.data[r * 7 + c]);
      expect(s).toBe(1);
    }
  });

  it("reads a csr_matrix as a checked CSR matrix", () => {
    const v = readPickle(readFileSync(join(rawDir, "ind.cora.tx")), "ind.cora.tx");
    expect(isPickledCsr(v)).toBe(true);
    if (!isPickledCsr(v)) return;
    expect([v.rows, v.cols]).toEqual([1000, 1433]);
    expect(v.rowPtr.length).toBe(1001);
    expect(v.colIdx.length).toBe(v.rowPtr[1000]);
    expect(v.values.length).toBe(v.rowPtr[1000]);
    expect(v.valueDtype).toBe("float32");
  });

  it("reads the graph defaultdict(list) as a Map of neighbour arrays", () => {
    const v = readPickle(readFileSync(join(rawDir, "ind.cora.graph")), "ind.cora.graph");
    expect(v).toBeInstanceOf(Map);
    const m = v as Map<number, number[]>;
    expect(m.size).toBe(2708);
    expect(m.get(0)).toEqual([633, 1862, 2582]);
    let entries = 0;
    for (const l of m.values()) entries += l.length;
    expect(entries).toBe(10858); // "raw dict entries" in the README
  });
});

describe("pickle reader rejects what it does not know, with file, opcode/global and offset", () => {
  it("an unknown global (os.system) is rejected before anything else happens", () => {
    const evil = bytes("\x80\x02cos\nsystem\nq\x00U\x02idq\x01\x85q\x02Rq\x03.");
    const e = catchErr(() => readPickle(evil, "evil.pkl"));
    expect(e).toBeInstanceOf(PickleError);
    expect(e).toBeInstanceOf(GraphFormatError);
    expect(e.message).toMatch(/^evil\.pkl: pickle offset 2: global 'os system' is not allowed/);
    expect((e as PickleError).offset).toBe(2);
  });

  it("an allowed global may not be called in any other way (REDUCE __builtin__.list)", () => {
    const e = catchErr(() => readPickle(bytes("\x80\x02c__builtin__\nlist\n)R."), "list.pkl"));
    expect(e.message).toMatch(/list\.pkl: pickle offset 21: REDUCE of global '__builtin__ list' is not allowed/);
  });

  it("an unknown opcode (protocol-4 MEMOIZE) is rejected by name and offset", () => {
    const e = catchErr(() => readPickle(bytes("\x80\x02]\x94."), "memo.pkl"));
    expect(e.message).toMatch(/memo\.pkl: pickle offset 3: unsupported opcode 0x94/);
  });

  it("an unknown text opcode (GLOBAL-free INST 'i') is rejected", () => {
    const e = catchErr(() => readPickle(bytes("(ios\nsystem\n."), "inst.pkl"));
    expect(e.message).toMatch(/inst\.pkl: pickle offset 1: unsupported opcode 0x69 'i'/);
  });

  it("a protocol above 2 is rejected", () => {
    expect(() => readPickle(bytes("\x80\x04N."), "p4.pkl")).toThrowError(/p4\.pkl: pickle offset 0: pickle protocol 4 is not supported/);
  });

  it("a real file cut at several points is rejected as truncated, never silently accepted", () => {
    const full = readFileSync(join(rawDir, "ind.cora.x"));
    for (const cut of [0, 1, 2, 20, 41, 300, 900, 11_000, 22_000, full.length - 1]) {
      const e = catchErr(() => readPickle(full.subarray(0, cut), "ind.cora.x"));
      expect(e, `cut at ${cut}`).toBeInstanceOf(PickleError);
      expect(e.message, `cut at ${cut}`).toMatch(/^ind\.cora\.x: pickle offset \d+: truncated/);
    }
    // the cut inside the first BINSTRING says how many bytes it needed
    expect(catchErr(() => readPickle(full.subarray(0, 300), "ind.cora.x")).message).toMatch(/offset 204: truncated: BINSTRING needs 564 more byte\(s\)/);
  });

  it("a list that contains itself is rejected instead of recursing forever", () => {
    // EMPTY_LIST, BINPUT 0, BINGET 0, APPEND, STOP: l = []; l.append(l)
    expect(() => readPickle(bytes("\x80\x02]q\x00h\x00a."), "cycle.pkl")).toThrowError(/cycle\.pkl: pickle offset 8: result nests deeper than 64 levels/);
  });

  it("trailing bytes after STOP are rejected", () => {
    expect(() => readPickle(bytes("\x80\x02N.junk"), "t.pkl")).toThrowError(/t\.pkl: pickle offset 3: 4 trailing byte\(s\) after STOP/);
  });

  it("a csr_matrix whose shape does not fit its indices is rejected", () => {
    const full = Buffer.from(readFileSync(join(rawDir, "ind.cora.x")));
    const cols = Buffer.from(full);
    cols.writeUInt16LE(100, 69); // _shape = (140, 100) but column ids go up to 1432
    expect(() => readPickle(cols, "ind.cora.x")).toThrowError(/ind\.cora\.x: pickle offset 34: csr_matrix row \d+ has column \d+, outside 0\.\.99/);
    const rows = Buffer.from(full);
    rows[67] = 139; // _shape = (139, 1433) but indptr has 141 entries
    expect(() => readPickle(rows, "ind.cora.x")).toThrowError(/csr_matrix indptr has 141 entries, shape \(139, 1433\) needs 140/);
  });

  it("an ndarray whose byte string does not match its shape is rejected", () => {
    const y = Buffer.from(readFileSync(join(rawDir, "ind.cora.y")));
    y[71] = 141; // shape (141, 7) but 140*7*4 bytes of data
    expect(() => readPickle(y, "ind.cora.y")).toThrowError(/ind\.cora\.y: pickle offset \d+: BUILD numpy ndarray: shape \(141, 7\) of int32 needs 3948 bytes, the data has 3920/);
  });
});
