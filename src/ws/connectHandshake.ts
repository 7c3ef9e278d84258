import { presentedDigest } from '../auth/SecretMatcher.js';
import type { AuthMethod, Role } from '../auth/types.js';
import { RATE_LIMITED_MESSAGE } from '../errors.js';
import type { GatewayServices } from '../services.js';
import type { Logger } from '../telemetry/logger.js';
import { WS_LIMITS } from './limits.js';
import { RpcError } from './rpc/RpcError.js';
import { objectParams, optionalString } from './rpc/params.js';
import type { SessionRegistry } from './SessionRegistry.js';
import type { WsAuthenticator } from './WsAuthenticator.js';
import type { WsSession } from './WsSession.js';

const ROLES: readonly Role[] = ['control', 'node', 'webchat'];

export interface ConnectResult {
  readonly sessionId: string;
  readonly role: Role;
  readonly auth: { readonly method: AuthMethod; readonly identity: string };
  readonly server: { readonly name: string; readonly version: string; readonly replicaId: string };
}

export interface ConnectDeps {
  readonly services: GatewayServices;
  readonly auth: WsAuthenticator;
  readonly sessions: SessionRegistry;
  readonly logger: Logger;
}

interface ConnectParams {
  readonly role: Role;
  readonly token: string | undefined;
  readonly client: { readonly name?: string; readonly version?: string } | undefined;
}

/**
 * `connect`: params.auth.token is checked as device token, gateway token, then password (secret
 * methods only); without it, the upgrade request's own identity counts. Throws the RpcError the
 * client gets; the caller closes the socket with 1008 on any failure.
 */
export async function performConnect(session: WsSession, rawParams: unknown, deps: ConnectDeps): Promise<ConnectResult> {
  const params = parseConnectParams(rawParams);
  const upgrade = session.upgrade;
  if (!upgrade) throw RpcError.of('conflict', 'This session is already connected.');
  const secretOptions = params.token === undefined ? undefined : { secret: params.token, secretOnly: true };
  const context = deps.auth.contextFor(upgrade, 'ws', secretOptions);
  const outcome = await deps.auth.authenticate(context);
  if (!outcome.ok) {
    if (outcome.type === 'rate_limited') throw RpcError.of('rate_limited', RATE_LIMITED_MESSAGE, outcome.retryAfterSeconds);
    if (outcome.type === 'unavailable') throw RpcError.of('unavailable', outcome.reason);
    throw RpcError.of('unauthorized', `Unauthorized: ${outcome.reason}.`);
  }
  const { identity } = outcome;
  if (identity.method === 'device' && params.role !== 'node') {
    throw RpcError.of('forbidden', 'A device token may connect only with role node.');
  }
  if (session.state !== 'connecting') throw RpcError.of('conflict', 'The session closed while connecting.');
  // the lookup hash the device-token method already made (rotation and revocation find the session by it)
  const deviceTokenHash = identity.method === 'device' ? presentedDigest(context) : undefined;
  deps.sessions.markConnected(session, params.role, identity, deviceTokenHash);
  session.upgrade = undefined;
  deps.logger.info(
    {
      sessionId: session.id,
      role: params.role,
      method: identity.method,
      identity: identity.identity,
      clientIp: session.clientIp,
      client: params.client,
    },
    'ws session connected',
  );
  const { info } = deps.services;
  return {
    sessionId: session.id,
    role: params.role,
    auth: { method: identity.method, identity: identity.identity },
    server: { name: info.name, version: info.version, replicaId: info.replicaId },
  };
}

function parseConnectParams(rawParams: unknown): ConnectParams {
  const params = objectParams(rawParams);
  const role = params.role;
  if (typeof role !== 'string' || !ROLES.includes(role as Role)) {
    throw RpcError.invalidParams('role must be one of control, node, webchat');
  }
  const auth = params.auth === undefined ? {} : objectParams(params.auth, 'auth');
  const token = auth.token;
  if (token !== undefined && typeof token !== 'string') throw RpcError.invalidParams('auth.token must be a string');
  let client: ConnectParams['client'];
  if (params.client !== undefined) {
    const fields = objectParams(params.client, 'client');
    client = {
      name: optionalString(fields, 'name', WS_LIMITS.maxClientFieldLength),
      version: optionalString(fields, 'version', WS_LIMITS.maxClientFieldLength),
    };
  }
  return { role: role as Role, token, client };
}
