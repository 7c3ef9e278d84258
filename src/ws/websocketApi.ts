import type { IncomingMessage } from 'node:http';
import { ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { WebSocketServer, type WebSocket } from 'ws';
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
import { startSessionSweep } from './sessionSweep.js';
import { skipFinishedEnds } from './skipFinishedEnds.js';

export interface WebsocketApiOptions {
  readonly services: GatewayServices;
  readonly sessions: SessionRegistry;
  readonly notifier: ClusterNotifier;
  /** Feature methods (pairing, devices, chat); `status` and `logs.tail` are built in. */
  readonly methods?: readonly RpcMethod[];
}

/** Methods every gateway serves, whatever features are wired. */
export const CORE_RPC_METHODS: readonly RpcMethod[] = [statusMethod, logsTailMethod];

/** Marks an upgrade request sent through fastify's router (see onUpgrade). */
const UPGRADE_SOCKET = Symbol('openclaw.upgradeSocket');
const UPGRADE_HEAD = Symbol('openclaw.upgradeHead');
type RoutedUpgrade = IncomingMessage & { [UPGRADE_SOCKET]?: Duplex; [UPGRADE_HEAD]?: Buffer };

/**
 * The JSON-RPC WebSocket API on GET / of the HTTP port. The server's 'upgrade' event is handled here with
 * a ws server in noServer mode: a plain `GET /` upgrade (what every client sends) is accepted directly,
 * without fastify's per-request objects and hooks, since the route is public and `connect` authenticates.
 * Any other upgrade (another path, a query string) goes through fastify's router, so it gets exactly the
 * HTTP answer a plain request would (404, 401, 400 for a secret in the URL), and the socket is closed after.
 * Registered on the root instance (not encapsulated) so its preClose hook sees every route.
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
    // clientTracking off: the SessionRegistry already holds every session.
    const wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: WS_LIMITS.maxPayloadBytes,
      perMessageDeflate: false,
    });
    const stopListening = notifier.listen();
    const stopSweep = startSessionSweep(sessions, services.config.ws.pingIntervalSeconds);

    function onSocketError(this: WebSocket, error: Error): void {
      // ws has already answered protocol errors (oversize → 1009, bad frames → 1002); just record them
      if ((error as NodeJS.ErrnoException).code?.startsWith('WS_ERR_')) {
        logger.debug({ err: error }, 'ws protocol error');
        return;
      }
      logger.warn({ err: error }, 'ws connection error');
      this.terminate();
    }

    function upgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      wss.handleUpgrade(request, socket, head, (websocket) => {
        skipFinishedEnds(websocket, socket);
        websocket.on('error', onSocketError);
        acceptConnection(websocket, request, deps);
      });
    }

    function onUpgradeSocketError(this: Duplex): void {
      this.destroy();
    }

    function onUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer): void {
      if (request.url === '/' && request.method === 'GET') {
        upgrade(request, socket, head);
        return;
      }
      // node removed its own error listener before emitting 'upgrade'; guard the socket while fastify routes
      socket.on('error', onUpgradeSocketError);
      const routed = request as RoutedUpgrade;
      routed[UPGRADE_SOCKET] = socket;
      routed[UPGRADE_HEAD] = head;
      const response = new ServerResponse(request);
      // A routed upgrade that got an HTTP answer (any route, any status) leaves nothing open.
      response.once('finish', () => socket.destroy());
      try {
        response.assignSocket(socket as never);
        app.routing(request, response);
      } catch (error) {
        logger.warn({ err: error }, 'websocket upgrade failed');
        socket.destroy();
      }
    }
    app.server.on('upgrade', onUpgrade);

    app.addHook('preClose', async () => {
      app.server.off('upgrade', onUpgrade);
      stopSweep();
      await closeAllSessions(sessions);
    });
    app.addHook('onClose', async () => {
      stopListening();
      wss.close();
    });

    app.route({
      method: 'GET',
      url: '/',
      config: { public: true },
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        const routed = request.raw as RoutedUpgrade;
        const socket = routed[UPGRADE_SOCKET];
        if (socket === undefined) {
          return sendError(reply, new GatewayError('not_found', 'GET / is the WebSocket API: connect with a WebSocket client.'));
        }
        // GET /?… upgrade that passed the hooks: ws owns the socket (and its errors) from here.
        reply.hijack();
        routed[UPGRADE_SOCKET] = undefined;
        socket.off('error', onUpgradeSocketError);
        upgrade(request.raw, socket, routed[UPGRADE_HEAD] ?? Buffer.alloc(0));
        return reply;
      },
    });
  };
  // Same effect as fastify-plugin: register on the parent instance instead of a child context.
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}

/** Shutdown: 1012 to everyone, then wait briefly for the closing handshakes before cutting the rest. */
async function closeAllSessions(sessions: SessionRegistry): Promise<void> {
  for (const session of sessions.all()) session.close(CLOSE_CODES.serviceRestart, 'service restart');
  const deadline = Date.now() + WS_LIMITS.shutdownCloseGraceMs;
  while (sessions.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 25));
  for (const session of sessions.all()) session.socket.terminate();
}
