#!/usr/bin/env node
// The CLI runs from the compiled output; `npm run build` (or `npm start`) makes it.
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const entry = new URL("../dist/cli/entry.js", import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write("fastglt: not built yet; run `npm run build` in the fastglt folder first\n");
  process.exit(1);
}
await import(entry.href);
