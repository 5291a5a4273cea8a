import { describe, expect, it } from "vitest";
import { recordJson } from "../../bench/lib/record-json.js";

describe("recordJson", () => {
  const file = {
    schema: "x/1",
    quick: false,
    config: { seeds: [0, 1, 2], targets: { gcn: [0.9, 0.95] }, empty: {}, none: null },
    runs: [
      { key: "a", ticket: { test: 0.81, graph: 0 }, loadAvg: { before: [1, 2, 3] } },
      { key: "b\nwith a newline", ticket: null },
    ],
    analysis: { configs: [{ dataset: "cora", seeds: [0, 1] }], ugs: [] },
    skipped: undefined,
  };

  it("parses back to the same value as JSON.stringify gives", () => {
    expect(JSON.parse(recordJson(file))).toEqual(JSON.parse(JSON.stringify(file)));
  });

  it("puts each element of an array of objects on one line, and arrays of numbers inline", () => {
    const lines = recordJson(file).split("\n");
    expect(lines).toContain('    {"key":"a","ticket":{"test":0.81,"graph":0},"loadAvg":{"before":[1,2,3]}},');
    expect(lines).toContain('    {"key":"b\\nwith a newline","ticket":null}');
    expect(lines).toContain('    "seeds": [0,1,2],');
    expect(lines).toContain('      {"dataset":"cora","seeds":[0,1]}');
    expect(lines).toContain('    "ugs": []');
    expect(lines.at(-1)).toBe("");
  });
});
