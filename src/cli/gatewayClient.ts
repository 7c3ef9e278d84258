import { isIP } from 'node:net';
import { ConfigError, clientSettings, loadConfig, processEnvironment, type ClientSettings } from '../config/index.js';
import { UsageError } from './args.js';

export class GatewayUnreachableError extends Error {
  readonly code = 'ERR_GATEWAY_UNREACHABLE';
}

/**
 * Where client commands talk to, and how they authenticate: OPENCLAW_GATEWAY_TOKEN, else as a loopback client.
 * With a config file (--config or OPENCLAW_CONFIG) the gateway it describes is the default: its port (and
 * IP-literal bind), and its token or password when OPENCLAW_GATEWAY_TOKEN is not set.
 */
export function resolveClient(urlFlag: string | undefined, configFile?: string): ClientSettings {
  const env = processEnvironment();
  const settings = clientSettings(env, urlFlag);
  const file = configFile ?? env.OPENCLAW_CONFIG;
  if (!file) return settings;
  let config;
  try {
    config = loadConfig({ file, env }, { checkRules: false }).config;
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(`--config ${file}: ${error.message}`);
    throw error;
  }
  const url = urlFlag ?? env.OPENCLAW_GATEWAY_URL ?? `http://${hostFor(config.bind)}:${config.port}`;
  const token = settings.token ?? (config.auth.token || config.auth.password || undefined);
  return { url: url.replace(/\/+$/, ''), token };
}

/** The address a local client reaches a gateway bound with `bind` on. */
function hostFor(bind: string): string {
  if (isIP(bind) === 0 || bind === '0.0.0.0' || bind === '::') return '127.0.0.1'; // loopback, lan, all interfaces
  return isIP(bind) === 6 ? `[${bind}]` : bind;
}

export function authHeaders(client: ClientSettings): Record<string, string> {
  return client.token ? { authorization: `Bearer ${client.token}` } : {};
}

/** GET a JSON route; failures become one readable sentence naming the URL and the cause. */
export async function getJson(client: ClientSettings, path: string, timeoutMs = 5_000): Promise<{ status: number; body: unknown }> {
  let response: Response;
  try {
    response = await fetch(`${client.url}${path}`, {
      headers: { accept: 'application/json', ...authHeaders(client) },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new GatewayUnreachableError(`Gateway not reachable at ${client.url}: ${describeFetchError(error)}`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // keep the text
  }
  return { status: response.status, body };
}

export function describeFetchError(error: unknown): string {
  const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
  const code = cause?.code ?? (error as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found (${cause?.message ?? code})`;
    case 'ECONNRESET':
      return 'connection reset';
    case 'ETIMEDOUT':
      return 'connection timed out';
    default:
      if ((error as Error).name === 'TimeoutError') return 'no answer within 5 s';
      return cause?.message ?? (error as Error).message;
  }
}

export function errorMessageOf(body: unknown): string {
  const message = (body as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof message === 'string' ? message : JSON.stringify(body);
}
