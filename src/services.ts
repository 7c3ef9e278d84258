import type { ClusterBus } from './cluster/types.js';
import type { GatewayConfig } from './config/types.js';
import type { Readiness } from './http/Readiness.js';
import type { GatewayInfo } from './http/routes/status.js';
import type { Store } from './store/types.js';
import type { LogRing } from './telemetry/LogRing.js';
import type { Logger } from './telemetry/logger.js';

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
}
