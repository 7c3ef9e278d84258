import type { IncomingHttpHeaders } from 'node:http';

const BEARER_PREFIX = /^Bearer /i;

/**
 * The presented secret: `Authorization: Bearer <secret>` or `X-OpenClaw-Token: <secret>`. Nothing is
 * trimmed from the secret itself: a token with a stray space is a different token.
 */
export function secretFromHeaders(headers: IncomingHttpHeaders): string | undefined {
  const authorization = headers.authorization;
  if (typeof authorization === 'string' && BEARER_PREFIX.test(authorization)) {
    const secret = authorization.slice('Bearer '.length);
    if (secret.length > 0) return secret;
  }
  const custom = headers['x-openclaw-token'];
  const value = Array.isArray(custom) ? custom[0] : custom;
  return value !== undefined && value.length > 0 ? value : undefined;
}

/** `?token=` in the URL: secrets in query strings end up in proxy and browser logs, so it is refused. */
export function hasQuerySecret(url: string | undefined): boolean {
  if (url === undefined) return false;
  const queryStart = url.indexOf('?');
  if (queryStart === -1) return false;
  return new URLSearchParams(url.slice(queryStart + 1)).has('token');
}

export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const queryStart = url.indexOf('?');
  return queryStart === -1 ? url : url.slice(0, queryStart);
}
