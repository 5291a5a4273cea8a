/** Tables for benchmark output: GitHub markdown for results files, aligned text for the console. */

export type Align = "left" | "right";

export interface Column {
  header: string;
  align?: Align;
}

function cols(columns: (Column | string)[]): Column[] {
  return columns.map((c) => (typeof c === "string" ? { header: c, align: "right" } : { align: "right", ...c }));
}

/** A markdown table; `|` in cells is escaped. */
export function markdownTable(columns: (Column | string)[], rows: string[][]): string {
  const cs = cols(columns);
  const esc = (s: string) => s.replace(/\|/g, "\\|");
  const head = `| ${cs.map((c) => esc(c.header)).join(" | ")} |`;
  const rule = `|${cs.map((c) => (c.align === "left" ? "---" : "---:")).join("|")}|`;
  return [head, rule, ...rows.map((r) => `| ${r.map(esc).join(" | ")} |`)].join("\n");
}

/** The same table as aligned plain text (two spaces between columns). */
export function textTable(columns: (Column | string)[], rows: string[][]): string {
  const cs = cols(columns);
  const width = cs.map((c, i) => Math.max(c.header.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((s, i) => (cs[i].align === "left" ? s.padEnd(width[i]) : s.padStart(width[i]))).join("  ").trimEnd();
  return [line(cs.map((c) => c.header)), line(width.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/** Number formatting shared by the benches. */
export const fmt = {
  /** milliseconds: 3 significant digits, at least 2 decimals below 1 ms */
  ms(x: number): string {
    if (!Number.isFinite(x)) return "—";
    if (x < 1) return x.toFixed(3);
    if (x < 10) return x.toFixed(2);
    if (x < 100) return x.toFixed(1);
    return x.toFixed(0);
  },
  /** a ratio as "12.3×" */
  ratio(x: number): string {
    if (!Number.isFinite(x)) return "—";
    return `${x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`;
  },
  pct(x: number, digits = 1): string {
    return `${(100 * x).toFixed(digits)}%`;
  },
  /** a count with an SI suffix: 2.02 G, 118 M, 7.09 k */
  si(x: number): string {
    if (!Number.isFinite(x)) return "—";
    const units: [number, string][] = [[1e9, " G"], [1e6, " M"], [1e3, " k"]];
    for (const [d, u] of units) if (Math.abs(x) >= d) return `${(x / d).toPrecision(3)}${u}`;
    return String(Math.round(x));
  },
  /** a small number in scientific notation: 3.1e-7 */
  sci(x: number): string {
    if (!Number.isFinite(x)) return String(x);
    return x === 0 ? "0" : x.toExponential(1);
  },
  /** bytes as KiB / MiB */
  bytes(x: number): string {
    if (x >= 2 ** 20) return `${(x / 2 ** 20).toFixed(2)} MiB`;
    return `${(x / 1024).toFixed(1)} KiB`;
  },
};
