// What V8's young-generation collector does per authenticated `GET /v1/models` (the HTTP fast lane) in several
// gateway variants, read from `--trace-gc-nvp` around alternating 4 s loads: scavenges a thousand requests, their
// pause a request, and what each keeps (survived, promoted). A variant that promotes far more than tracing off
// keeps something of its requests alive across scavenges: bench/README.md "Eleventh round" (V8 pretenuring the
// API's BaseContext). --node-flags adds V8 flags to every gateway, given with `=` since they start with a dash:
// --node-flags=--no-allocation-site-pretenuring, --node-flags="--single-threaded-gc --max-semi-space-size=8".
//   node bench/gcPerRequest.mjs [--rounds N] [--node-flags=FLAGS] [variant ...]
// Variants: off, r0 (ratio 0), r01 (ratio 0.1), r01-noexport (spans dropped at the processor), on (always_on).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { loopbackSources } from './lib/addresses.mjs';
import { startGateway, startNodeServer, startRedis } from './lib/processes.mjs';
import { chooseVariants, tracingVariants } from './lib/tracingVariants.mjs';
import { openIdleSessions } from './lib/wsLoad.mjs';

const { values: args, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '2' }, 'node-flags': { type: 'string', default: '' }, 'ws-sessions': { type: 'string', default: '0' } },
  allowPositionals: true,
});
const chosen = positionals.length > 0 ? positionals : ['off', 'r01'];
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-gc-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
const nodeOptions = ['--trace-gc-nvp', ...args['node-flags'].split(' ').filter(Boolean)];

const gateways = [];
const heldSessions = [];
try {
  for (const [name, variant] of chooseVariants(tracingVariants(sink.url), chosen)) {
    const env = { OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_REDIS_URL: redis.url, OPENCLAW_LOG_LEVEL: 'warn', OPENCLAW_WS_MAX_CONNECTIONS_PER_IP: '0', ...variant.env };
    gateways.push({ name, gateway: await startGateway({ name, workDir, env, nodeOptions }) });
  }
  const load = ({ gateway }, duration) =>
    autocannon({ url: gateway.url, connections: 20, duration, requests: [{ path: '/v1/models', headers: { authorization: `Bearer ${token}` } }] });
  const sessions = Number(args['ws-sessions']);
  for (const { name, gateway } of sessions > 0 ? gateways : []) {
    const held = await openIdleSessions({ url: gateway.wsUrl, token, count: sessions, concurrency: 100, sources: loopbackSources(60) });
    heldSessions.push(held);
    console.log(`${name.padEnd(13)} ${held.opened} WebSocket sessions open`);
  }
  for (const entry of gateways) await load(entry, 2);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const entry of gateways) {
      const logged = readFileSync(entry.gateway.logFile, 'utf8').length;
      const result = await load(entry, 4);
      const lines = readFileSync(entry.gateway.logFile, 'utf8').slice(logged).split('\n');
      console.log(`${entry.name.padEnd(13)} ${summary(lines, result.requests.total)}`);
    }
  }
} finally {
  for (const held of heldSessions) await held.release();
  for (const { gateway } of gateways) await gateway.stop('SIGTERM', 30_000);
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** One load's collections, from V8's name=value lines (`gc=s` a scavenge, `gc=mc` a mark-compact). */
function summary(lines, requests) {
  const scavenges = lines.filter((line) => line.includes(' gc=s '));
  const fullCollections = lines.filter((line) => line.includes(' gc=mc '));
  const sum = (entries, key) => entries.reduce((total, line) => total + Number(new RegExp(`\\b${key}=([\\d.]+)`).exec(line)?.[1] ?? 0), 0);
  const perScavenge = (key, scale = 1) => (scavenges.length === 0 ? 0 : sum(scavenges, key) / scavenges.length / scale);
  return [
    `${Math.round(requests / 4)} req/s`,
    `${((scavenges.length / requests) * 1000).toFixed(2)} scavenges a thousand requests, ${((sum(scavenges, 'pause') / requests) * 1000).toFixed(3)} µs of pause a request`,
    `a scavenge: survived ${perScavenge('new_space_survived', 1024).toFixed(0)} KB, promoted ${perScavenge('promoted', 1024).toFixed(0)} KB, parallel phase ${perScavenge('scavenge.parallel').toFixed(2)} ms, helpers ${perScavenge('background.scavenge.parallel').toFixed(2)} ms`,
    `${fullCollections.length} mark-compacts (${sum(fullCollections, 'pause').toFixed(1)} ms)`,
  ].join('; ');
}
