import { describe, expect, it } from "vitest";
import { parsePruneArgs } from "../../cli/prune.js";
import { silentProgress } from "../../trainer/util/progress.js";
import {
  denseBar,
  fastgltExtreme,
  firstRoundReaching,
  meanStd,
  speedUps,
  speedVerdict,
  summarizeConfigs,
  summarizeUgs,
  type DenseRecord,
  type Family,
  type RoundRecord,
  type RunRecord,
} from "../../bench/lib/ticket-search-analysis.js";
import { analyze, extraFlagsOf, renderMarkdown, renderSvg, type BenchFile, type StoredRun } from "../../bench/lib/ticket-search-report.js";
import { mergeBenchFiles } from "../../bench/lib/ticket-search-merge.js";
import { commandOf, configKey, parseJointTargets, parseRounds, parseTargets, planCells, pruneArgv, targetsWithDefault, type FastgltCell } from "../../bench/lib/ticket-search-plan.js";

function dense(seed: number, acc: number, dataset = "cora", model = "gcn"): DenseRecord {
  return { key: `d${seed}`, dataset, model, seed, status: "done", testAccuracy: acc, valAccuracy: acc, bestEpoch: 100, epochs: 200, seconds: 10 };
}

function fg(family: Family, target: number, seed: number, acc: number, seconds = 30, sparsity?: { graph: number; weight: number }): RunRecord {
  const graph = sparsity?.graph ?? (family === "weight" ? 0 : target);
  const weight = sparsity?.weight ?? (family === "graph" ? 0 : target);
  return {
    config: `fastglt ${family} ${target}`,
    variant: null,
    dataset: "cora",
    model: "gcn",
    method: "fastglt",
    family,
    targetGraph: family === "weight" ? null : target,
    targetWeight: family === "graph" ? null : target,
    isDefaultTarget: false,
    seed,
    status: "done",
    ticket: { testAccuracy: acc, valAccuracy: acc, graphSparsity: graph, graphSparsityWithSelfLoops: graph, weightSparsity: weight, meetsTarget: true },
    epochs: 630,
    secondsToBest: seconds / 2,
    trainingSeconds: seconds,
  };
}

/** A UGS run: round k has graph 1 − 0.95^k, weight 1 − 0.8^k, `perRound` seconds each, the given accuracies. */
function ugs(seed: number, accs: number[], perRound = 20): RunRecord {
  const rounds: RoundRecord[] = accs.map((a, i) => ({
    round: i + 1,
    graphSparsity: 1 - 0.95 ** (i + 1),
    graphSparsityWithSelfLoops: 0.8 * (1 - 0.95 ** (i + 1)),
    weightSparsity: 1 - 0.8 ** (i + 1),
    testAccuracy: a,
    valAccuracy: a,
    seconds: perRound * (i + 1),
  }));
  return {
    config: "ugs",
    variant: null,
    dataset: "cora",
    model: "gcn",
    method: "ugs",
    family: "both",
    targetGraph: null,
    targetWeight: null,
    isDefaultTarget: false,
    seed,
    status: "done",
    ticket: { testAccuracy: accs[accs.length - 1], valAccuracy: 0, graphSparsity: rounds[rounds.length - 1].graphSparsity, graphSparsityWithSelfLoops: 0, weightSparsity: rounds[rounds.length - 1].weightSparsity, meetsTarget: true },
    rounds,
    epochsPerRound: 400,
    epochs: 400 * accs.length,
    secondsToBest: null,
    trainingSeconds: perRound * accs.length,
  };
}

