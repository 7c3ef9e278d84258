import type { ConfigProblem, GatewayConfig } from './types.js';
import { usesRedis } from './types.js';

/** Must stay below the HTTP request timeout (300 s): node refuses a headers timeout above it. */
const MAX_HEADERS_TIMEOUT_SECONDS = 300;

/** Cross-key rules that a per-key format cannot express; each names the key to fix. */
export function checkRules(config: GatewayConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { auth, tailscale, trustedProxies, redis, bind } = config;

  const hasRemoteAuth =
    auth.token !== '' || auth.password !== '' || tailscale.mode !== 'disabled' || auth.trustedProxy.enabled;
  if (!isLoopbackBind(bind) && !hasRemoteAuth) {
    problems.push({
      key: 'gateway.bind',
      message: `"${bind}" is not loopback but no gateway.auth.token, gateway.auth.password, gateway.tailscale.mode or gateway.auth.trustedProxy is configured`,
    });
  }
  if (auth.trustedProxy.enabled && trustedProxies.length === 0) {
    problems.push({
      key: 'gateway.trustedProxies',
      message: 'must list the proxy addresses when gateway.auth.trustedProxy.enabled is true',
    });
  }
  if (auth.rateLimit.maxFailures < 1) {
    problems.push({ key: 'gateway.auth.rateLimit.maxFailures', message: 'must be at least 1' });
  }
  if (auth.rateLimit.windowSeconds < 1) {
    problems.push({ key: 'gateway.auth.rateLimit.windowSeconds', message: 'must be at least 1' });
  }
  if (config.http.headersTimeoutSeconds < 1 || config.http.headersTimeoutSeconds > MAX_HEADERS_TIMEOUT_SECONDS) {
    problems.push({ key: 'gateway.http.headersTimeoutSeconds', message: `must be from 1 to ${MAX_HEADERS_TIMEOUT_SECONDS}` });
  }
  if (config.pairing.ttlSeconds < 1) {
    problems.push({ key: 'gateway.pairing.ttlSeconds', message: 'must be at least 1' });
  }
  const redisModes = [redis.url !== '', redis.sentinels.length > 0, redis.clusterNodes.length > 0].filter(Boolean);
  if (redisModes.length > 1) {
    problems.push({ key: 'gateway.redis', message: 'set only one of url, sentinels or clusterNodes' });
  }
  if (redis.sentinels.length > 0 && redis.sentinelName === '') {
    problems.push({ key: 'gateway.redis.sentinelName', message: 'is required with gateway.redis.sentinels' });
  }
  if (usesRedis(redis) && redis.keyPrefix === '') {
    problems.push({ key: 'gateway.redis.keyPrefix', message: 'must not be empty' });
  }
  if (config.metrics.port !== 0 && config.metrics.port === config.port) {
    problems.push({ key: 'gateway.metrics.port', message: 'must differ from gateway.port (or be 0 to turn metrics off)' });
  }
  return problems;
}

export function isLoopbackBind(bind: string): boolean {
  return bind === 'loopback' || bind === '127.0.0.1' || bind === '::1' || bind.startsWith('127.');
}
