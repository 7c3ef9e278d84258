import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { parseIp } from './ip.js';

/** Any of these means a proxy is in the path, so the request is not a local one even from a loopback peer. */
export const FORWARDING_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto', 'x-real-ip'] as const;

const LOOPBACK_HOST = /^(?:localhost|127\.0\.0\.1|\[::1\]|::1)(?::\d{1,5})?$/i;

/** 127.0.0.0/8 and ::1 (IPv4-mapped forms included). */
export function isLoopbackIp(ip: string): boolean {
  if (isIP(ip) === 4) return ip.startsWith('127.'); // dotted-quad decimal only: the first octet is the text before the dot
  const parsed = parseIp(ip);
  if (!parsed) return false;
  return parsed.range() === 'loopback';
}

/** `localhost`, `127.0.0.1` or `[::1]`, with any port. */
export function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  if (host === '::1') return true;
  return LOOPBACK_HOST.test(host) && !host.startsWith('::1:');
}

export function hasForwardingHeaders(headers: IncomingHttpHeaders): boolean {
  return FORWARDING_HEADERS.some((name) => headers[name] !== undefined);
}
