/** Exit codes: 0 ok, 1 runtime failure (gateway unreachable, refused config at start), 2 usage / invalid input. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export interface CliIo {
  out(line: string): void;
  err(line: string): void;
}

export const processIo: CliIo = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};
