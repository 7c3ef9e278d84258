import fastifyWebsocket from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { GatewayError } from '../errors.js';
import { sendError } from '../http/errorMapper.js';
import type { GatewayServices } from '../services.js';
import type { ClusterNotifier } from './ClusterNotifier.js';
import { CLOSE_CODES, WS_LIMITS } from './limits.js';
import { logsTailMethod } from './methods/logsTailMethod.js';
import { statusMethod } from './methods/statusMethod.js';
import { RpcDispatcher } from './rpc/RpcDispatcher.js';
import type { RpcMethod } from './rpc/RpcMethod.js';
import { acceptConnection, type ConnectionDeps } from './SessionConnection.js';
import type { SessionRegistry } from './SessionRegistry.js';

export interface WebsocketApiOptions {
  readonly services: GatewayServices;
  readonly sessions: SessionRegistry;
  readonly notifier: ClusterNotifier;
  /** Feature methods (pairing, devices, chat); `status` and `logs.tail` are built in. */
  readonly methods?: readonly RpcMethod[];
}

/** Methods every gateway serves, whatever features are wired. */
export const CORE_RPC_METHODS: readonly RpcMethod[] = [statusMethod, logsTailMethod];

/**
 * The JSON-RPC WebSocket API on GET / of the HTTP port. Registered on the root instance (not
 * encapsulated) so @fastify/websocket's upgrade handling covers every route, and so its preClose
 * hook runs after ours, which closes every session with 1012 first.
 */
export function websocketApi(options: WebsocketApiOptions) {
  const plugin = async function websocketApiPlugin(app: FastifyInstance): Promise<void> {
    const { services, sessions, notifier } = options;
    const logger = services.logger;
    const dispatcher = new RpcDispatcher([...CORE_RPC_METHODS, ...(options.methods ?? [])]);
    const deps: ConnectionDeps = {
      services,
      auth: services.auth,
      sessions,
      logger,
      dispatcher,
      maxConnectionsPerClientIp: services.config.ws.maxConnectionsPerIp,
    };
    const stopListening = notifier.listen();
    const stopHeartbeat = startHeartbeat(sessions, services.config.ws.pingIntervalSeconds);

    app.addHook('preClose', async () => {
      stopHeartbeat();
      await closeAllSessions(sessions);
    });
    app.addHook('onClose', async () => stopListening());

    function onSocketError(this: WebSocket, error: Error): void {
      // ws has already answered protocol errors (oversize → 1009, bad frames → 1002); just record them
      if ((error as NodeJS.ErrnoException).code?.startsWith('WS_ERR_')) {
        logger.debug({ err: error }, 'ws protocol error');
        return;
      }
      logger.warn({ err: error }, 'ws connection error');
      this.terminate();
    }

    await app.register(fastifyWebsocket, {
      options: { maxPayload: WS_LIMITS.maxPayloadBytes, perMessageDeflate: false },
      errorHandler: (error: Error, socket: WebSocket) => onSocketError.call(socket, error),
    });

    app.route({
      method: 'GET',
      url: '/',
      config: { public: true },
      handler: async (_request: FastifyRequest, reply: FastifyReply) =>
        sendError(reply, new GatewayError('not_found', 'GET / is the WebSocket API: connect with a WebSocket client.')),
      wsHandler: (socket: WebSocket, request: FastifyRequest) => {
        // @fastify/websocket's error listener holds the fastify request and reply for the socket's
        // whole life; ours holds nothing, which keeps idle sessions small.
        socket.removeAllListeners('error');
        socket.on('error', onSocketError);
        acceptConnection(socket, request.raw, deps);
      },
    });
  };
  // Same effect as fastify-plugin: register on the parent instance instead of a child context.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/** One replica-wide timer pings every session; a peer that missed two pongs is cut off. */
function startHeartbeat(sessions: SessionRegistry, intervalSeconds: number): () => void {
  if (intervalSeconds <= 0) return () => {};
  const timer = setInterval(() => {
    for (const session of sessions.all()) {
      if (session.missedPongs >= 2) {
        session.socket.terminate();
        continue;
      }
      session.missedPongs += 1;
      try {
        session.socket.ping();
      } catch {
        // the socket is closing; its close event removes the session
      }
    }
  }, intervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}

/** Shutdown: 1012 to everyone, then wait briefly for the closing handshakes before cutting the rest. */
async function closeAllSessions(sessions: SessionRegistry): Promise<void> {
  for (const session of sessions.all()) session.close(CLOSE_CODES.serviceRestart, 'service restart');
  const deadline = Date.now() + WS_LIMITS.shutdownCloseGraceMs;
  while (sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  for (const session of sessions.all()) session.socket.terminate();
}
