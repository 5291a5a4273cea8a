/**
 * The one error type the .glt encoder and decoder throw for bad data. `where` names the offending
 * part (e.g. "layers[1].weight.rowPtr", "header", "container"), "" for the input as a whole; `file`
 * is set by the file helpers. The message starts with both, so it reads on its own.
 */
export class TicketFormatError extends Error {
  readonly where: string;
  readonly problem: string;
  readonly file: string | undefined;
  constructor(where: string, problem: string, options?: { file?: string; cause?: unknown }) {
    const at = [options?.file, where].filter((s) => s).join(": ");
    super(at ? `${at}: ${problem}` : problem, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = "TicketFormatError";
    this.where = where;
    this.problem = problem;
    this.file = options?.file;
  }
}
