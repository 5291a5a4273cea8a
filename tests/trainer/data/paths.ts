import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(fileURLToPath(new URL("../../..", import.meta.url)));
export const sharedData = resolve(repoRoot, "../shared/data");
export const rawDir = join(sharedData, "planetoid");
export const flatDir = (name: string) => join(sharedData, "planetoid-npz-free", name);
export const tempDir = (tag: string) => mkdtempSync(join(tmpdir(), `fastglt-data-${tag}-`));
