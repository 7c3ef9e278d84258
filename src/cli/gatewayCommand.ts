import { hostname } from 'node:os';
import { loadConfig, processEnvironment, ConfigError } from '../config/index.js';
import type { Gateway } from '../Gateway.js';
import { startTracing, type Tracing } from '../telemetry/tracing.js';
import { VERSION } from '../version.js';
import { COMMON_OPTIONS, parse, parsePort } from './args.js';
import { EXIT, type CliIo } from './io.js';

export const gatewayHelp = `Usage: openclaw gateway [--config FILE] [--port N] [--bind loopback|lan|IP]

Runs one gateway replica (HTTP + WebSocket on one port).
Configuration precedence: defaults < file (--config / OPENCLAW_CONFIG) < environment < flags.`;

export async function gatewayCommand(argv: string[], io: CliIo): Promise<number> {
  const { values } = parse(argv, { ...COMMON_OPTIONS, port: { type: 'string' }, bind: { type: 'string' } } as const);
  if (values.help) {
    io.out(gatewayHelp);
    return EXIT.ok;
  }
  let gateway: Gateway;
  let tracing: Tracing;
  try {
    const env = processEnvironment();
    const { config, warnings } = loadConfig({
      file: values.config,
      env,
      flags: { port: parsePort(values.port), bind: values.bind },
    });
    for (const warning of warnings) io.err(`openclaw: warning: ${warning}`);
    // Tracing first, then the gateway's modules, so that they load instrumented (same replica id as Gateway.create).
    tracing = await startTracing({ env, replicaId: config.replicaId || `${hostname()}-${process.pid}`, version: VERSION });
    const { Gateway } = await import('../Gateway.js');
    gateway = await Gateway.create(config);
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`openclaw: refusing to start: ${error.message}`);
      return EXIT.failure;
    }
    throw error;
  }

  const stop = (signal: NodeJS.Signals) => {
    gateway.shutdown(signal).then(
      () => tracing.shutdown().catch(() => {}).then(() => process.exit(EXIT.ok)),
      (error: unknown) => {
        gateway.log.logger.error({ err: error }, 'shutdown failed');
        process.exit(EXIT.failure);
      },
    );
  };
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) process.exit(EXIT.failure); // a second signal means "now"
    stop(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  try {
    await gateway.start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const where = `${gateway.config.bind}:${gateway.config.port}`;
    io.err(
      code === 'EADDRINUSE'
        ? `openclaw: cannot listen on ${where}: address already in use (set --port or gateway.port)`
        : `openclaw: cannot start on ${where}: ${(error as Error).message}`,
    );
    // Other listeners (metrics) and connections may already be open: exit rather than wait on them.
    process.exit(EXIT.failure);
  }
  return new Promise<number>(() => {}); // runs until a signal
}
