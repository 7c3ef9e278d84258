import convict from 'convict';
import {
  assertBind,
  assertCidrList,
  assertHeaderName,
  assertHostPortList,
  assertOptionalUrl,
} from './formats.js';

convict.addFormat({ name: 'bind', validate: assertBind });
convict.addFormat({ name: 'cidr-list', validate: assertCidrList, coerce: splitList });
convict.addFormat({ name: 'host-port-list', validate: assertHostPortList, coerce: splitList });
convict.addFormat({ name: 'redis-url', validate: assertOptionalUrl(['redis:', 'rediss:']) });
convict.addFormat({ name: 'http-url', validate: assertOptionalUrl(['http:', 'https:']) });
convict.addFormat({ name: 'header-name', validate: assertHeaderName });

function splitList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return String(value)
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

/**
 * The one configuration schema. Keys and env names are the contract of GATEWAY.md section 2;
 * keys marked "extension" are ours and documented in the README.
 */
export const schema = {
  gateway: {
    port: { doc: 'HTTP + WebSocket port', format: 'port', default: 18789, env: 'OPENCLAW_GATEWAY_PORT' },
    bind: {
      doc: '"loopback" (127.0.0.1 and ::1), "lan" (all interfaces) or one IP literal',
      format: 'bind',
      default: 'loopback',
      env: 'OPENCLAW_GATEWAY_BIND',
    },
    replicaId: {
      doc: 'extension: replica id shown in status and traces (default: hostname + pid)',
      format: String,
      default: '',
      env: 'OPENCLAW_REPLICA_ID',
    },
    auth: {
      token: { doc: 'shared bearer token', format: String, default: '', env: 'OPENCLAW_GATEWAY_TOKEN', sensitive: true },
      password: {
        doc: 'password, sent as bearer',
        format: String,
        default: '',
        env: 'OPENCLAW_GATEWAY_PASSWORD',
        sensitive: true,
      },
      allowLoopback: {
        doc: 'local loopback bypass',
        format: Boolean,
        default: true,
        env: 'OPENCLAW_GATEWAY_ALLOW_LOOPBACK',
      },
      trustedProxy: {
        enabled: {
          doc: "identity from a trusted proxy's header",
          format: Boolean,
          default: false,
          env: 'OPENCLAW_GATEWAY_TRUSTED_PROXY_ENABLED',
        },
        header: {
          doc: 'header carrying the user identity',
          format: 'header-name',
          default: 'X-Forwarded-User',
          env: 'OPENCLAW_GATEWAY_TRUSTED_PROXY_HEADER',
        },
      },
      rateLimit: {
        maxFailures: {
          doc: 'failures allowed per client IP per window',
          format: 'nat',
          default: 20,
          env: 'OPENCLAW_GATEWAY_AUTH_MAX_FAILURES',
        },
        windowSeconds: {
          doc: 'window length in seconds',
          format: 'nat',
          default: 60,
          env: 'OPENCLAW_GATEWAY_AUTH_WINDOW_SECONDS',
        },
        onStoreFailure: {
          doc: '"local" (per-replica counters while Redis is down) or "deny" (503)',
          format: ['local', 'deny'],
          default: 'local',
          env: 'OPENCLAW_GATEWAY_AUTH_ON_STORE_FAILURE',
        },
      },
    },
    trustedProxies: {
      doc: 'IPs and CIDRs of reverse proxies / ingress',
      format: 'cidr-list',
      default: [] as string[],
      env: 'OPENCLAW_GATEWAY_TRUSTED_PROXIES',
    },
    tailscale: {
      mode: {
        doc: '"disabled", "enabled" or "require"',
        format: ['disabled', 'enabled', 'require'],
        default: 'disabled',
        env: 'OPENCLAW_GATEWAY_TAILSCALE_MODE',
      },
    },
    redis: {
      url: { doc: 'redis:// or rediss:// URL; empty = embedded store', format: 'redis-url', default: '', env: 'OPENCLAW_REDIS_URL' },
      sentinels: {
        doc: 'Redis Sentinel host:port list',
        format: 'host-port-list',
        default: [] as string[],
        env: 'OPENCLAW_REDIS_SENTINELS',
      },
      sentinelName: { doc: 'Sentinel master name', format: String, default: '', env: 'OPENCLAW_REDIS_SENTINEL_NAME' },
      clusterNodes: {
        doc: 'Redis Cluster host:port list',
        format: 'host-port-list',
        default: [] as string[],
        env: 'OPENCLAW_REDIS_CLUSTER_NODES',
      },
      password: {
        doc: 'extension: Redis password (URL without one, Sentinel, Cluster); a password inside the URL wins',
        format: String,
        default: '',
        env: 'OPENCLAW_REDIS_PASSWORD',
        sensitive: true,
      },
      keyPrefix: { doc: 'key prefix', format: String, default: 'openclaw:', env: 'OPENCLAW_REDIS_KEY_PREFIX' },
    },
    stateDir: { doc: 'embedded store state directory', format: String, default: '~/.openclaw', env: 'OPENCLAW_STATE_DIR' },
    pairing: {
      ttlSeconds: {
        doc: 'pending pairing requests expire',
        format: 'nat',
        default: 300,
        env: 'OPENCLAW_PAIRING_TTL_SECONDS',
      },
    },
    upstream: {
      url: { doc: 'OpenAI-compatible base URL including /v1', format: 'http-url', default: '', env: 'OPENCLAW_UPSTREAM_URL' },
      apiKey: { doc: 'sent upstream as bearer', format: String, default: '', env: 'OPENCLAW_UPSTREAM_API_KEY', sensitive: true },
      model: { doc: 'model sent upstream for model "openclaw"', format: String, default: '', env: 'OPENCLAW_UPSTREAM_MODEL' },
      timeoutSeconds: {
        doc: 'extension: upstream response timeout (504 after it)',
        format: 'nat',
        default: 120,
        env: 'OPENCLAW_UPSTREAM_TIMEOUT_SECONDS',
      },
    },
    metrics: { port: { doc: 'Prometheus /metrics port (0 = off)', format: 'port', default: 9464, env: 'OPENCLAW_METRICS_PORT' } },
    log: {
      level: {
        doc: 'pino level',
        format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
        default: 'info',
        env: 'OPENCLAW_LOG_LEVEL',
      },
    },
    shutdown: {
      drainSeconds: {
        doc: 'not-ready period before closing listeners',
        format: 'nat',
        default: 5,
        env: 'OPENCLAW_SHUTDOWN_DRAIN_SECONDS',
      },
    },
    http: {
      bodyLimitBytes: {
        doc: 'extension: largest accepted request body (413 beyond)',
        format: 'nat',
        default: 1_048_576,
        env: 'OPENCLAW_HTTP_BODY_LIMIT_BYTES',
      },
      headersTimeoutSeconds: {
        doc: 'extension: a client must finish sending request headers within this (slowloris); 1 to 300',
        format: 'nat',
        default: 15,
        env: 'OPENCLAW_HTTP_HEADERS_TIMEOUT_SECONDS',
      },
    },
    ws: {
      maxConnectionsPerIp: {
        doc: 'extension: concurrent WebSocket connections per client IP (0 = no cap)',
        format: 'nat',
        default: 64,
        env: 'OPENCLAW_WS_MAX_CONNECTIONS_PER_IP',
      },
      pingIntervalSeconds: {
        doc: 'extension: WebSocket ping interval; a peer missing two pongs is dropped (0 = no pings)',
        format: 'nat',
        default: 30,
        env: 'OPENCLAW_WS_PING_INTERVAL_SECONDS',
      },
    },
  },
};

export type SchemaShape = typeof schema;
export const SENSITIVE_KEYS = new Set([
  'gateway.auth.token',
  'gateway.auth.password',
  'gateway.upstream.apiKey',
  'gateway.redis.password',
]);
