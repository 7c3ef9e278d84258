/**
 * Environment values as the OpenTelemetry SDK reads its OTEL_* variables: trimmed, and a blank one is unset.
 * The env is the one config/env.ts hands over, so that tests can pass their own.
 */
export function envString(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

/** A number; NaN when the variable is set to something that is not one. */
export function envNumber(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const value = envString(env, name);
  return value === undefined ? undefined : Number(value);
}

/** A comma-separated list: items trimmed, blank items dropped. */
export function envList(env: NodeJS.ProcessEnv, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}
