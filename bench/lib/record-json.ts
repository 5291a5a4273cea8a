/**
 * JSON for result files that grow with every run: objects are indented, and an array of objects
 * or arrays puts each element, compact, on a line of its own. A run is one line in a diff, and the
 * file stays about the size of compact JSON (an indented ticket-search.json passed 1 MiB at 186 runs).
 */
export function recordJson(value: unknown): string {
  return `${format(value, "")}\n`;
}

function format(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (!value.some((v) => v !== null && typeof v === "object")) return JSON.stringify(value);
    return `[\n${value.map((v) => inner + (JSON.stringify(v) ?? "null")).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined && typeof v !== "function");
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${format(v, inner)}`).join(",\n")}\n${indent}}`;
}
