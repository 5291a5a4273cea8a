/** Progress lines for long work, on stderr so that `--json` output on stdout stays clean. */
export interface Progress {
  update(phase: string, done: number, total: number, fields: Record<string, string | number>): void;
  message(text: string): void;
  end(): void;
}

export const silentProgress: Progress = { update() {}, message() {}, end() {} };

export function terminalProgress(stream: NodeJS.WriteStream = process.stderr): Progress {
  const tty = Boolean(stream.isTTY);
  const phaseStart = new Map<string, number>();
  let lastPrinted = 0;
  let pending = false;
  return {
    update(phase, done, total, fields) {
      const now = performance.now();
      if (!phaseStart.has(phase)) phaseStart.set(phase, now);
      const elapsed = (now - phaseStart.get(phase)!) / 1000;
      const eta = done > 0 ? (elapsed / done) * (total - done) : 0;
      const parts = Object.entries(fields).map(([k, v]) => `${k} ${typeof v === "number" ? formatNumber(v) : v}`);
      const line = `[${phase}] ${done}/${total} ${parts.join("  ")}  ${elapsed.toFixed(1)}s, ~${eta.toFixed(0)}s left`;
      if (tty) {
        if (now - lastPrinted < 100 && done < total) return;
        stream.write(`\r\x1b[2K${line}`);
        pending = true;
        if (done >= total) {
          stream.write("\n");
          pending = false;
        }
      } else if (now - lastPrinted > 2000 || done >= total) {
        stream.write(`${line}\n`);
      } else return;
      lastPrinted = now;
    },
    message(text) {
      if (pending) stream.write("\n");
      pending = false;
      stream.write(`${text}\n`);
    },
    end() {
      if (pending) stream.write("\n");
      pending = false;
    },
  };
}

function formatNumber(v: number): string {
  return Number.isInteger(v) ? String(v) : v.toFixed(4);
}
