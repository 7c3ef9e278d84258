import type { Socket } from 'node:net';

/**
 * The last secret presented on a connection and its SHA-256 (secretDigest): a keep-alive client (a paired
 * device, an ingress's upstream connection) presents the same device token request after request, and the
 * digest was most of what a device-token request cost over a bearer one (bench/README "Fourteenth round").
 * Only the digest is kept, never a decision: the device lookup by digest still runs on every request, so a
 * revoked token stops working at once. The plain `===` against the previous secret is not constant-time, and
 * need not be: it compares with a value sent earlier on the same connection, never with a configured or stored
 * secret. The secret lives as long as the connection (or until the next one replaces it), which the request
 * that carried it already made possible.
 */
export interface SocketDigestMemo {
  secret: string | undefined;
  digest: string | undefined;
}

const MEMO = Symbol('openclaw.secretDigest');
type MemoSocket = Socket & { [MEMO]?: SocketDigestMemo };

/** The connection's memo, made at its first request; undefined without a socket (a destroyed request). */
export function socketDigestMemo(socket: Socket | null | undefined): SocketDigestMemo | undefined {
  if (!socket) return undefined;
  return ((socket as MemoSocket)[MEMO] ??= { secret: undefined, digest: undefined });
}

/** The memo's digest when `secret` is the one it was computed from. */
export function rememberedDigest(memo: SocketDigestMemo | undefined, secret: string | undefined): string | undefined {
  return secret !== undefined && memo !== undefined && memo.secret === secret ? memo.digest : undefined;
}
