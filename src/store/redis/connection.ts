import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseHostPort } from '../../config/formats.js';
import type { GatewayConfig } from '../../config/types.js';

export type RedisClient = Redis | Cluster;
type RedisSettings = GatewayConfig['redis'];

/** Capped exponential backoff: 50 ms, 100 ms, … up to 2 s, forever. */
export function retryDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2_000);
}

/**
 * One ioredis client for the configured mode (URL, Sentinel or Cluster). Commands fail fast while
 * disconnected (no offline queue) so that callers can apply their failure policy instead of hanging.
 */
export function createRedisClient(settings: RedisSettings, connectionName: string): RedisClient {
  const common: RedisOptions = {
    connectionName,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2_000,
    // A command sent just before the server froze or vanished would otherwise wait for the reconnect.
    commandTimeout: 2_000,
    retryStrategy: retryDelay,
    lazyConnect: true,
  };
  if (settings.clusterNodes.length > 0) {
    const options: ClusterOptions = {
      clusterRetryStrategy: retryDelay,
      enableOfflineQueue: false,
      lazyConnect: true,
      redisOptions: { ...common, password: settings.password || undefined, lazyConnect: undefined },
    };
    return new Cluster(settings.clusterNodes.map(toNode), options);
  }
  if (settings.sentinels.length > 0) {
    return new Redis({
      ...common,
      sentinels: settings.sentinels.map(toNode),
      name: settings.sentinelName,
      password: settings.password || undefined,
      sentinelRetryStrategy: retryDelay,
    });
  }
  // A password inside the URL wins; otherwise gateway.redis.password (e.g. from a Kubernetes Secret) applies.
  return new Redis(settings.url, { ...common, password: settings.password || undefined });
}

function toNode(hostPort: string): { host: string; port: number } {
  const parsed = parseHostPort(hostPort);
  if (!parsed) throw new Error(`invalid host:port "${hostPort}"`);
  return parsed;
}

export function isClientReady(client: RedisClient): boolean {
  return client.status === 'ready';
}

/** Keys of the gateway's own state share one hash tag so multi-key scripts work on Redis Cluster. */
export function stateKey(prefix: string, ...parts: string[]): string {
  return `${prefix}{state}:${parts.join(':')}`;
}
