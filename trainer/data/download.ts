/**
 * Downloads the raw Planetoid files of one dataset into a cache directory, verifying each file's
 * sha256 (checksums.ts) before it is moved into place: a download goes to a temporary file in the
 * cache directory and is renamed only when its hash is right, so a failed or corrupt download
 * never leaves a bad file under the final name. Files already cached with the right hash are not
 * downloaded again.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { PLANETOID_SHA256 } from "./checksums.js";
import { planetoidFileNames } from "./planetoid-raw.js";

export const DEFAULT_PLANETOID_BASE_URL = "https://github.com/kimiyoung/planetoid/raw/master/data/";

/** The largest file accepted from the server (ind.pubmed.allx is about 7.6 MB). */
const MAX_BYTES = 64 * 1024 * 1024;

export class DownloadError extends Error {
  constructor(
    readonly url: string,
    problem: string,
  ) {
    super(`${url}: ${problem}`);
    this.name = "DownloadError";
  }
}

export interface EnsureOptions {
  /** default: $XDG_CACHE_HOME/fastglt/planetoid, else ~/.cache/fastglt/planetoid */
  cacheDir?: string;
  /** default: DEFAULT_PLANETOID_BASE_URL; file names are appended */
  baseUrl?: string;
  /** default: the global fetch */
  fetchImpl?: typeof fetch;
  /** per-file timeout in ms (default 120 s) */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

export interface EnsureResult {
  /** the directory holding the dataset's ind.* files */
  dir: string;
  /** file names downloaded by this call */
  downloaded: string[];
  /** file names that were already cached with the right sha256 */
  cached: string[];
}

export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  return join(xdg && xdg.length > 0 ? xdg : join(homedir(), ".cache"), "fastglt", "planetoid");
}

export async function sha256File(path: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}

/** Makes sure the 8 `ind.<name>.*` files are in the cache with the right sha256, downloading what is missing. */
export async function ensurePlanetoidFiles(name: string, opts: EnsureOptions = {}): Promise<EnsureResult> {
  const files = planetoidFileNames(name);
  for (const f of files) if (!PLANETOID_SHA256[f]) throw new Error(`ensurePlanetoidFiles: '${name}' is not a Planetoid dataset (cora, citeseer, pubmed)`);
  const dir = opts.cacheDir ?? defaultCacheDir();
  await mkdir(dir, { recursive: true });
  const baseUrl = (opts.baseUrl ?? DEFAULT_PLANETOID_BASE_URL).replace(/\/?$/, "/");
  const fetchImpl = opts.fetchImpl ?? globalThis.fetch;
  const log = opts.log ?? (() => {});
  const downloaded: string[] = [];
  const cached: string[] = [];
  const results = await Promise.allSettled(
    files.map(async (f) => {
      const dest = join(dir, f);
      const want = PLANETOID_SHA256[f].sha256;
      if (existsSync(dest)) {
        if ((await sha256File(dest)) === want) {
          cached.push(f);
          return;
        }
        log(`${dest}: cached copy has the wrong sha256, downloading it again`);
      }
      await downloadVerified(fetchImpl, baseUrl + f, dest, want, PLANETOID_SHA256[f].bytes, opts.timeoutMs ?? 120_000);
      log(`downloaded ${f}`);
      downloaded.push(f);
    }),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failed.length > 0) {
    const first = failed[0].reason as Error;
    if (failed.length === 1) throw first;
    throw new DownloadError(baseUrl, `${failed.length} of ${files.length} files failed; first: ${first.message}`);
  }
  const order = (a: string, b: string) => files.indexOf(a) - files.indexOf(b);
  return { dir, downloaded: downloaded.sort(order), cached: cached.sort(order) };
}

async function downloadVerified(
  fetchImpl: typeof fetch,
  url: string,
  dest: string,
  sha256: string,
  bytes: number | null,
  timeoutMs: number,
): Promise<void> {
  const tmp = `${dest}.part-${process.pid}-${randomBytes(4).toString("hex")}`;
  let res: Response;
  try {
    res = await fetchImpl(url, { redirect: "follow", signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new DownloadError(url, `request failed: ${(e as Error).message}${(e as { cause?: Error }).cause ? ` (${(e as { cause: Error }).cause.message})` : ""}`);
  }
  if (!res.ok) {
    await res.body?.cancel().catch(() => {});
    throw new DownloadError(url, `HTTP ${res.status} ${res.statusText}`.trim());
  }
  if (!res.body) throw new DownloadError(url, "empty response body");
  const h = createHash("sha256");
  let size = 0;
  const fh = await open(tmp, "w");
  let ok = false;
  try {
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > MAX_BYTES) {
        await reader.cancel().catch(() => {});
        throw new DownloadError(url, `response is larger than ${MAX_BYTES} bytes`);
      }
      h.update(value);
      await fh.write(value);
    }
    await fh.sync();
    const got = h.digest("hex");
    if (got !== sha256) {
      throw new DownloadError(
        url,
        `sha256 mismatch: expected ${sha256}, got ${got} (${size} bytes${bytes !== null ? `, expected ${bytes}` : ""}); the file was not saved`,
      );
    }
    ok = true;
  } catch (e) {
    if (e instanceof DownloadError) throw e;
    throw new DownloadError(url, `download failed after ${size} bytes: ${(e as Error).message}`);
  } finally {
    await fh.close();
    if (!ok) await rm(tmp, { force: true });
  }
  await rename(tmp, dest);
}
