/** The only place that reads the process environment; everything else receives what it needs. */
export function processEnvironment(): NodeJS.ProcessEnv {
  return process.env;
}

export const DEFAULT_GATEWAY_URL = 'http://127.0.0.1:18789';

export interface ClientSettings {
  readonly url: string;
  readonly token: string | undefined;
}

/** Where client commands find the gateway and which secret they present (none = loopback client). */
export function clientSettings(env: NodeJS.ProcessEnv, urlFlag: string | undefined): ClientSettings {
  const url = urlFlag ?? env.OPENCLAW_GATEWAY_URL ?? DEFAULT_GATEWAY_URL;
  const token = env.OPENCLAW_GATEWAY_TOKEN || env.OPENCLAW_GATEWAY_PASSWORD || undefined;
  return { url: url.replace(/\/+$/, ''), token };
}
