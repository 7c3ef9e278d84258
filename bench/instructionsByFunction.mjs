// Where two variants' instructions differ, function by function: each gateway runs as in bench/instructions.mjs
// (callgrind, N warm-up then N measured lane requests), started with --perf-basic-prof-only-functions so that its
// JIT code can be named from node's perf map; the main thread's self cost per function is summed by name and
// the second variant's minus the first's printed per request, largest first, with totals by kind of code.
// Counts under callgrind over-weigh some JIT code against native time (bench/README "Fourteenth round"): they
// show where to look; time decides. Roughly a minute and a half a variant.
//   node bench/instructionsByFunction.mjs [--requests N] [--top K] [--forwarded-for] A B   (variants as instructions.mjs)
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_IP } from './lib/addresses.mjs';
import { callgrindRun, callgrindVariants } from './lib/callgrind.mjs';
import { startNodeServer, startRedis } from './lib/processes.mjs';
import { chooseVariants } from './lib/tracingVariants.mjs';

const { values: args, positionals } = parseArgs({
  options: {
    requests: { type: 'string', default: '20000' },
    top: { type: 'string', default: '40' },
    'forwarded-for': { type: 'boolean', default: false },
  },
  allowPositionals: true,
});
if (positionals.length !== 2) throw new Error('two variants, e.g. off r01');
const requests = Number(args.requests);
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-by-function-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });

try {
  const profiles = [];
  for (const [name, variant] of chooseVariants(callgrindVariants(sink.url), positionals)) {
    const headers = args['forwarded-for'] ? { 'x-forwarded-for': CLIENT_IP } : {};
    const run = await callgrindRun({ name, variant, workDir, redisUrl: redis.url, token, requests, headers, perfMap: true });
    profiles.push(selfCostByFunction(run.mainProfile, join(workDir, `${name}.map`)));
  }
  const [a, b] = profiles;
  const names = new Set([...a.keys(), ...b.keys()]);
  const rows = [...names].map((fn) => ({ fn, a: (a.get(fn) ?? 0) / requests, b: (b.get(fn) ?? 0) / requests }));
  rows.sort((x, y) => y.b - y.a - (x.b - x.a));
  const fmt = (n) => n.toFixed(1).padStart(9);
  console.log(`${'B - A'.padStart(9)} ${positionals[0].padStart(9)} ${positionals[1].padStart(9)}  function (instructions a request, main thread)`);
  for (const { fn, a: x, b: y } of rows.slice(0, Number(args.top))) console.log(`${fmt(y - x)} ${fmt(x)} ${fmt(y)}  ${fn.slice(0, 140)}`);
  const kinds = new Map();
  for (const { fn, a: x, b: y } of rows) kinds.set(kindOf(fn), (kinds.get(kindOf(fn)) ?? 0) + y - x);
  console.log(`total ${fmt([...kinds.values()].reduce((sum, n) => sum + n, 0))}; by kind: ${[...kinds].map(([kind, n]) => `${kind} ${n.toFixed(0)}`).join(', ')}`);
} finally {
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}

/** Self cost per function name from callgrind_annotate, JIT addresses named from node's perf map (start, size, name). */
function selfCostByFunction(profile, mapFile) {
  const map = readFileSync(mapFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [start, size, ...name] = line.split(' ');
      return { start: parseInt(start, 16), end: parseInt(start, 16) + parseInt(size, 16), name: name.join(' ') };
    })
    .sort((x, y) => x.start - y.start);
  const nameAt = (address) => {
    let low = 0;
    let high = map.length - 1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (map[mid].start <= address) low = mid + 1;
      else high = mid - 1;
    }
    const entry = map[high];
    return entry && address < entry.end ? entry.name : 'JIT code not in the map';
  };
  const annotated = execFileSync('callgrind_annotate', ['--threshold=100', profile], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const costs = new Map();
  for (const line of annotated.split('\n')) {
    const match = line.match(/^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.*)$/);
    if (!match || line.includes('PROGRAM TOTALS')) continue;
    const cost = Number(match[1].replaceAll(',', ''));
    const address = match[2].match(/^\?\?\?:0x([0-9a-f]+)/);
    const fn = address ? nameAt(parseInt(address[1], 16)) : match[2].replace(/^\?\?\?:/, '').replace(/ \[.*\]$/, '');
    costs.set(fn, (costs.get(fn) ?? 0) + cost);
  }
  return costs;
}

function kindOf(fn) {
  if (/telemetry\/|@opentelemetry/.test(fn)) return 'tracing JS';
  if (fn.includes('node:')) return "node's JS";
  if (fn.includes('/dist/')) return 'gateway JS';
  if (fn.startsWith('JS:')) return 'other JS';
  if (fn.startsWith('Builtins_')) return 'V8 builtins';
  return 'native';
}
