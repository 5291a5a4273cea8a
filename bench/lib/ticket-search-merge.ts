import { conflictingVariantRun, type BenchFile } from "./ticket-search-report.js";

/**
 * `base` with what `other` adds: benches run in parallel (each with its own --out and --work, as
 * one process per core) end up in one results file. Records are matched by key; a finished record
 * replaces an unfinished one, and of two finished records the base's is kept (it is what the
 * report already showed) unless `prefer` is "other" (a rerun of the same runs). Sessions are
 * concatenated in start order. A variant name must stand for the same flags in both files.
 */
export function mergeBenchFiles(base: BenchFile, other: BenchFile, prefer: "base" | "other" = "base"): { file: BenchFile; added: number; replaced: number } {
  if (other.schema !== base.schema) throw new Error(`merge: schema ${other.schema} is not ${base.schema}`);
  if (other.quick !== base.quick) throw new Error(`merge: a ${other.quick ? "--quick" : "full"} bench cannot go into a ${base.quick ? "--quick" : "full"} one`);
  for (const r of other.runs) {
    if (r.method !== "fastglt" || !r.variant || !r.extraArgs) continue;
    const clash = conflictingVariantRun(base.runs, r.variant, r.extraArgs);
    if (clash) throw new Error(`merge: variant ${r.variant} has --fastglt-args="${r.extraArgs.join(" ")}" here and "${clash.extraArgs!.join(" ")}" in the results: one name per set of flags`);
  }
  let added = 0;
  let replaced = 0;
  const mergeRecords = <T extends { key: string; status: string }>(into: T[], from: T[]): T[] => {
    const out = [...into];
    for (const r of from) {
      const i = out.findIndex((x) => x.key === r.key);
      if (i < 0) {
        out.push(r);
        added++;
      } else if (r.status === "done" && (out[i].status !== "done" || prefer === "other")) {
        out[i] = r;
        replaced++;
      }
    }
    return out;
  };
  const dense = mergeRecords(base.dense, other.dense);
  const runs = mergeRecords(base.runs, other.runs);
  const sessions = [...base.sessions, ...other.sessions.filter((s) => !base.sessions.some((b) => b.started === s.started && b.command === s.command))];
  sessions.sort((a, b) => a.started.localeCompare(b.started));
  const { analysis: _stale, ...rest } = base;
  return { file: { ...rest, sessions, dense, runs }, added, replaced };
}
