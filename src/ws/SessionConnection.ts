import type { IncomingMessage } from 'node:http';
import type { RawData, WebSocket } from 'ws';
import { traceRpc, traceWsConnect } from '../telemetry/spans.js';
import { performConnect, type ConnectDeps } from './connectHandshake.js';
import { CLOSE_CODES, WS_LIMITS } from './limits.js';
import type { RpcDispatcher } from './rpc/RpcDispatcher.js';
import { RpcError, toRpcError } from './rpc/RpcError.js';
import type { RpcCallContext } from './rpc/RpcMethod.js';
import { errorFrame, notificationFrame, parseFrame, resultFrame, type RpcId, type RpcRequest } from './rpc/frames.js';
import { WsSession } from './WsSession.js';

export interface ConnectionDeps extends ConnectDeps {
  readonly dispatcher: RpcDispatcher;
  readonly maxConnectionsPerClientIp: number;
}

/** Takes over a freshly upgraded socket: admission, frames, cleanup (the handshake timeout is the sweep's). */
export function acceptConnection(socket: WebSocket, upgrade: IncomingMessage, deps: ConnectionDeps): WsSession | undefined {
  const { clientIp } = deps.auth.contextFor(upgrade, 'ws');
  const session = new WsSession(socket, clientIp, (slow) =>
    deps.logger.warn({ sessionId: slow.id, clientIp: slow.clientIp }, 'ws notifications dropped'),
  );
  const admission = deps.sessions.admit(session, deps.maxConnectionsPerClientIp);
  if (admission !== 'admitted') {
    deps.logger.warn({ clientIp, admission }, 'ws connection refused');
    const reason = admission === 'client_ip_limit' ? 'too many connections from this address' : 'server full';
    socket.close(CLOSE_CODES.tryAgainLater, reason);
    return undefined;
  }
  session.upgrade = upgrade;
  socket.on('message', (data, isBinary) => onFrame(session, data, isBinary, deps));
  socket.on('pong', () => {
    session.missedPongs = 0;
  });
  socket.on('close', () => {
    deps.sessions.remove(session);
    session.dispose();
  });
  return session;
}

function onFrame(session: WsSession, data: RawData, isBinary: boolean, deps: ConnectionDeps): void {
  if (session.state === 'closed') return;
  if (!session.connected && byteLength(data) > WS_LIMITS.preConnectMaxFrameBytes) {
    session.close(CLOSE_CODES.messageTooBig, 'frame too large before connect');
    return;
  }
  if (isBinary) {
    session.send(errorFrame(null, RpcError.invalidRequest('binary frames are not supported').toObject()), 'response');
    return;
  }
  const parsed = parseFrame(toText(data));
  if (!parsed.ok) {
    session.send(errorFrame(parsed.id, parsed.error.toObject()), 'response');
    return;
  }
  const { request } = parsed;
  if (request.id === undefined) return; // JSON-RPC notifications from clients are neither run nor answered
  if (session.outstanding >= WS_LIMITS.maxOutstandingRequests) {
    const error = RpcError.of('rate_limited', `At most ${WS_LIMITS.maxOutstandingRequests} requests may be outstanding.`, 1);
    session.send(errorFrame(request.id, error.toObject()), 'response');
    return;
  }
  session.outstanding += 1;
  const running = request.method === 'connect' ? runConnect(session, request, deps) : runMethod(session, request, deps);
  void running.finally(() => {
    session.outstanding -= 1;
  });
}

async function runConnect(session: WsSession, request: RpcRequest, deps: ConnectionDeps): Promise<void> {
  const id = request.id ?? null;
  if (session.state !== 'pending') {
    session.send(errorFrame(id, RpcError.of('conflict', 'connect was already called on this session.').toObject()), 'response');
    return;
  }
  session.state = 'connecting';
  try {
    const result = await traceWsConnect(session.clientIp, () => performConnect(session, request.params, deps));
    session.send(resultFrame(id, result), 'response');
  } catch (error) {
    const rpcError = toRpcError(error, (cause) => deps.logger.error({ err: cause, sessionId: session.id }, 'ws connect failed'));
    session.send(errorFrame(id, rpcError.toObject()), 'response');
    session.close(CLOSE_CODES.policyViolation, 'connect failed');
  }
}

async function runMethod(session: WsSession, request: RpcRequest, deps: ConnectionDeps): Promise<void> {
  const id = request.id ?? null;
  try {
    const result = await traceRpc(request.method, () => deps.dispatcher.dispatch(request.method, request.params, callContext(session, deps, id)));
    session.send(resultFrame(id, result), 'response');
  } catch (error) {
    const rpcError = toRpcError(error, (cause) =>
      deps.logger.error({ err: cause, sessionId: session.id, rpcMethod: request.method }, 'rpc method failed'),
    );
    session.send(errorFrame(id, rpcError.toObject()), 'response');
  }
}

function callContext(session: WsSession, deps: ConnectionDeps, requestId: RpcId): RpcCallContext {
  return {
    session,
    requestId,
    services: deps.services,
    notify: (method, params) => session.send(notificationFrame(method, params), 'notification'),
    onClose: (dispose) => session.onClose(dispose),
  };
}

function byteLength(data: RawData): number {
  if (Array.isArray(data)) return data.reduce((sum, chunk) => sum + chunk.length, 0);
  return data instanceof ArrayBuffer ? data.byteLength : data.length;
}

function toText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return Buffer.from(data).toString('utf8');
}
