export type BindMode = string; // 'loopback' | 'lan' | an IP literal
export type TailscaleMode = 'disabled' | 'enabled' | 'require';
export type StoreFailureMode = 'local' | 'deny';

export interface GatewayConfig {
  readonly port: number;
  readonly bind: BindMode;
  readonly replicaId: string;
  readonly auth: {
    readonly token: string;
    readonly password: string;
    readonly allowLoopback: boolean;
    readonly trustedProxy: { readonly enabled: boolean; readonly header: string };
    readonly rateLimit: {
      readonly maxFailures: number;
      readonly windowSeconds: number;
      readonly onStoreFailure: StoreFailureMode;
    };
  };
  readonly trustedProxies: readonly string[];
  readonly tailscale: { readonly mode: TailscaleMode };
  readonly redis: {
    readonly url: string;
    readonly sentinels: readonly string[];
    readonly sentinelName: string;
    readonly clusterNodes: readonly string[];
    readonly password: string;
    readonly keyPrefix: string;
  };
  readonly stateDir: string;
  readonly pairing: { readonly ttlSeconds: number };
  readonly upstream: {
    readonly url: string;
    readonly apiKey: string;
    readonly model: string;
    readonly timeoutSeconds: number;
  };
  readonly metrics: { readonly port: number };
  readonly log: { readonly level: string };
  readonly shutdown: { readonly drainSeconds: number };
  readonly http: { readonly bodyLimitBytes: number; readonly headersTimeoutSeconds: number };
  readonly ws: { readonly maxConnectionsPerIp: number; readonly pingIntervalSeconds: number };
}

export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

export class ConfigError extends Error {
  readonly code = 'ERR_OPENCLAW_CONFIG';
  constructor(readonly problems: readonly ConfigProblem[]) {
    super(problems.map((p) => `${p.key}: ${p.message}`).join('; '));
  }
}

/** Where the effective values come from; flags win over env, env over the file, the file over defaults. */
export interface ConfigSources {
  readonly file?: string | undefined;
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly flags?: { readonly port?: number | undefined; readonly bind?: string | undefined } | undefined;
}

export function usesRedis(redis: GatewayConfig['redis']): boolean {
  return redis.url !== '' || redis.sentinels.length > 0 || redis.clusterNodes.length > 0;
}
