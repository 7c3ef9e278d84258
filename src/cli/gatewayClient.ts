import { clientSettings, processEnvironment, type ClientSettings } from '../config/index.js';

export class GatewayUnreachableError extends Error {
  readonly code = 'ERR_GATEWAY_UNREACHABLE';
}

/** Where client commands talk to, and how they authenticate: OPENCLAW_GATEWAY_TOKEN, else as a loopback client. */
export function resolveClient(urlFlag: string | undefined): ClientSettings {
  return clientSettings(processEnvironment(), urlFlag);
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
