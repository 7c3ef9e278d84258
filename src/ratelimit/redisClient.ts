import type { GatewayConfig } from '../config/types.js';
import { createRedisClient, type RedisClient } from '../store/redis/connection.js';

/** The limiter's own connection, so a slow store query never delays a failure count (and vice versa). */
export function createLimiterRedisClient(settings: GatewayConfig['redis'], replicaId: string): RedisClient {
  const client = createRedisClient(settings, `openclaw-ratelimit:${replicaId}`);
  client.on('error', () => {});
  return client;
}
