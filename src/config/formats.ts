import ipaddr from 'ipaddr.js';
import { parseCidr, parseIp } from '../net/ip.js';

/** Custom convict formats. Each throws an Error whose message completes "KEY: <message>". */

export function assertCidrList(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be a list of IPs or CIDRs');
  for (const entry of value) {
    if (typeof entry !== 'string' || !isIpOrCidr(entry.trim())) {
      throw new Error(`invalid IP or CIDR "${String(entry)}"`);
    }
  }
}

/** Same strict rules as net/ (dotted-quad IPv4 only), so what validates here is what the gateway can trust. */
export function isIpOrCidr(text: string): boolean {
  return (text.includes('/') ? parseCidr(text) : parseIp(text)) !== null;
}

export function assertBind(value: unknown): void {
  if (value === 'loopback' || value === 'lan') return;
  if (typeof value === 'string' && ipaddr.isValid(value)) return;
  throw new Error(`must be "loopback", "lan" or an IP literal, got "${String(value)}"`);
}

export function assertHostPortList(value: unknown): void {
  if (!Array.isArray(value)) throw new Error('must be a list of host:port');
  for (const entry of value) {
    if (typeof entry !== 'string' || parseHostPort(entry) === null) {
      throw new Error(`invalid host:port "${String(entry)}"`);
    }
  }
}

export function parseHostPort(text: string): { host: string; port: number } | null {
  const match = /^\[?([^\]\s]+?)\]?:(\d{1,5})$/.exec(text.trim());
  if (!match) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1]!, port };
}

export function assertOptionalUrl(protocols: readonly string[]) {
  return (value: unknown): void => {
    if (value === '' || value === null || value === undefined) return;
    let url: URL;
    try {
      url = new URL(String(value));
    } catch {
      throw new Error('must be a valid URL');
    }
    if (!protocols.includes(url.protocol)) {
      throw new Error(`must use ${protocols.map((p) => p.replace(':', '://')).join(' or ')}`);
    }
  };
}

export function assertHeaderName(value: unknown): void {
  if (typeof value !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) {
    throw new Error('must be a valid HTTP header name');
  }
}
