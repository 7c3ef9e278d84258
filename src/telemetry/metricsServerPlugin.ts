import type { FastifyInstance } from 'fastify';
import type { MetricsServer } from './MetricsServer.js';

/**
 * Ties the metrics server to the gateway's lifecycle: it listens before the gateway does (a busy metrics
 * port fails the start) and closes with the app on shutdown, after the drain period.
 */
export function metricsServerPlugin(server: MetricsServer) {
  const plugin = async function metricsServer(app: FastifyInstance): Promise<void> {
    app.addHook('onReady', async () => {
      await server.start();
    });
    app.addHook('onClose', async () => server.close());
  };
  (plugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
  return plugin;
}
