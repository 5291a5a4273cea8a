import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PLANETOID_SHA256 } from "../../../trainer/data/checksums.js";
import { defaultCacheDir, DownloadError, ensurePlanetoidFiles } from "../../../trainer/data/download.js";
import { loadDataset } from "../../../trainer/data/load.js";
import { planetoidFileNames } from "../../../trainer/data/planetoid-raw.js";
import { flatDir, rawDir, tempDir } from "./paths.js";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

// Loopback server: /data/<file> serves the real file, /corrupt/<file> the same bytes with one
// byte flipped (for ind.citeseer.y only), /slow-fail/... a 500. Counts requests per path.
let server: Server;
let base = "";
const hits = new Map<string, number>();
const dirs: string[] = [];
const tmp = () => {
  const d = tempDir("dl");
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  server = createServer((req, res) => {
    const url = req.url ?? "/";
    hits.set(url, (hits.get(url) ?? 0) + 1);
    const m = /^\/(data|corrupt|broken)\/(ind\.[a-z]+\.[a-z.]+)$/.exec(url);
    if (!m || m[1] === "broken") {
      res.writeHead(m ? 500 : 404).end("no");
      return;
    }
    const p = join(rawDir, m[2]);
    if (!existsSync(p)) {
      res.writeHead(404).end("not found");
      return;
    }
    const body = Buffer.from(readFileSync(p));
    if (m[1] === "corrupt" && m[2] === "ind.citeseer.y") body[100] ^= 0xff;
    res.writeHead(200, { "content-type": "application/octet-stream", "content-length": body.length }).end(body);
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((ok) => server.close(ok));
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const countHits = (prefix: string) => [...hits].filter(([k]) => k.startsWith(prefix)).reduce((a, [, n]) => a + n, 0);

describe("checksum table", () => {
  it("matches every file in the shared planetoid folder and every meta.json raw_files entry", () => {
    const present = readdirSync(rawDir);
    expect(present.length).toBe(23);
    for (const f of present) {
      const b = readFileSync(join(rawDir, f));
      expect(PLANETOID_SHA256[f]?.sha256, f).toBe(sha(b));
      expect(PLANETOID_SHA256[f]?.bytes, f).toBe(b.length);
    }
    for (const name of ["cora", "citeseer", "pubmed"]) {
      const meta = JSON.parse(readFileSync(join(flatDir(name), "meta.json"), "utf8")) as { raw_files: Record<string, { sha256: string }> };
      for (const [f, info] of Object.entries(meta.raw_files)) expect(PLANETOID_SHA256[f]?.sha256, f).toBe(info.sha256);
      for (const f of planetoidFileNames(name)) expect(PLANETOID_SHA256[f], f).toBeDefined();
    }
    expect(PLANETOID_SHA256["ind.pubmed.allx"].sha256).toBe("508e538e2abdccdd54c4d3e9f49d638b4af7107d85845f66ddea5a5152658b7e");
  });
});

describe("ensurePlanetoidFiles (loopback server, no real network)", () => {
  it("downloads the 8 files into the cache, verified; a second call downloads nothing", async () => {
    const cacheDir = tmp();
    const before = countHits("/data/ind.cora.");
    const r = await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: `${base}/data/` });
    expect(r.dir).toBe(cacheDir);
    expect(r.downloaded).toEqual(planetoidFileNames("cora"));
    expect(r.cached).toEqual([]);
    expect(readdirSync(cacheDir).sort()).toEqual(planetoidFileNames("cora").sort());
    for (const f of planetoidFileNames("cora")) expect(sha(readFileSync(join(cacheDir, f)))).toBe(PLANETOID_SHA256[f].sha256);
    expect(countHits("/data/ind.cora.") - before).toBe(8);

    const again = await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: `${base}/data` });
    expect(again.downloaded).toEqual([]);
    expect(again.cached).toEqual(planetoidFileNames("cora"));
    expect(countHits("/data/ind.cora.") - before).toBe(8);
  });

  it("rejects a corrupt download, leaves nothing bad in the cache, and fetches only that file later", async () => {
    const cacheDir = tmp();
    const err = await ensurePlanetoidFiles("citeseer", { cacheDir, baseUrl: `${base}/corrupt/` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(
      new RegExp(`/corrupt/ind\\.citeseer\\.y: sha256 mismatch: expected ${PLANETOID_SHA256["ind.citeseer.y"].sha256}, got [0-9a-f]{64} \\(3014 bytes, expected 3014\\); the file was not saved`),
    );
    const left = readdirSync(cacheDir);
    expect(left).not.toContain("ind.citeseer.y");
    expect(left.filter((f) => f.includes(".part-"))).toEqual([]);
    expect(left.length).toBe(7); // the good files stay: each was verified on its own

    const before = countHits("/data/ind.citeseer.");
    const r = await ensurePlanetoidFiles("citeseer", { cacheDir, baseUrl: `${base}/data/` });
    expect(r.downloaded).toEqual(["ind.citeseer.y"]);
    expect(r.cached.length).toBe(7);
    expect(countHits("/data/ind.citeseer.") - before).toBe(1);
  });

  it("replaces a cached file whose sha256 is wrong", async () => {
    const cacheDir = tmp();
    await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: `${base}/data/` });
    writeFileSync(join(cacheDir, "ind.cora.graph"), "tampered");
    const logs: string[] = [];
    const r = await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: `${base}/data/`, log: (m) => logs.push(m) });
    expect(r.downloaded).toEqual(["ind.cora.graph"]);
    expect(logs.join("\n")).toMatch(/ind\.cora\.graph: cached copy has the wrong sha256/);
    expect(sha(readFileSync(join(cacheDir, "ind.cora.graph")))).toBe(PLANETOID_SHA256["ind.cora.graph"].sha256);
  });

  it("reports HTTP errors clearly and leaves no partial file", async () => {
    const cacheDir = tmp();
    const err = await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: `${base}/broken/` }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/8 of 8 files failed; first: .*\/broken\/ind\.cora\.[a-z.]+: HTTP 500 Internal Server Error/);
    expect(readdirSync(cacheDir)).toEqual([]);
  });

  it("PubMed goes the same way: every file is fetched and checked against the table, allx included", async () => {
    // allx is missing on this machine, so the loopback server answers 404 for it: the other 7
    // land verified and the error names the missing file.
    const cacheDir = tmp();
    const err = await ensurePlanetoidFiles("pubmed", { cacheDir, baseUrl: `${base}/data/` }).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/\/data\/ind\.pubmed\.allx: HTTP 404 Not Found/);
    expect(readdirSync(cacheDir).sort()).toEqual(planetoidFileNames("pubmed").filter((f) => f !== "ind.pubmed.allx").sort());
    expect(hits.get("/data/ind.pubmed.allx")).toBe(1);
  });

  it("uses fetchImpl when given, and a connection failure is a DownloadError", async () => {
    const cacheDir = tmp();
    const seen: string[] = [];
    const fetchImpl: typeof fetch = async (input) => {
      const url = String(input);
      seen.push(url);
      return new Response(readFileSync(join(rawDir, url.slice(url.lastIndexOf("/") + 1))));
    };
    const r = await ensurePlanetoidFiles("cora", { cacheDir, baseUrl: "https://example.invalid/planetoid/data/", fetchImpl });
    expect(r.downloaded.length).toBe(8);
    expect(seen.sort()).toEqual(planetoidFileNames("cora").map((f) => `https://example.invalid/planetoid/data/${f}`).sort());

    const dead = `http://127.0.0.1:1/`;
    const err = await ensurePlanetoidFiles("cora", { cacheDir: tmp(), baseUrl: dead }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DownloadError);
    expect((err as Error).message).toMatch(/request failed/);
  });

  it("default cache dir honours XDG_CACHE_HOME", () => {
    const old = process.env.XDG_CACHE_HOME;
    try {
      process.env.XDG_CACHE_HOME = "/tmp/xdg-test";
      expect(defaultCacheDir()).toBe("/tmp/xdg-test/fastglt/planetoid");
      delete process.env.XDG_CACHE_HOME;
      expect(defaultCacheDir()).toMatch(/\/\.cache\/fastglt\/planetoid$/);
    } finally {
      if (old === undefined) delete process.env.XDG_CACHE_HOME;
      else process.env.XDG_CACHE_HOME = old;
    }
  });

  it("loadDataset('cora') without a data dir downloads into the cache and loads", async () => {
    const cacheDir = tmp();
    const old = process.env.FASTGLT_DATA;
    delete process.env.FASTGLT_DATA;
    try {
      const g = await loadDataset("cora", { cacheDir, baseUrl: `${base}/data/` });
      expect([g.numNodes, g.edgeSrc.length, g.numClasses]).toEqual([2708, 10556, 7]);
    } finally {
      if (old !== undefined) process.env.FASTGLT_DATA = old;
    }
  });
});
