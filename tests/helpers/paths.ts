// Paths the tests share: the repository root and the data sets in ../shared/data beside it.
import { join, resolve } from "node:path";

export const repoRoot = resolve(import.meta.dirname, "../..");
export const sharedData = resolve(repoRoot, "../shared/data");
/** The raw Planetoid files (ind.cora.x, ...). */
export const rawDir = join(sharedData, "planetoid");
/** One data set's planetoid-npz-free conversion (flat arrays). */
export const flatDir = (name: string) => join(sharedData, "planetoid-npz-free", name);
