#!/usr/bin/env node
import { UsageError } from './cli/args.js';
import { EXIT, processIo, type CliIo } from './cli/io.js';
import { VERSION } from './version.js';

type Command = (argv: string[], io: CliIo) => Promise<number>;

// Commands load on demand: `config get` or `token generate` should not pay for fastify, ioredis and the
// OpenTelemetry SDK that only `gateway` needs.
const COMMANDS: Record<string, { load: () => Promise<Command>; summary: string }> = {
  gateway: { load: async () => (await import('./cli/gatewayCommand.js')).gatewayCommand, summary: 'run one gateway replica' },
  status: { load: async () => (await import('./cli/statusCommand.js')).statusCommand, summary: 'ask a running gateway for its status' },
  config: { load: async () => (await import('./cli/configCommand.js')).configCommand, summary: 'config get <key> | config validate' },
  token: { load: async () => (await import('./cli/tokenCommand.js')).tokenCommand, summary: 'token generate: print a new random token' },
  logs: { load: async () => (await import('./cli/logsCommand.js')).logsCommand, summary: 'print the gateway log lines (-f follows, -n N)' },
  devices: { load: async () => (await import('./cli/devicesCommand.js')).devicesCommand, summary: 'devices pending|list|approve|reject|rotate|revoke' },
};

const HELP = `Usage: openclaw <command> [options]

Commands:
${Object.entries(COMMANDS)
  .map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`)
  .join('\n')}

Every command accepts --config FILE (same as OPENCLAW_CONFIG) and --help.
openclaw --version prints the version.`;

export async function main(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v' || name === 'version') {
    io.out(VERSION);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) {
    io.err(`openclaw: unknown command "${name}"\n\n${HELP}`);
    return EXIT.usage;
  }
  try {
    const run = await command.load();
    return await run(rest, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`openclaw ${name}: ${error.message} (see openclaw ${name} --help)`);
      return EXIT.usage;
    }
    io.err(`openclaw ${name}: ${(error as Error).message}`);
    return EXIT.failure;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`openclaw: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = EXIT.failure;
  },
);
