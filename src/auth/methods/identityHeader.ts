import type { IncomingHttpHeaders } from 'node:http';

const MAX_IDENTITY_LENGTH = 256;
const PRINTABLE = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

/** A non-empty, printable, bounded identity from a header set by a proxy, or undefined. */
export function identityFromHeader(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name.toLowerCase()];
  const value = (Array.isArray(raw) ? raw[0] : raw)?.trim();
  if (!value || value.length > MAX_IDENTITY_LENGTH || !PRINTABLE.test(value)) return undefined;
  return value;
}
