import { hostname } from 'node:os';
import type { FastifyInstance } from 'fastify';
import { AuthService } from './auth/AuthService.js';
import { createBus } from './cluster/createBus.js';
import type { ClusterBus } from './cluster/types.js';
import { usesRedis, type GatewayConfig } from './config/types.js';
import { authPlugin } from './http/authPlugin.js';
import { buildServer } from './http/buildServer.js';
import { FastLane } from './http/FastLane.js';
import { listen, type ListenResult } from './http/listen.js';
import { Readiness } from './http/Readiness.js';
import { chatRoutes } from './http/routes/chat.js';
import { healthRoutes } from './http/routes/health.js';
import { hookRoutes } from './http/routes/hooks.js';
import { modelsHotRoute, modelsRoutes } from './http/routes/models.js';
import { statusRoutes, type GatewayInfo } from './http/routes/status.js';
import { whoamiRoutes } from './http/routes/whoami.js';
import { PairingService } from './pairing/PairingService.js';
import type { CoreServices, GatewayServices } from './services.js';
import { keepTickShapesAlive } from './runtime/tickShapes.js';
import { createStore } from './store/createStore.js';
import type { Store } from './store/types.js';
import { GatewayMetrics } from './telemetry/GatewayMetrics.js';
import { httpMetricsPlugin } from './telemetry/httpMetricsPlugin.js';
import { createLogger, type LoggerBundle } from './telemetry/logger.js';
import { MetricsServer } from './telemetry/MetricsServer.js';
import { metricsServerPlugin } from './telemetry/metricsServerPlugin.js';
import { observeStoreErrors } from './telemetry/observeStoreErrors.js';
import { fastifyTracingPlugin } from './telemetry/tracing.js';
import { UpstreamClient } from './upstream/UpstreamClient.js';
import { PRODUCT_NAME, VERSION } from './version.js';
import { ClusterNotifier } from './ws/ClusterNotifier.js';
import { chatMethods } from './ws/methods/chat.js';
import { pairingMethods } from './ws/methods/pairing.js';
import { SessionRegistry } from './ws/SessionRegistry.js';
import { websocketApi } from './ws/websocketApi.js';

const STORE_CONNECT_GRACE_MS = 5_000;

/** The composition root of one replica: builds every module from the config and owns the lifecycle. */
export class Gateway {
  readonly readiness = new Readiness();
  private listener: ListenResult | undefined;
  private shuttingDown: Promise<void> | undefined;

  private constructor(
    readonly config: GatewayConfig,
    readonly info: GatewayInfo,
    readonly log: LoggerBundle,
    readonly store: Store,
    readonly bus: ClusterBus,
    readonly app: FastifyInstance,
    /** Hot authenticated GETs answered before fastify (see http/FastLane.ts). */
    readonly fastLane: FastLane,
  ) {}

  static async create(config: GatewayConfig, options: { stdoutLogs?: boolean } = {}): Promise<Gateway> {
    const replicaId = config.replicaId || `${hostname()}-${process.pid}`;
    const log = createLogger({ level: config.log.level, replicaId, stdout: options.stdoutLogs });
    const metrics = new GatewayMetrics({ version: VERSION });
    const onBusError = (error: unknown) => {
      metrics.busError();
      log.logger.warn({ err: error }, 'cluster bus error');
    };
    const store = observeStoreErrors(createStore(config, replicaId), metrics);
    const bus = createBus(config, replicaId, onBusError);
    const info: GatewayInfo = {
      name: PRODUCT_NAME,
      version: VERSION,
      replicaId,
      bind: config.bind,
      port: config.port,
      authMethods: enabledAuthMethods(config),
      store: describeStore(config),
      startedAt: Date.now(),
    };
    const fastLane = new FastLane();
    const app = buildServer(config, log.logger, fastLane.front);
    const gateway = new Gateway(config, info, log, store, bus, app, fastLane);
    const { readiness } = gateway;
    readiness.addCheck('store', () => store.isReady());
    readiness.addCheck('cluster bus', () => bus.isReady());
    const core: CoreServices = { config, info, logger: log.logger, logRing: log.ring, store, bus, readiness, metrics };
    // --- services (one line each; later modules add theirs here) ---
    const auth = AuthService.create(core);
    const upstream = new UpstreamClient(config.upstream, log.logger);
    const sessions = new SessionRegistry();
    metrics.observeWsSessions(() => sessions.all());
    const notifier = new ClusterNotifier(bus, sessions, log.logger);
    const services: GatewayServices = { ...core, auth, notifier };
    const pairing = new PairingService({ store, bus, notifier, logger: log.logger, ttlSeconds: config.pairing.ttlSeconds, metrics });
    pairing.start();
    // --- HTTP plugins (public routes first, then the authenticated ones) ---
    await app.register(fastifyTracingPlugin()); // first: every later hook and route runs inside the request span
    await app.register(httpMetricsPlugin(metrics));
    await app.register(metricsServerPlugin(new MetricsServer({ bind: config.bind, port: config.metrics.port, metrics, logger: log.logger })));
    await app.register(authPlugin(auth));
    await app.register(modelsRoutes(info.startedAt));
    await app.register(whoamiRoutes());
    await app.register(chatRoutes(upstream));
    await app.register(hookRoutes(notifier));
    await app.register(healthRoutes(readiness));
    await app.register(statusRoutes(info, () => readiness.notReadyReason() === null));
    await app.register(websocketApi({ services, sessions, notifier, methods: [...pairingMethods(pairing), ...chatMethods(upstream)] }));
    fastLane.route('/v1/models', modelsHotRoute(info.startedAt));
    fastLane.start({ auth, metrics, logger: log.logger });
    void core;
    return gateway;
  }

