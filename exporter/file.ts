/** Node-only helpers to write and read .glt files. (The edge runtime uses protobuf.ts directly.) */
import { randomBytes } from "node:crypto";
import { open, readFile, rename, stat, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import type { Ticket } from "../ticket/ticket.js";
import { TicketFormatError } from "./errors.js";
import { decodeTicket, encodeTicket, type EncodeOptions } from "./protobuf.js";

/**
 * Writes `bytes` to `path` atomically: they go to a temporary file in the same directory, are
 * fsynced, then renamed over `path`, so a crash leaves either the old file or the new one, never half
 * a file (and a failed write leaves no temporary file behind). The rename is made durable by an
 * fsync of the directory where the platform allows it.
 */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
  try {
    const fh = await open(tmp, "wx", 0o644);
    try {
      await fh.writeFile(bytes);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw e;
  }
  // Best effort: directories cannot be opened/fsynced everywhere.
  try {
    const dh = await open(dir, "r");
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  } catch {
    /* ignore */
  }
}

/**
 * Encodes `ticket` (validating it first) and writes it to `path` atomically (writeFileAtomic).
 * Returns the number of bytes written.
 */
export async function writeTicketFile(path: string, ticket: Ticket, opts: EncodeOptions = {}): Promise<number> {
  const bytes = encodeTicket(ticket, opts);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}

export interface ReadTicketOptions {
  /** Refuse files larger than this many bytes before reading them (default 2 GiB). */
  maxBytes?: number;
}

/** Reads and decodes a .glt file; a bad file throws TicketFormatError with `file` set to `path`. */
export async function readTicketFile(path: string, opts: ReadTicketOptions = {}): Promise<Ticket> {
  const maxBytes = opts.maxBytes ?? 2 ** 31;
  const size = (await stat(path)).size;
  if (size > maxBytes) throw new TicketFormatError("", `file is ${size} bytes, over the ${maxBytes}-byte limit`, { file: path });
  const bytes = await readFile(path);
  try {
    return decodeTicket(bytes);
  } catch (e) {
    if (e instanceof TicketFormatError) throw new TicketFormatError(e.where, e.problem, { file: path, cause: e });
    throw e;
  }
}
