// One gateway (or the bare fastify baseline) under valgrind's callgrind with instrumentation off; `requests`
// warm-up requests of the lane's GET /v1/models, then instrumentation on for `requests` measured ones, dumped.
// Shared by bench/instructions.mjs (totals) and bench/instructionsByFunction.mjs (per function).
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { pairDevice } from './pairing.mjs';
import { startGateway, startNodeServer } from './processes.mjs';
import { tracingVariants } from './tracingVariants.mjs';

/**
 * @param {object} options
 * @param {string} options.name        the variant's name (file names in workDir start with it)
 * @param {{ env?: object, device?: boolean, baseline?: boolean }} options.variant
 * @param {string} options.workDir
 * @param {string} options.redisUrl
 * @param {string} options.token       the gateway token
 * @param {number} options.requests
 * @param {Record<string,string>} options.headers  sent with every request besides the Authorization header
 * @param {boolean} [options.perfMap]  start node with --perf-basic-prof-only-functions and keep its map as <name>.map
 * @returns {Promise<{ main: number, all: number, mainProfile: string }>} instructions a request on the main thread
 *   and on all threads; the main thread's profile of the measured window (a callgrind file)
 */
export async function callgrindRun({ name, variant, workDir, redisUrl, token, requests, headers, perfMap = false }) {
  const outFile = join(workDir, `${name}.callgrind`);
  const launcher = ['valgrind', '--tool=callgrind', '--separate-threads=yes', '--instr-atstart=no', `--callgrind-out-file=${outFile}`];
  const nodeOptions = perfMap ? ['--perf-basic-prof-only-functions'] : [];
  const server = variant.baseline
    ? await startNodeServer({ name, script: 'baseline.mjs', workDir, launcher, nodeOptions, readyTimeoutMs: 300_000 })
    : await startGateway({
        name,
        workDir,
        env: { ...variant.env, OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_REDIS_URL: redisUrl, OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1' },
        launcher,
        nodeOptions,
        readyTimeoutMs: 300_000,
      });
  const secret = variant.device ? await pairDevice(server.wsUrl) : token;
  try {
    const load = () =>
      autocannon({ url: server.url, connections: 20, amount: requests, timeout: 60, requests: [{ path: '/v1/models', headers: { authorization: `Bearer ${secret}`, ...headers } }] });
    await load();
    execFileSync('callgrind_control', ['--instr=on', String(server.pid)], { stdio: 'ignore' });
    const result = await load();
    execFileSync('callgrind_control', ['--instr=off', String(server.pid)], { stdio: 'ignore' });
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
    if (result.non2xx > 0 || result.errors > 0) throw new Error(`${name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
    const map = `/tmp/perf-${server.pid}.map`;
    if (perfMap && existsSync(map)) copyFileSync(map, join(workDir, `${name}.map`));
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
  return { main: (perThread.get('01') ?? 0) / requests, all: all / requests, mainProfile: join(workDir, `${name}.callgrind.1-01`) };
}

/** The variants both callgrind tools know: tracingVariants', `device` (a paired device's token), `baseline` (bare fastify). */
export function callgrindVariants(sinkUrl) {
  return { ...tracingVariants(sinkUrl), device: { env: {}, device: true }, baseline: { baseline: true } };
}