describe("ticket-search analysis", () => {
  it("meanStd: sample standard deviation, one value has 0, non-finite values are left out", () => {
    expect(meanStd([0.7, 0.8, 0.9]).mean).toBeCloseTo(0.8, 12);
    expect(meanStd([0.7, 0.8, 0.9]).std).toBeCloseTo(0.1, 12);
    expect(meanStd([0.5])).toEqual({ mean: 0.5, std: 0, n: 1 });
    expect(meanStd([NaN, 1, 3])).toMatchObject({ mean: 2, n: 2 });
    expect(meanStd([]).n).toBe(0);
  });

  it("the bar is the dense mean over the judged runs' seeds only, other datasets and models ignored, missing seeds named", () => {
    const d = [dense(0, 0.8), dense(1, 0.82), dense(2, 0.9), dense(0, 0.5, "citeseer"), dense(1, 0.1, "cora", "gin")];
    const b = denseBar(d, "cora", "gcn", [0, 1, 5]);
    expect(b.mean).toBeCloseTo(0.81, 12);
    expect(b.seeds).toEqual([0, 1]);
    expect(b.missingSeeds).toEqual([5]);
  });

  it("a configuration wins on its mean over seeds; per-seed winners are reported beside", () => {
    const d = [dense(0, 0.8), dense(1, 0.8)];
    // mean 0.805 ≥ 0.8 although seed 1 alone is below
    const cs = summarizeConfigs([fg("weight", 0.9, 0, 0.83), fg("weight", 0.9, 1, 0.78), fg("weight", 0.95, 0, 0.79), fg("weight", 0.95, 1, 0.8)], d);
    const c90 = cs.find((c) => c.targetWeight === 0.9)!;
    const c95 = cs.find((c) => c.targetWeight === 0.95)!;
    expect(c90.wins).toBe(true);
    expect(c90.perSeed.map((p) => p.wins)).toEqual([true, false]);
    expect(c95.wins).toBe(false);
    expect(c95.perSeed.map((p) => p.wins)).toEqual([false, true]);
  });

  it("FastGLT's extreme sparsity is the highest winning target, even above a losing one; null when none wins", () => {
    const d = [dense(0, 0.8)];
    const cs = summarizeConfigs([fg("weight", 0.9, 0, 0.81), fg("weight", 0.93, 0, 0.79), fg("weight", 0.95, 0, 0.8), fg("weight", 0.98, 0, 0.7), fg("graph", 0.3, 0, 0.7)], d);
    expect(fastgltExtreme(cs, "weight")?.targetWeight).toBe(0.95);
    expect(fastgltExtreme(cs, "graph")).toBeNull();
    expect(fastgltExtreme(cs, "both")).toBeNull();
  });

  it("variants: the same family and targets under another variant are other configurations, with their own extreme; records without `variant` are the paper's", () => {
    const d = [dense(0, 0.8), dense(1, 0.8)];
    const ours = (r: RunRecord): RunRecord => ({ ...r, variant: "ours", config: `${r.config} --keep-self-loops` });
    // a record written before variants: no `variant` field at all
    const old = (r: RunRecord): RunRecord => {
      const { variant: _, ...rest } = r;
      return rest as RunRecord;
    };
    const runs = [
      // faithful: 35% wins, 40% loses
      old(fg("graph", 0.35, 0, 0.81)),
      fg("graph", 0.35, 1, 0.8),
      fg("graph", 0.4, 0, 0.75),
      fg("graph", 0.4, 1, 0.76),
      // ours: 35% loses, 40% wins — the same targets, its own extreme
      ours(fg("graph", 0.35, 0, 0.79)),
      ours(fg("graph", 0.35, 1, 0.79)),
      ours(fg("graph", 0.4, 0, 0.82)),
      ours(fg("graph", 0.4, 1, 0.81)),
      ugs(0, Array(14).fill(0.75), 20),
      ugs(1, Array(14).fill(0.75), 20),
    ];
    const cs = summarizeConfigs(runs, d);
    expect(cs).toHaveLength(4);
    expect(cs.filter((c) => c.variant === null).map((c) => c.perSeed.map((p) => p.seed))).toEqual([[0, 1], [0, 1]]);
    const faithful = fastgltExtreme(cs, "graph");
    const v = fastgltExtreme(cs, "graph", "ours");
    expect(faithful).toMatchObject({ variant: null, targetGraph: 0.35, wins: true });
    expect(faithful!.accuracy.mean).toBeCloseTo(0.805, 12);
    expect(v).toMatchObject({ variant: "ours", targetGraph: 0.4, wins: true });
    expect(v!.accuracy.mean).toBeCloseTo(0.815, 12);
    expect(fastgltExtreme(cs, "graph", "other")).toBeNull();
    // even under one config string, two variants stay apart
    const same = summarizeConfigs([fg("graph", 0.4, 0, 0.7), { ...fg("graph", 0.4, 0, 0.9), variant: "ours" }], [dense(0, 0.8)]);
    expect(same.map((c) => [c.variant, c.wins])).toEqual([[null, false], ["ours", true]]);
    // speed-ups: each variant's runs against the same seed's UGS run, judged by their own configuration
    const s = speedUps(runs, cs, summarizeUgs(runs, d));
    expect(s).toHaveLength(8);
    const s40 = s.filter((x) => x.graphSparsity === 0.4);
    expect(s40.map((x) => [x.variant, x.winningConfig])).toEqual([[null, false], [null, false], ["ours", true], ["ours", true]]);
    expect(s40.every((x) => x.ugs?.reached && x.ugs.round === 10)).toBe(true); // 1 − 0.95^10 = 40.1%
  });

  it("UGS's extreme is the last round whose mean over seeds wins; rounds only some seeds ran average over those", () => {
    const d = [dense(0, 0.8), dense(1, 0.8)];
    const [u] = summarizeUgs([ugs(0, [0.81, 0.79, 0.82, 0.7]), ugs(1, [0.8, 0.8, 0.8])], d);
    expect(u.rounds.map((r) => r.wins)).toEqual([true, false, true, false]);
    expect(u.extreme?.round).toBe(3);
    expect(u.rounds[3].seeds).toEqual([0]);
    expect(u.rounds[2].epochs).toBe(1200);
    expect(u.rounds[2].weightSparsity.mean).toBeCloseTo(1 - 0.8 ** 3, 12);
  });

  it("firstRoundReaching needs both sparsities (within the tolerance)", () => {
    const rounds = ugs(0, Array(14).fill(0.8)).rounds!;
    expect(firstRoundReaching(rounds, 0, 0.93)?.round).toBe(12); // 1 − 0.8^12 = 93.13%
    expect(firstRoundReaching(rounds, 0.35, 0)?.round).toBe(9); // 1 − 0.95^9 = 36.98%
    expect(firstRoundReaching(rounds, 0.35, 0.93)?.round).toBe(12);
    expect(firstRoundReaching(rounds, 1 - 0.95 ** 3 + 5e-5, 0)?.round).toBe(3);
    expect(firstRoundReaching(rounds, 0.6, 0)).toBeNull(); // 14 rounds: 51%
  });

  it("speed-up: the same seed's UGS seconds to the matching round over FastGLT's; a lower bound when UGS never got there", () => {
    const d = [dense(0, 0.8), dense(1, 0.8)];
    const runs = [
      fg("weight", 0.93, 0, 0.81, 30),
      fg("weight", 0.93, 1, 0.81, 40),
      fg("weight", 0.98, 0, 0.7, 30),
      ugs(0, Array(14).fill(0.75), 20),
      ugs(1, Array(14).fill(0.75), 25),
    ];
    const cs = summarizeConfigs(runs, d);
    const us = summarizeUgs(runs, d);
    const s = speedUps(runs, cs, us);
    const s0 = s.find((x) => x.seed === 0 && x.weightSparsity === 0.93)!;
    const s1 = s.find((x) => x.seed === 1)!;
    expect(s0.ugs).toMatchObject({ reached: true, round: 12, seconds: 240, epochs: 4800, wins: false });
    expect(s0.speedup).toBeCloseTo(240 / 30, 12);
    expect(s0.speedupToBest).toBeCloseTo(240 / 15, 12);
    expect(s1.speedup).toBeCloseTo((12 * 25) / 40, 12); // seed 1's UGS, not seed 0's
    const s98 = s.find((x) => x.weightSparsity === 0.98)!; // 14 rounds reach 95.6%
    expect(s98).toMatchObject({ lowerBound: true, winningConfig: false });
    expect(s98.ugs).toMatchObject({ reached: false, round: 14, roundsRun: 14, seconds: 280 });
    // the verdict looks at winning configurations only: 8× and 7.5×
    const v = speedVerdict(s, 5);
    expect(v).toMatchObject({ compared: 2, met: true });
    expect(v.min).toBeCloseTo(7.5, 12);
    expect(speedVerdict(s, 7.8).met).toBe(false);
  });

  it("speed verdict: only lower bounds below the factor leave it open", () => {
    const d = [dense(0, 0.5)];
    const runs = [fg("weight", 0.98, 0, 0.9, 100), ugs(0, [0.6, 0.6], 20)];
    const s = speedUps(runs, summarizeConfigs(runs, d), summarizeUgs(runs, d));
    expect(s[0].lowerBound).toBe(true);
    expect(speedVerdict(s, 5).met).toBeNull();
    expect(speedVerdict([], 5)).toMatchObject({ compared: 0, met: null });
  });
});

