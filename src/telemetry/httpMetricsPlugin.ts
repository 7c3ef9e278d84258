import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { GatewayMetrics } from './GatewayMetrics.js';

/**
 * Observes every HTTP response in openclaw_http_request_duration_seconds. The route label is the route
 * template (`/v1/models`, `/hooks/:name`), `unknown` for 404s, so URLs never become label values.
 */
export function httpMetricsPlugin(metrics: Pick<GatewayMetrics, 'httpRequest'>) {
  const plugin = async function httpMetrics(app: FastifyInstance): Promise<void> {
    app.addHook('onResponse', async (request: FastifyRequest, reply: FastifyReply) => {
      metrics.httpRequest(request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
