// CPU time per authenticated `GET /v1/models` (the HTTP fast lane) of several gateway variants at once, read
// from /proc/<pid>/stat (user + system, every thread) around alternating 4 s loads, so that a box whose speed
// drifts moves every variant alike. What tracing costs in time, where bench/instructions.mjs counts
// instructions (user space only) — the two disagree by about half on this path. README "Seventh round".
//   node bench/cpuPerRequest.mjs [--rounds N] [variant[@DIR] ...]   (@DIR: the build in DIR/dist, e.g. a worktree)
// Variants: off, als (off, with AsyncLocalStorage's hook turned on), r0, r01, r01-noexport (ratio 0.1 with
// every span dropped at the processor: OTEL_BSP_MAX_QUEUE_SIZE=0), on (always_on).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { cpuMicros, startGateway, startNodeServer, startRedis } from './lib/processes.mjs';
import { chooseVariants, tracingVariants } from './lib/tracingVariants.mjs';

const { values: args, positionals } = parseArgs({ options: { rounds: { type: 'string', default: '3' } }, allowPositionals: true });
const chosen = positionals.length > 0 ? positionals : ['off', 'als', 'r01-noexport', 'r01'];
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-cpu-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
// An --import that runs one empty AsyncLocalStorage context: Node 20 keeps its async hook on from then on.
const alsModule = join(workDir, 'als.mjs');
writeFileSync(alsModule, "import { AsyncLocalStorage } from 'node:async_hooks';\nnew AsyncLocalStorage().run({}, () => {});\n");
const VARIANTS = {
  ...tracingVariants(sink.url),
  als: { nodeOptions: ['--import', alsModule] },
};
const CLOCK_TICK_US = 10_000; // USER_HZ = 100 on Linux

const gateways = [];
try {
  for (const choice of chosen) {
    // `variant@DIR`: the variant of another build (DIR/dist/cli.js, e.g. a worktree of the commit before).
    const [variantName, buildDir] = choice.split('@');
    const [[, variant]] = chooseVariants(VARIANTS, [variantName]);
    const env = { OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_REDIS_URL: redis.url, ...variant.env };
    const cli = buildDir ? join(buildDir, 'dist/cli.js') : undefined;
    const name = choice.replace(/[^\w.-]+/g, '_');
    gateways.push({ name: choice, gateway: await startGateway({ name, workDir, env, nodeOptions: variant.nodeOptions, cli }), cpu: [] });
  }
  const load = ({ gateway }, duration) =>
    autocannon({ url: gateway.url, connections: 20, duration, requests: [{ path: '/v1/models', headers: { authorization: `Bearer ${token}` } }] });
  for (const entry of gateways) await load(entry, 3);
  for (let round = 0; round < Number(args.rounds); round++) {
    for (const entry of gateways) {
      const before = cpuMicros(entry.gateway.pid);
      const threadsBefore = threadCpuUs(entry.gateway.pid);
      const faultsBefore = minorFaults(entry.gateway.pid);
      const result = await load(entry, 4);
      if (result.non2xx > 0 || result.errors > 0) throw new Error(`${entry.name}: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
      entry.cpu.push((cpuMicros(entry.gateway.pid) - before) / result.requests.total);
      (entry.faults ??= []).push((minorFaults(entry.gateway.pid) - faultsBefore) / result.requests.total);
      const threadsAfter = threadCpuUs(entry.gateway.pid);
      const split = {};
      for (const [group, after] of Object.entries(threadsAfter)) {
        const was = threadsBefore[group] ?? { user: 0, system: 0 };
        split[group] = { user: (after.user - was.user) / result.requests.total, system: (after.system - was.system) / result.requests.total };
      }
      (entry.splits ??= []).push(split);
    }
  }
  for (const { name, cpu } of gateways) {
    const sorted = [...cpu].sort((a, b) => a - b);
    console.log(`${name.padEnd(13)} ${sorted[Math.floor(sorted.length / 2)].toFixed(1).padStart(5)} µs of CPU a request (median; ${cpu.map((x) => x.toFixed(1)).join(', ')})`);
  }
  // Where the time went, summed over the rounds: per thread group (main = the event loop), user and system.
  for (const { name, splits } of gateways) {
    const total = {};
    for (const split of splits) {
      for (const [group, { user, system }] of Object.entries(split)) {
        total[group] ??= { user: 0, system: 0 };
        total[group].user += user / splits.length;
        total[group].system += system / splits.length;
      }
    }
    const parts = Object.entries(total)
      .filter(([, t]) => t.user + t.system >= 0.05)
      .map(([group, t]) => `${group} ${t.user.toFixed(1)}u+${t.system.toFixed(1)}s`);
    console.log(`${name.padEnd(13)} mean µs a request by thread: ${parts.join(', ')}`);
    const faults = gateways.find((g) => g.name === name).faults;
    console.log(`${name.padEnd(13)} minor page faults a request: ${faults.map((x) => x.toFixed(3)).join(', ')}`);
  }
} finally {
  for (const { gateway } of gateways) await gateway.stop('SIGTERM', 30_000);
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** utime/stime in µs of every thread, summed per group: `main` (the event loop) or the thread's name. */
function threadCpuUs(pid) {
  const groups = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = fieldsAfterName(stat);
    groups[name] ??= { user: 0, system: 0 };
    groups[name].user += Number(fields[11]) * CLOCK_TICK_US;
    groups[name].system += Number(fields[12]) * CLOCK_TICK_US;
  }
  return groups;
}

/** The fields of a /proc stat line after `pid (name)`: [7] minflt, [11] utime, [12] stime (clock ticks). */
function fieldsAfterName(stat) {
  return stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
}

function minorFaults(pid) {
  return Number(fieldsAfterName(readFileSync(`/proc/${pid}/stat`, 'utf8'))[7]);
}