describe("ticket-search plan", () => {
  it("target lists: one list for every model, or per model with default / none; bad input is refused", () => {
    expect(parseTargets("0.9,0.95", "w")).toEqual({ "*": [0.9, 0.95] });
    expect(parseTargets("gcn=0.9,0.93; gin=default;gat=none", "w")).toEqual({ gcn: [0.9, 0.93], gin: "default", gat: "none" });
    expect(parseJointTargets("gcn=0.35:0.9,0.35:0.93", "j")).toEqual({ gcn: [[0.35, 0.9], [0.35, 0.93]] });
    expect(() => parseTargets("0.9,1.2", "w")).toThrow(/sparsity in \(0, 1\)/);
    expect(() => parseTargets("gcn=0.9;gcn=0.8", "w")).toThrow(/twice/);
    expect(() => parseJointTargets("0.35", "j")).toThrow(/graph:weight/);
    expect(parseRounds("20;gat=3", "r")).toEqual({ "*": 20, gat: 3 });
    expect(() => parseRounds("gcn=1.5", "r")).toThrow(/rounds/);
  });

  it("the paper's target joins the ladder once; none means no runs", () => {
    expect(targetsWithDefault([0.95, 0.9, 0.93], 0.93)).toEqual([0.9, 0.93, 0.95]);
    expect(targetsWithDefault("default", 0.93)).toEqual([0.93]);
    expect(targetsWithDefault("default", null)).toEqual([]);
    expect(targetsWithDefault("none", 0.93)).toEqual([]);
  });

  it("cells: dense first, then per (dataset, model) the paper's targets, UGS, the rest of the ladder", () => {
    const cells = planCells({
      datasets: ["cora", "citeseer"],
      models: ["gcn"],
      methods: ["fastglt", "ugs"],
      families: ["weight", "graph", "both"],
      weightTargets: parseTargets("0.9,0.93", "w"),
      graphTargets: parseTargets("0.3", "g"),
      jointTargets: parseJointTargets("gcn=0.35:0.9", "j"),
      ugsRounds: { "*": 14 },
      defaults: (d) => (d === "cora" ? { graph: 0.35, weight: 0.93 } : { graph: null, weight: 0.95 }),
    });
    const label = cells.map((c) => (c.kind === "fastglt" ? `${c.dataset} ${c.family} ${c.targetGraph ?? "-"}/${c.targetWeight ?? "-"}${c.isDefaultTarget ? "*" : ""}` : `${c.dataset} ${c.kind}`));
    expect(label).toEqual([
      "cora dense",
      "citeseer dense",
      "cora weight -/0.93*",
      "cora graph 0.35/-*",
      "cora ugs",
      "cora weight -/0.9",
      "cora graph 0.3/-",
      "cora both 0.35/0.9",
      // no README graph command for the CiteSeer GCN: only the ladder
      "citeseer weight -/0.95*",
      "citeseer ugs",
      "citeseer weight -/0.9",
      "citeseer weight -/0.93",
      "citeseer graph 0.3/-",
      "citeseer both 0.35/0.9",
    ]);
  });

  it("UGS rounds per model; 0 leaves that model without UGS runs", () => {
    const cells = planCells({ datasets: ["cora"], models: ["gcn", "gat"], methods: ["ugs"], families: [], weightTargets: {}, graphTargets: {}, jointTargets: {}, ugsRounds: parseRounds("14;gat=0", "r"), defaults: () => ({ graph: null, weight: null }) });
    expect(cells.filter((c) => c.kind === "ugs")).toEqual([{ kind: "ugs", dataset: "cora", model: "gcn", rounds: 14 }]);
  });

  it("the argv is one the real `fastglt prune` parser accepts with the intended values; the config key drops seed and folders", () => {
    const cell: FastgltCell = { kind: "fastglt", dataset: "cora", model: "gcn", family: "both", targetGraph: 0.35, targetWeight: 0.93, isDefaultTarget: true };
    const o = { seed: 2, dataDir: "/data", outDir: "/tmp/x", hidden: 16, backend: "auto", extraFastglt: ["--delta", "3", "--acc-n", "2"], extraUgs: [] };
    const argv = pruneArgv(cell, o);
    const p = parsePruneArgs(argv, { progress: silentProgress, log: () => {} })!;
    expect(p).toMatchObject({ method: "fastglt", prune: "both", model: "gcn", dataset: "cora", seed: 2, hidden: 16, outDir: "/tmp/x", dataDir: "/data" });
    expect(p.flags).toMatchObject({ "target-graph": "0.35", "target-weight": "0.93", delta: "3", "acc-n": "2" });
    const u = parsePruneArgs(pruneArgv({ kind: "ugs", dataset: "citeseer", model: "gin", rounds: 14 }, { ...o, extraUgs: ["--mask-epochs", "5"] }), { progress: silentProgress, log: () => {} })!;
    expect(u).toMatchObject({ method: "ugs", prune: "both", model: "gin", dataset: "citeseer" });
    expect(u.flags).toMatchObject({ rounds: "14", "mask-epochs": "5" });
    expect(configKey(argv)).toBe(configKey(pruneArgv(cell, { ...o, seed: 0, outDir: "/elsewhere", dataDir: "/d2" })));
    expect(configKey(argv)).not.toMatch(/--seed|--out|--data-dir/);
    expect(commandOf(argv)).toMatch(/^fastglt prune --method fastglt --prune both .*--seed 2 .*--data-dir \/data$/);
  });
});

