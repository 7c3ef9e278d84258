import { ConfigError, displayValue, loadConfig, processEnvironment } from '../config/index.js';
import { COMMON_OPTIONS, parse, UsageError } from './args.js';
import { EXIT, type CliIo } from './io.js';

export const configHelp = `Usage:
  openclaw config get <key> [--config FILE]    print the effective value (defaults < file < env < flags); secrets print as ********
  openclaw config validate [--config FILE]     exit 0 when valid, exit 2 naming each bad key`;

export async function configCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, COMMON_OPTIONS);
  const [action, key, ...rest] = positionals;
  if (values.help || action === undefined) {
    io.out(configHelp);
    return values.help ? EXIT.ok : EXIT.usage;
  }
  if (action === 'validate') {
    if (key !== undefined) throw new UsageError(`config validate takes no argument, got "${key}"`);
    return validate(values.config, io);
  }
  if (action === 'get') {
    if (key === undefined || rest.length > 0) throw new UsageError('config get takes exactly one key, e.g. gateway.port');
    return get(key, values.config, io);
  }
  throw new UsageError(`unknown config action "${action}" (get, validate)`);
}

function validate(file: string | undefined, io: CliIo): number {
  try {
    loadConfig({ file, env: processEnvironment() });
    io.out('configuration is valid');
    return EXIT.ok;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    for (const problem of error.problems) io.err(`${problem.key}: ${problem.message}`);
    return EXIT.usage;
  }
}

function get(key: string, file: string | undefined, io: CliIo): number {
  let instance;
  try {
    instance = loadConfig({ file, env: processEnvironment() }, { checkRules: false }).instance;
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
