import type { FastifyInstance } from 'fastify';

export interface GatewayInfo {
  readonly name: string;
  readonly version: string;
  readonly replicaId: string;
  readonly bind: string;
  readonly port: number;
  readonly authMethods: readonly string[];
  readonly store: string;
  readonly startedAt: number;
}

export function statusReport(info: GatewayInfo, ready: boolean) {
  return { ...info, ready, uptimeSeconds: Math.round((Date.now() - info.startedAt) / 1000) };
}

/** GET /v1/status (extension): what `openclaw status` prints; authenticated like every /v1 route. */
export function statusRoutes(info: GatewayInfo, isReady: () => boolean) {
  return async function plugin(app: FastifyInstance): Promise<void> {
    app.get('/v1/status', async () => statusReport(info, isReady()));
  };
}
