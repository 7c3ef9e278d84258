// Instructions per authenticated `GET /v1/models` (the HTTP fast lane), counted by valgrind's callgrind in
// the gateway process: repeatable to about 2 % on a box whose speed moves by tens of percent from one
// minute to the next, where req/s and CPU time cannot tell a 3 % change from noise. User space only (the
// kernel's TCP work is not counted) and every thread (V8's GC helpers included). README "Sixth round".
//   node bench/instructions.mjs [--requests N] [variant ...]
// Variants: off (no tracing), r0 (tracing on, ratio 0: nothing sampled), r01 (ratio 0.1), on (always_on).
// Each gateway runs under callgrind with instrumentation off; N warm-up requests, then instrumentation on
// for N measured requests. Roughly a minute a variant for the default 20,000.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startGateway, startNodeServer, startRedis } from './lib/processes.mjs';

const { values: args, positionals } = parseArgs({ options: { requests: { type: 'string', default: '20000' } }, allowPositionals: true });
const requests = Number(args.requests);
const chosen = positionals.length > 0 ? positionals : ['off', 'r0', 'r01'];
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-instructions-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
const traced = (sampler, ratio) => ({ OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: ratio });
const VARIANTS = {
  off: {},
  r0: traced('parentbased_traceidratio', '0'),
  r01: traced('parentbased_traceidratio', '0.1'),
  on: traced('always_on', ''),
};

try {
  for (const name of chosen) {
    if (!VARIANTS[name]) throw new Error(`unknown variant "${name}"; known: ${Object.keys(VARIANTS).join(', ')}`);
    const perRequest = await measure(name, VARIANTS[name]);
    console.log(`${name.padEnd(4)} ${Math.round(perRequest).toLocaleString('en-US').padStart(9)} instructions a request (node ${process.version})`);
  }
} finally {
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}

async function measure(name, env) {
  const outFile = join(workDir, `${name}.callgrind`);
  const gateway = await startGateway({
    name,
    workDir,
    env: { ...env, OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_REDIS_URL: redis.url },
    launcher: ['valgrind', '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${outFile}`],
    readyTimeoutMs: 300_000,
  });
  const { url } = gateway;
  try {
    const load = () =>
      autocannon({ url, connections: 20, amount: requests, timeout: 60, requests: [{ path: '/v1/models', headers: { authorization: `Bearer ${token}` } }] });
    await load();
    execFileSync('callgrind_control', ['--instr=on', String(gateway.pid)], { stdio: 'ignore' });
    const result = await load();
    execFileSync('callgrind_control', ['--instr=off', String(gateway.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', String(gateway.pid)], { stdio: 'ignore' });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  } finally {
    await gateway.stop('SIGTERM', 60_000);
  }
  // The dump holds the measured window; the file written at exit holds what came after it.
  let instructions = 0;
  for (const file of readdirSync(workDir).filter((f) => f.startsWith(`${name}.callgrind`))) {
    const totals = readFileSync(join(workDir, file), 'utf8').match(/^totals:\s+(\d+)/m);
    if (totals) instructions = Math.max(instructions, Number(totals[1]));
  }
  return instructions / requests;
}
