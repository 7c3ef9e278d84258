import { randomBytes } from 'node:crypto';
import { COMMON_OPTIONS, parse, UsageError } from './args.js';
import { EXIT, type CliIo } from './io.js';

export const tokenHelp = `Usage: openclaw token generate
Prints 64 lowercase hex characters (32 random bytes), like \`openssl rand -hex 32\`.`;

export async function tokenCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS);
  if (values.help) {
    io.out(tokenHelp);
    return EXIT.ok;
  }
  if (positionals[0] !== 'generate' || positionals.length > 1) throw new UsageError('usage: openclaw token generate');
  io.out(randomBytes(32).toString('hex'));
  return EXIT.ok;
}
