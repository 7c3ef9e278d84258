import { ConfigError, displayValue, loadConfig, processEnvironment } from '../config/index.js';
import { COMMON_OPTIONS, parse, parsePort, UsageError } from './args.js';
import { EXIT, type CliIo } from './io.js';

export const configHelp = `Usage:
  openclaw config get <key> [--config FILE] [--port N] [--bind MODE]
        print the effective value (defaults < file < env < flags); secrets print as ********
  openclaw config validate [--config FILE] [--port N] [--bind MODE]
        exit 0 when valid, exit 2 naming each bad key`;

const CONFIG_OPTIONS = { ...COMMON_OPTIONS, port: { type: 'string' }, bind: { type: 'string' } } as const;

export async function configCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, CONFIG_OPTIONS);
  const flags = { port: parsePort(values.port), bind: values.bind };
  const [action, key, ...rest] = positionals;
  if (values.help || action === undefined) {
    io.out(configHelp);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (action === 'validate') {
    if (key !== undefined) throw new UsageError(`config validate takes no argument, got "${key}"`);
    return validate(values.config, flags, io);
  }
  if (action === 'get') {
    if (key === undefined || rest.length > 0) throw new UsageError('config get takes exactly one key, e.g. gateway.port');
    return get(key, values.config, flags, io);
  }
  throw new UsageError(`unknown config action "${action}" (get, validate)`);
}

function validate(file: string | undefined, flags: Flags, io: CliIo): number {
  try {
    loadConfig({ file, env: processEnvironment(), flags });
    io.out('configuration is valid');
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`${problem.key}: ${problem.message}`);
    return EXIT.usage;
  }
}

function get(key: string, file: string | undefined, flags: Flags, io: CliIo): number {
  let instance;
  try {
    instance = loadConfig({ file, env: processEnvironment(), flags }, { checkRules: false }).instance;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`${problem.key}: ${problem.message}`);
    return EXIT.usage;
  }
  if (!instance.has(key as never)) {
    io.err(`openclaw: unknown config key "${key}" (see README "Configuration")`);
    return EXIT.usage;
  }
  const value = displayValue(key, instance.get(key as never));
  io.out(typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : JSON.stringify(value));
  return EXIT.ok;
}

type Flags = { port: number | undefined; bind: string | undefined };
