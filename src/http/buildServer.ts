import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { GatewayConfig } from '../config/types.js';
import type { Logger } from '../telemetry/logger.js';
import { registerErrorMapper } from './errorMapper.js';

/** HTTP limits that bound what one client can hold open (slowloris, huge bodies). */
export const HTTP_TIMEOUTS = {
  connectionTimeoutMs: 0,
  keepAliveTimeoutMs: 72_000,
  requestTimeoutMs: 300_000,
  headersTimeoutMs: 15_000,
} as const;

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Route needs no authentication (health probes). */
    public?: boolean;
  }
}

export function buildServer(config: GatewayConfig, logger: Logger): FastifyInstance {
  const app = Fastify({
    loggerInstance: logger,
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimitBytes,
    keepAliveTimeout: HTTP_TIMEOUTS.keepAliveTimeoutMs,
    requestTimeout: HTTP_TIMEOUTS.requestTimeoutMs,
    connectionTimeout: HTTP_TIMEOUTS.connectionTimeoutMs,
    http: { headersTimeout: HTTP_TIMEOUTS.headersTimeoutMs },
    trustProxy: false, // client IP is resolved by net/, from gateway.trustedProxies only
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  } as Parameters<typeof Fastify>[0]) as unknown as FastifyInstance;
  registerErrorMapper(app);
  return app;
}