describe("ticket-search report", () => {
  const base = (r: RunRecord, extra: string[], variant: string | null): StoredRun => {
    const argv = ["--method", "fastglt", "--prune", r.family, "--model", "gcn", "--dataset", "cora", "--target-graph", String(r.targetGraph), "--seed", String(r.seed), ...extra, "--out", "/tmp/x"];
    return { ...r, variant, config: configKey(argv), key: `${configKey(argv)} ${r.seed} ${variant}`, argv, command: commandOf(argv), extraArgs: variant === null ? undefined : extra, loadAvg: { before: [], after: [] }, finishedAt: "" };
  };
  const file = (): BenchFile => {
    const ours = ["--keep-self-loops", "--normalisation", "kept"];
    const old = base(fg("graph", 0.35, 0, 0.81), [], null) as Partial<StoredRun>;
    delete old.variant; // a record from before variants
    return {
      schema: "fastglt/ticket-search/1",
      quick: false,
      config: { datasets: ["cora"], models: ["gcn"] },
      sessions: [],
      dense: [{ ...dense(0, 0.8), hidden: 512, lr: 0.01, weightDecay: 5e-4, backend: "wasm", loadAvg: { before: [], after: [] }, finishedAt: "" }],
      runs: [old as StoredRun, base(fg("graph", 0.4, 0, 0.7), [], null), base(fg("graph", 0.35, 0, 0.79), ours, "ours"), base(fg("graph", 0.4, 0, 0.82), ours, "ours")],
    };
  };

  it("labels variant rows, gives one extreme row per (family, variant), lists the variants' flags, renders old records as faithful", () => {
    const f = file();
    const a = analyze(f);
    const md = renderMarkdown(f, a, { json: "x.json", svg: () => "x.svg" });
    expect(md).toMatch(/## Variants[\s\S]*- \*\*faithful\*\*: the paper's settings[^\n]*— 2 configurations\n- \*\*ours\*\*: `--keep-self-loops --normalisation kept` — 2 configurations/);
    const extreme = md.split("## Speed")[0];
    expect(extreme).toMatch(/\| Cora GCN +\| FastGLT graph \[faithful\] +\| measured +\| 35\.0%/);
    expect(extreme).toMatch(/\| Cora GCN +\| FastGLT graph \[ours\] +\| measured +\| 40\.0%/);
    expect(md).toMatch(/\| graph \[ours\] +\| g 40\.0%/);
    expect(md).toMatch(/# variant ours\nfastglt prune [^\n]*--keep-self-loops/);
    expect(renderSvg(a, "cora", "gcn")).toContain("FastGLT graph [ours]");
    // the flags from the argv when a record does not carry them
    expect(extraFlagsOf({ ...f.runs[3], extraArgs: undefined }, false)).toEqual(["--keep-self-loops", "--normalisation", "kept"]);
  });

  it("without variants the labels are as before", () => {
    const f = file();
    f.runs = f.runs.slice(0, 2);
    const md = renderMarkdown(f, analyze(f), { json: "x.json", svg: () => "x.svg" });
    expect(md).not.toMatch(/Variants|\[faithful\]/);
    expect(md).toMatch(/\| FastGLT graph +\| measured +\| 35\.0%/);
  });
});

describe("mergeBenchFiles", () => {
  const session = (started: string) => ({ command: `bench ${started}`, started, finished: started, machine: {} as never, loadAvgEnd: null, interrupted: false });
  const file = (runs: { key: string; status: string }[], dense: { key: string; status: string }[], started: string): BenchFile =>
    ({ schema: "fastglt/ticket-search/1", quick: false, config: {}, sessions: [session(started)], dense, runs, analysis: {} }) as unknown as BenchFile;

  it("adds the other file's records by key, replaces unfinished ones by finished ones, keeps the base's finished ones, orders sessions and drops the stale analysis", () => {
    const base = file([{ key: "a", status: "done" }, { key: "b", status: "interrupted" }], [{ key: "d0", status: "done" }], "2026-11-25T12:00:00Z");
    const other = file([{ key: "a", status: "done", extra: 1 } as never, { key: "b", status: "done" }, { key: "c", status: "done" }], [{ key: "d0", status: "done" }, { key: "d1", status: "done" }], "2026-11-25T11:00:00Z");
    const m = mergeBenchFiles(base, other);
    expect(m.added).toBe(2);
    expect(m.replaced).toBe(1);
    expect(m.file.runs.map((r) => [r.key, r.status])).toEqual([["a", "done"], ["b", "done"], ["c", "done"]]);
    expect((m.file.runs[0] as unknown as { extra?: number }).extra).toBeUndefined();
    expect(m.file.dense.map((d) => d.key)).toEqual(["d0", "d1"]);
    expect(m.file.sessions.map((s) => s.started)).toEqual(["2026-11-25T11:00:00Z", "2026-11-25T12:00:00Z"]);
    expect(m.file.analysis).toBeUndefined();
    expect(mergeBenchFiles(m.file, other).added).toBe(0);
    const rerun = mergeBenchFiles(base, other, "other");
    expect((rerun.file.runs[0] as unknown as { extra?: number }).extra).toBe(1);
    expect(rerun.replaced).toBe(3);
  });

  it("refuses a variant whose name stands for other flags in the results", () => {
    const run = (args: string[]) => ({ key: `k ${args.join(" ")}`, status: "done", method: "fastglt", variant: "long", extraArgs: args });
    const base = file([run(["--denoise-epochs", "800"])], [], "2026-11-25T12:00:00Z");
    expect(() => mergeBenchFiles(base, file([run(["--denoise-epochs", "600"])], [], "2026-11-25T13:00:00Z"))).toThrow(/variant long has --fastglt-args="--denoise-epochs 600" here and "--denoise-epochs 800"/);
    expect(mergeBenchFiles(base, file([run(["--denoise-epochs", "800"])], [], "2026-11-25T13:00:00Z")).added).toBe(0);
  });

  it("refuses a quick bench into a full one", () => {
    const quick = { ...file([], [], "2026-11-25T12:00:00Z"), quick: true };
    expect(() => mergeBenchFiles(file([], [], "2026-11-25T12:00:00Z"), quick)).toThrow(/--quick bench cannot go into a full one/);
  });
});
