import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { repoRoot } from "./paths.js";

/** Runs the CLI from source (through tsx) as a user would, in a child process. */
export function runCli(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ["--import", "tsx", resolve(repoRoot, "cli/entry.ts"), ...args], {
    cwd: repoRoot,
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 300_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
