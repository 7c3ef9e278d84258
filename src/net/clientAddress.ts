import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIp } from './ip.js';
import type { TrustedProxies } from './TrustedProxies.js';

export interface ClientAddress {
  /** TCP peer, normalised. */
  readonly peerIp: string;
  /** Who the request is from, as far as the trusted proxies vouch for it. */
  readonly clientIp: string;
  readonly peerIsTrustedProxy: boolean;
}

/** Peer addresses that are not IP literals (a destroyed socket) still need a stable rate-limit key. */
export const UNKNOWN_PEER = 'unknown';

/** The last answer on a keep-alive socket: its peer never changes, and a proxy's X-Forwarded-For rarely does. */
interface SocketMemo {
  readonly proxies: TrustedProxies;
  readonly forwardedFor: string | string[] | undefined;
  readonly address: ClientAddress;
}

const SOCKET_MEMO = Symbol('openclaw.clientAddress');
type MemoSocket = Socket & { [SOCKET_MEMO]?: SocketMemo };

export function resolveClientAddress(raw: IncomingMessage, proxies: TrustedProxies): ClientAddress {
  const socket = raw.socket as MemoSocket | null | undefined;
  const forwardedFor = raw.headers['x-forwarded-for'];
  const memo = socket?.[SOCKET_MEMO];
  // Same socket, same header text: the same answer (a string compare instead of parsing every hop again).
  if (memo !== undefined && memo.proxies === proxies && memo.forwardedFor === forwardedFor && typeof forwardedFor !== 'object') {
    return memo.address;
  }
  const remote = socket?.remoteAddress;
  const peerIp = (remote !== undefined && normalizeIp(remote)) || UNKNOWN_PEER;
  const address = resolveFromPeer(peerIp, forwardedFor, proxies);
  // Only a socket that knows its peer is memoised (a destroyed one has no remoteAddress to vouch for).
  if (socket && remote !== undefined) socket[SOCKET_MEMO] = { proxies, forwardedFor, address };
  return address;
}

/**
 * Walks X-Forwarded-For from the right while the hops are trusted proxies; the first untrusted hop is the
 * client (each trusted proxy appended the address it saw, so only that one is vouched for; everything to
 * its left was written by the client). A hop that is not an IP literal ends the walk at the last address
 * we could vouch for. Headers from an untrusted peer are ignored entirely.
 */
export function resolveFromPeer(peerIp: string, forwardedFor: string | string[] | undefined, proxies: TrustedProxies): ClientAddress {
  const peerIsTrustedProxy = proxies.contains(peerIp);
  if (!peerIsTrustedProxy || forwardedFor === undefined) return { peerIp, clientIp: peerIp, peerIsTrustedProxy };
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  let vouched = peerIp;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = parseHop(hops[index] ?? '');
    if (hop === null) {
      if ((hops[index] ?? '').trim() === '') continue;
      return { peerIp, clientIp: vouched, peerIsTrustedProxy };
    }
    vouched = hop;
    if (!proxies.contains(hop)) break;
  }
  return { peerIp, clientIp: vouched, peerIsTrustedProxy };
}

/** One X-Forwarded-For element: `ip`, `ipv4:port`, `[ipv6]` or `[ipv6]:port`. */
function parseHop(text: string): string | null {
  const hop = text.trim();
  if (hop === '') return null;
  const direct = normalizeIp(hop);
  if (direct) return direct;
  // brackets are IPv6 syntax only (RFC 3986 / 7239): `[1.2.3.4]` is not a hop a proxy writes
  const bracketed = /^\[([^\]]*:[^\]]*)\](?::\d{1,5})?$/.exec(hop);
  if (bracketed?.[1]) return normalizeIp(bracketed[1]);
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d{1,5}$/.exec(hop);
  if (withPort?.[1]) return normalizeIp(withPort[1]);
  return null;
}
