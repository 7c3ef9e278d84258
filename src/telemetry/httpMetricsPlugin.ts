import type { FastifyInstance, FastifyReply, FastifyRequest, HookHandlerDoneFunction } from 'fastify';
import type { GatewayMetrics } from './GatewayMetrics.js';

/**
 * Observes every HTTP response in openclaw_http_request_duration_seconds. The route label is the route
 * template (`/v1/models`, `/hooks/:name`), `unknown` for 404s, so URLs never become label values.
 */
export function httpMetricsPlugin(metrics: Pick<GatewayMetrics, 'httpRequest'>) {
  const plugin = async function httpMetrics(app: FastifyInstance): Promise<void> {
    // Callback style: an async hook would cost a promise on every response.
    app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction) => {
      metrics.httpRequest(request.routeOptions.url ?? 'unknown', reply.statusCode, reply.elapsedTime / 1000);
      done();
    });
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
