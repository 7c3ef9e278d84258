// Instructions per authenticated `GET /v1/models` (the HTTP fast lane), counted by valgrind's callgrind in
// the gateway process, user space only (the kernel's TCP work is not counted). Two counts a variant: the main
// thread (the event loop, which serves the requests; repeatable to about 1 %) and every thread (V8's
// compiler and GC helpers too, whose share moves by ±10 % from run to run). On a box whose speed moves by tens
// of percent from one minute to the next, req/s and CPU time cannot tell a 3 % change from noise; the main
// thread's count can. bench/README.md "Sixth round", "Ninth round".
//   node bench/instructions.mjs [--requests N] [--forwarded-for] [variant ...]
// Without --forwarded-for the requests come from loopback with a loopback Host, so the gateway answers them with
// the loopback method (auth.allowLoopback, on by default); --forwarded-for sends what the `npm run bench` rows send
// (X-Forwarded-For from a trusted proxy at 127.0.0.1), which the bearer token (or the device token) answers.
// Variants: off (no tracing), r0 (tracing on, ratio 0: nothing sampled), r01 (ratio 0.1), r01-noexport (ratio 0.1,
// every span dropped at the processor), on (always_on),
// device (off, with a paired device's token instead of the gateway token), baseline (the bare fastify server
// of `npm run bench`, the same requests).
// Each gateway runs under callgrind with instrumentation off; N warm-up requests, then instrumentation on
// for N measured requests. Roughly a minute a variant for the default 20,000.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { CLIENT_IP } from './lib/addresses.mjs';
import { pairDevice } from './lib/pairing.mjs';
import { startGateway, startNodeServer, startRedis } from './lib/processes.mjs';
import { chooseVariants, tracingVariants } from './lib/tracingVariants.mjs';

const { values: args, positionals } = parseArgs({
  options: { requests: { type: 'string', default: '20000' }, 'forwarded-for': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const forwarded = args['forwarded-for'] ? { 'x-forwarded-for': CLIENT_IP } : {};
const requests = Number(args.requests);
const chosen = positionals.length > 0 ? positionals : ['off', 'r0', 'r01'];
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-instructions-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
const VARIANTS = {
  ...tracingVariants(sink.url),
  device: { env: {}, device: true },
  baseline: { baseline: true },
};

try {
  for (const [name, variant] of chooseVariants(VARIANTS, chosen)) {
    const perRequest = await measure(name, variant);
    const format = (count) => Math.round(count).toLocaleString('en-US').padStart(9);
    console.log(`${name.padEnd(12)} ${format(perRequest.main)} instructions a request on the main thread, ${format(perRequest.all)} on all threads (node ${process.version})`);
  }
} finally {
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}

async function measure(name, variant) {
  const outFile = join(workDir, `${name}.callgrind`);
  const callgrind = ['valgrind', '--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', `--callgrind-out-file=${outFile}`];
  const server = variant.baseline
    ? await startNodeServer({ name, script: 'baseline.mjs', workDir, launcher: callgrind, readyTimeoutMs: 300_000 })
    : await startGateway({
        name,
        workDir,
        env: { ...variant.env, OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_REDIS_URL: redis.url, OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
        launcher: callgrind,
        readyTimeoutMs: 300_000,
      });
  const { url } = server;
  const secret = variant.device ? await pairDevice(server.wsUrl) : token;
  try {
    const load = () =>
      autocannon({ url, connections: 20, amount: requests, timeout: 60, requests: [{ path: '/v1/models', headers: { authorization: `Bearer ${secret}`, ...forwarded } }] });
    await load();
    execFileSync('callgrind_control', ['--instr=on', String(server.pid)], { stdio: 'ignore' });
    const result = await load();
    execFileSync('callgrind_control', ['--instr=off', String(server.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  } finally {
    await server.stop('SIGTERM', 60_000);
  }
  // The dump holds the measured window, one file a thread (…-01 is the main thread); the files written at exit
  // hold what came after it, so each thread's count is the larger of its two.
  const perThread = new Map();
  for (const file of readdirSync(workDir).filter((f) => f.startsWith(`${name}.callgrind`))) {
    const totals = readFileSync(join(workDir, file), 'utf8').match(/^totals:\s+(\d+)/m);
    const thread = file.match(/-(\d+)$/)?.[1];
    if (totals && thread) perThread.set(thread, Math.max(perThread.get(thread) ?? 0, Number(totals[1])));
  }
  let all = 0;
  for (const count of perThread.values()) all += count;
  return { main: (perThread.get('01') ?? 0) / requests, all: all / requests };
}

