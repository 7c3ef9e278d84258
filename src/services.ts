import type { AuthService } from './auth/AuthService.js';
import type { ClusterBus } from './cluster/types.js';
import type { GatewayConfig } from './config/types.js';
import type { Readiness } from './http/Readiness.js';
import type { GatewayInfo } from './http/routes/status.js';
import type { Store } from './store/types.js';
import type { GatewayMetrics } from './telemetry/GatewayMetrics.js';
import type { LogRing } from './telemetry/LogRing.js';
import type { Logger } from './telemetry/logger.js';
import type { Notifier } from './ws/Notifier.js';

/**
 * What every module of one replica may use. Built once by Gateway.create; routes and RPC methods get
 * the same instances, so HTTP and WebSocket call the same services.
 */
export interface CoreServices {
  readonly config: GatewayConfig;
  readonly info: GatewayInfo;
  readonly logger: Logger;
  readonly logRing: LogRing;
  readonly store: Store;
  readonly bus: ClusterBus;
  readonly readiness: Readiness;
  /** Prometheus counters and gauges of this replica (telemetry/GatewayMetrics). */
  readonly metrics: GatewayMetrics;
}

/** Core plus the modules built on it; what RPC methods and feature routes receive. */
export interface GatewayServices extends CoreServices {
  /** Cluster-wide delivery to WebSocket sessions (ws/ClusterNotifier). */
  readonly notifier: Notifier;
  /** The authenticator chain and failed-auth limiter shared by HTTP and WebSocket (auth/AuthService). */
  readonly auth: AuthService;
}
