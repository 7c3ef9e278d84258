import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import convict from 'convict';
import { createRequire } from 'node:module';
import { fileSecretsWarning } from './fileSecretsWarning.js';
import { checkRules } from './rules.js';
import { schema } from './schema.js';
import { ConfigError, type ConfigProblem, type ConfigSources, type GatewayConfig } from './types.js';

const createInstance = (env: NodeJS.ProcessEnv) => convict(schema, { env, args: [] });
export type ConfigInstance = ReturnType<typeof createInstance>;

/**
 * Builds the effective configuration: defaults < file < env < flags.
 * Throws ConfigError listing every problem, each naming its key; `warnings` are for the operator (stderr).
 */
export function loadConfig(
  sources: ConfigSources = {},
  options: { checkRules?: boolean } = {},
): { config: GatewayConfig; instance: ConfigInstance; warnings: string[] } {
  const env = sources.env ?? {};
  const instance = createInstance(env);
  const file = sources.file ?? env.OPENCLAW_CONFIG;
  const warnings: string[] = [];
  if (file) {
    const contents = readConfigFile(file);
    const secretsWarning = fileSecretsWarning(file, contents);
    if (secretsWarning) warnings.push(secretsWarning);
    instance.load(contents);
    // convict lets load() win over env; re-apply env so env beats the file.
    reapplyEnv(instance, env);
  }
  const problems: ConfigProblem[] = [];
  if (sources.flags?.port !== undefined) setFlag(instance, 'gateway.port', sources.flags.port, problems);
  if (sources.flags?.bind !== undefined) setFlag(instance, 'gateway.bind', sources.flags.bind, problems);

  try {
    instance.validate({ allowed: 'strict' });
  } catch (error) {
    problems.push(...parseConvictErrors((error as Error).message));
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const config = toGatewayConfig(instance.getProperties().gateway as unknown as GatewayConfig);
  const ruleProblems = options.checkRules === false ? [] : checkRules(config);
  if (ruleProblems.length > 0) throw new ConfigError(ruleProblems);
  return { config, instance, warnings };
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError([{ key: 'config', message: `cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` }]);
  }
  let parsed: unknown;
  try {
    parsed = loadYaml().parse(text, { maxAliasCount: 100 });
  } catch (error) {
    const firstLine = (error as Error).message.split('\n')[0];
    throw new ConfigError([{ key: 'config', message: `${file} is not valid YAML or JSON: ${firstLine}` }]);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new ConfigError([{ key: 'config', message: `${file} must hold a mapping with the top-level key "gateway"` }]);
  }
  return parsed as Record<string, unknown>;
}

function reapplyEnv(instance: ConfigInstance, env: NodeJS.ProcessEnv): void {
  for (const [key, name] of envBindings()) {
    const value = env[name];
    if (value !== undefined) instance.set(key as never, coerceLike(instance, key, value) as never);
  }
}

function coerceLike(instance: ConfigInstance, key: string, value: string): unknown {
  const current: unknown = instance.default(key as never);
  if (typeof current === 'number') return value.trim() === '' ? Number.NaN : Number(value);
  if (typeof current === 'boolean') return value === 'true' || value === '1';
  if (Array.isArray(current)) {
    return value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
  }
  return value;
}

export function envBindings(): Array<[key: string, env: string]> {
  const out: Array<[string, string]> = [];
  const walk = (node: Record<string, unknown>, path: string[]): void => {
    for (const [name, child] of Object.entries(node)) {
      const childPath = [...path, name];
      if (child && typeof child === 'object' && 'default' in child) {
        const env = (child as { env?: string }).env;
        if (env) out.push([childPath.join('.'), env]);
      } else if (child && typeof child === 'object') {
        walk(child as Record<string, unknown>, childPath);
      }
    }
  };
  walk(schema as unknown as Record<string, unknown>, []);
  return out;
}

function setFlag(instance: ConfigInstance, key: string, value: unknown, problems: ConfigProblem[]): void {
  try {
    instance.set(key as never, value as never);
  } catch (error) {
    problems.push({ key, message: (error as Error).message });
  }
}

/** convict joins its messages with newlines; turn each into {key, message}. */
export function parseConvictErrors(message: string): ConfigProblem[] {
  return message
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0)
    .map((line) => {
      const undeclared = /configuration param '([^']+)' not declared in the schema/.exec(line);
      if (undeclared) return { key: undeclared[1]!, message: 'unknown key (not in the schema)' };
      const keyed = /^([\w.]+): (.*)$/.exec(line);
      if (keyed) return { key: keyed[1]!, message: redactValue(keyed[1]!, keyed[2]!) };
      return { key: 'config', message: line };
    });
}

function redactValue(key: string, message: string): string {
  return /token|password|apiKey/i.test(key) ? message.replace(/: value was .*$/, '') : message;
}

function toGatewayConfig(raw: GatewayConfig): GatewayConfig {
  const stateDir = raw.stateDir.startsWith('~') ? join(homedir(), raw.stateDir.slice(1)) : raw.stateDir;
  return deepFreeze({
    ...raw,
    stateDir,
    trustedProxies: raw.trustedProxies.map((s) => s.trim()),
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

// Loaded on first use only: a gateway configured by the environment alone never pays for the YAML parser.
let yamlModule: typeof import('yaml') | undefined;
function loadYaml(): typeof import('yaml') {
  yamlModule ??= createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yamlModule;
}