  /** Connects the store (a Redis that is down only delays readiness) and starts listening. */
  async start(): Promise<string[]> {
    keepTickShapesAlive();
    await this.connectDependencies();
    this.listener = await listen(this.app, this.config.bind, this.config.port, this.fastLane.front);
    this.log.logger.info(
      { addresses: this.listener.addresses, store: this.info.store, version: VERSION },
      'gateway listening',
    );
    return this.listener.addresses;
  }

  /** Not ready for drainSeconds (so load balancers stop sending), then close listeners and finish in-flight work. */
  shutdown(reason: string): Promise<void> {
    this.shuttingDown ??= this.runShutdown(reason);
    return this.shuttingDown;
  }

  private async runShutdown(reason: string): Promise<void> {
    const { logger } = this.log;
    logger.info({ reason, drainSeconds: this.config.shutdown.drainSeconds }, 'gateway draining');
    this.readiness.startDraining();
    // Keep-alive clients reconnect (to another replica) after their next response.
    this.listener?.closeConnectionsAfterResponse();
    await sleep(this.config.shutdown.drainSeconds * 1000);
    // Sockets of requests still in flight become idle keep-alive sockets once answered; reap them as they do.
    const reaper = setInterval(() => this.listener?.closeIdleConnections(), 200);
    try {
      await Promise.all([this.app.close(), this.listener?.close()]);
    } finally {
      clearInterval(reaper);
    }
    await Promise.allSettled([this.bus.close(), this.store.close()]);
    logger.info({ reason }, 'gateway stopped');
    logger.flush();
  }

  private async connectDependencies(): Promise<void> {
    const { logger } = this.log;
    if (this.store.kind === 'embedded') {
      await this.store.start();
      await this.bus.start();
      return;
    }
    const connecting = Promise.all([this.store.start(), this.bus.start()]);
    const outcome = await Promise.race([
      connecting.then(() => 'connected' as const),
      sleep(STORE_CONNECT_GRACE_MS).then(() => 'pending' as const),
    ]).catch((error: unknown) => {
      logger.warn({ err: error }, 'redis unreachable at start; retrying in the background');
      return 'failed' as const;
    });
    if (outcome === 'pending') {
      logger.warn({ store: this.info.store }, 'redis not ready yet; serving as not ready until it is');
      connecting.catch((error: unknown) => logger.warn({ err: error }, 'redis connection failed'));
    }
  }
}

export function enabledAuthMethods(config: GatewayConfig): string[] {
  const methods: string[] = [];
  if (config.auth.allowLoopback) methods.push('loopback');
  methods.push('device');
  if (config.auth.token) methods.push('token');
  if (config.auth.password) methods.push('password');
  if (config.tailscale.mode !== 'disabled') methods.push(`tailscale (${config.tailscale.mode})`);
  if (config.auth.trustedProxy.enabled) methods.push('trusted-proxy');
  return methods;
}

function describeStore(config: GatewayConfig): string {
  if (!usesRedis(config.redis)) return 'embedded';
  if (config.redis.clusterNodes.length > 0) return 'redis (cluster)';
  if (config.redis.sentinels.length > 0) return 'redis (sentinel)';
  return 'redis (standalone)';
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
