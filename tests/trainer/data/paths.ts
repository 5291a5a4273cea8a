import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export { flatDir, rawDir, sharedData } from "../../helpers/paths.js";
export const tempDir = (tag: string) => mkdtempSync(join(tmpdir(), `fastglt-data-${tag}-`));
