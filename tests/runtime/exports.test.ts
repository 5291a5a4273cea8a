// `import { loadModel } from "fastglt/runtime"` as a user of the published package sees it:
// package.json's exports["./runtime"] resolved by Node against the compiled entry. The entry and
// its import graph are compiled with the project's tsconfig into a throwaway node_modules/fastglt
// (so the test never depends on, or writes, the shared dist/), then a plain Node process imports
// it by package name and runs a trained ticket.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { loadModel } from "../../runtime-wasm/host/index.js";
import { repoRoot } from "../helpers/paths.js";
import { trainedTicketBytes, trainedTicketFile } from "./trained.js";

describe('package export "fastglt/runtime"', () => {
  let ticketFile: string;
  beforeAll(async () => {
    ticketFile = await trainedTicketFile();
  }, 300_000);

  it("maps to the compiled host entry, which imports by package name, loads a .glt and answers run/predict/profile", async () => {
    const pkg = JSON.parse(readFileSync(join(repoRoot, "package.json"), "utf8"));
    expect(pkg.exports["./runtime"]).toBe("./dist/runtime-wasm/host/index.js");
    expect(pkg.type).toBe("module");

    const T = mkdtempSync(join(tmpdir(), "fastglt-exports-"));
    const pkgDir = join(T, "node_modules", "fastglt");
    mkdirSync(pkgDir, { recursive: true });
    copyFileSync(join(repoRoot, "package.json"), join(pkgDir, "package.json"));
    writeFileSync(
      join(T, "tsconfig.json"),
      JSON.stringify({
        extends: join(repoRoot, "tsconfig.json"),
        compilerOptions: { rootDir: repoRoot, outDir: join(pkgDir, "dist"), sourceMap: false, typeRoots: [join(repoRoot, "node_modules/@types")] },
        files: [join(repoRoot, "runtime-wasm/host/index.ts")],
        include: [],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(repoRoot, "node_modules/typescript/bin/tsc"), "-p", join(T, "tsconfig.json")], { encoding: "utf8", timeout: 120_000 });
    expect(tsc.stdout + tsc.stderr).toBe("");
    expect(tsc.status).toBe(0);
    const entry = join(pkgDir, pkg.exports["./runtime"]);
    expect(existsSync(entry)).toBe(true);
    expect(existsSync(entry.replace(/\.js$/, ".d.ts"))).toBe(true);
    // the runtime's one package dependency, as an installed package would find it
    symlinkSync(join(repoRoot, "node_modules/protobufjs"), join(T, "node_modules/protobufjs"), "dir");

    writeFileSync(
      join(T, "check.mjs"),
      [
        'import { readFileSync } from "node:fs";',
        'import { loadModel, loadModelSync, ModelError } from "fastglt/runtime";',
        "const bytes = new Uint8Array(readFileSync(process.argv[2]));",
        "const model = await loadModel(bytes);",
        "const logits = model.run();",
        "const q = model.predict([0, 5, 5]);",
        "const p = model.profile({ nodes: [7] });",
        "let rejected = false;",
        "try { loadModelSync(bytes.subarray(0, 100)); } catch (e) { rejected = e.name === 'TicketFormatError'; }",
        "const C = model.numClasses;",
        "const want = [...logits.subarray(0, C), ...logits.subarray(5 * C, 6 * C), ...logits.subarray(5 * C, 6 * C)];",
        "const queryExact = want.every((x, i) => x === q[i]);",
        "console.log(JSON.stringify({ n: model.numNodes, c: C, logits: Array.from(logits.subarray(0, 8)), queryExact, macs: p.executedMacs, layers: p.layers.length, rejected, modelError: typeof ModelError }));",
      ].join("\n"),
    );
    const r = spawnSync(process.execPath, [join(T, "check.mjs"), ticketFile], { cwd: T, encoding: "utf8", timeout: 60_000 });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout);
    const m = await loadModel(await trainedTicketBytes());
    const logits = m.run();
    expect(out.n).toBe(m.numNodes);
    expect(out.c).toBe(m.numClasses);
    // the other process may time its way to other weight kernels: equal up to rounding
    const scale = Math.max(...Array.from(logits.subarray(0, 8), Math.abs));
    out.logits.forEach((x: number, i: number) => expect(Math.abs(x - logits[i])).toBeLessThanOrEqual(1e-5 * scale));
    expect(out.queryExact).toBe(true);
    expect(out.macs).toBeGreaterThan(0);
    expect(out.layers).toBe(2);
    expect(out.rejected).toBe(true);
    expect(out.modelError).toBe("function");
  });
});
