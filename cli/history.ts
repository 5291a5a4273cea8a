/**
 * `fastglt prune --history FILE`: the search's learning curve as CSV, one row per epoch, written
 * as the run goes (a row per epoch is appended, so a killed run keeps what it did). A resumed run
 * keeps the rows up to its checkpoint and drops the ones after it, which it runs again.
 */
import { appendFileSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { EpochRecord } from "../trainer/prune/search.js";

export const HISTORY_HEADER = "epoch,phase,loss,train_accuracy,val_accuracy,test_accuracy,graph_sparsity,graph_sparsity_with_self_loops,weight_sparsity,seconds";

function row(r: EpochRecord): string {
  const phase = r.phase.includes(",") ? `"${r.phase}"` : r.phase;
  return [r.epoch, phase, r.loss, r.trainAccuracy, r.valAccuracy, r.testAccuracy, r.graphSparsity, r.graphSparsityWithSelfLoops, r.weightSparsity, r.seconds.toFixed(3)].join(",");
}

/**
 * Starts (or, resuming after `resumedAt` epochs, continues) the history file; returns the per-epoch
 * writer. A file that is not a history of this format is refused rather than overwritten on resume.
 */
export function openHistory(path: string, resumedAt: number | null): (r: EpochRecord) => void {
  if (resumedAt !== null && existsSync(path)) {
    const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.length > 0);
    if (lines[0] !== HISTORY_HEADER) throw new Error(`--history ${path}: not a history file of this version (first line: ${JSON.stringify(lines[0]?.slice(0, 60) ?? "")}); give another path`);
    const kept = lines.slice(1).filter((l) => Number(l.slice(0, l.indexOf(","))) <= resumedAt);
    const tmp = `${path}.${process.pid}.tmp`;
    writeFileSync(tmp, `${[HISTORY_HEADER, ...kept].join("\n")}\n`);
    renameSync(tmp, path);
  } else {
    writeFileSync(path, `${HISTORY_HEADER}\n`);
  }
  return (r) => appendFileSync(path, `${row(r)}\n`);
}
