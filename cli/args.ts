import { parseArgs } from "node:util";

/** A user mistake on the command line: printed as one line, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

export type FlagSpec = Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean; help: string }>;

export function parseFlags<S extends FlagSpec>(argv: string[], spec: S): { values: Record<keyof S, string | boolean | undefined>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(
        Object.entries(spec).map(([k, v]) => [k, { type: v.type, ...(v.short ? { short: v.short } : {}), ...(v.default !== undefined ? { default: v.default } : {}) }]),
      ),
      allowPositionals: true,
      strict: true,
    });
    return { values: values as Record<keyof S, string | boolean | undefined>, positionals };
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

export function numberFlag(value: string | boolean | undefined, name: string, check: { min?: number; max?: number; integer?: boolean; maxExclusive?: boolean } = {}): number {
  const n = Number(value);
  if (typeof value !== "string" || value.trim() === "" || !Number.isFinite(n)) throw new UsageError(`--${name} must be a number, got "${String(value)}"`);
  if (check.integer && !Number.isInteger(n)) throw new UsageError(`--${name} must be an integer, got ${value}`);
  if (check.min !== undefined && n < check.min) throw new UsageError(`--${name} must be ≥ ${check.min}, got ${value}`);
  if (check.max !== undefined && (check.maxExclusive ? n >= check.max : n > check.max)) {
    throw new UsageError(`--${name} must be ${check.maxExclusive ? "<" : "≤"} ${check.max}, got ${value}`);
  }
  return n;
}

export function helpText(command: string, summary: string, spec: FlagSpec): string {
  const lines = [`usage: fastglt ${command} [options]`, "", summary, "", "options:"];
  for (const [k, v] of Object.entries(spec)) {
    const flag = `--${k}${v.type === "string" ? " VALUE" : ""}`;
    const def = v.default !== undefined && v.default !== false ? ` (default: ${String(v.default)})` : "";
    lines.push(`  ${flag.padEnd(26)} ${v.help}${def}`);
  }
  return lines.join("\n");
}
