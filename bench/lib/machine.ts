/** What a benchmark result must carry about the machine it ran on (2 shared cores here: load matters). */
import { cpus, loadavg, totalmem } from "node:os";

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGiB: number;
  node: string;
  platform: string;
  /** 1-, 5- and 15-minute load averages when the bench started */
  loadAvgStart: number[];
}

export function machineInfo(): MachineInfo {
  const c = cpus();
  return {
    cpu: c[0]?.model.trim() ?? "unknown",
    cores: c.length,
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadAvgStart: loadavg(),
  };
}

export function loadAvg(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** The command line that produced a result, as a user would type it. */
export function commandLine(script: string): string {
  return ["npx tsx", script, ...process.argv.slice(2)].join(" ");
}
