// `npm run bench`: gateway throughput as ratios to a bare fastify baseline measured in the same run, plus
// Redis commands per request, WebSocket handshakes and memory. See bench/README.md.
//   node bench/run.mjs [--quick] [--out DIR] [--only id,id,…] [--cpu-prof DIR]
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CLIENT_IP, blockedSources, loopbackSources } from './lib/addresses.mjs';
import { measureHttp, measurePair } from './lib/httpLoad.mjs';
import { pairDevice } from './lib/pairing.mjs';
import { REPO_ROOT, redisCommandCounts, rssBytes, startGateway, startNodeServer, startRedis } from './lib/processes.mjs';
import { markdownTable, writeResults } from './lib/report.mjs';
import { measureHandshakes, openIdleSessions } from './lib/wsLoad.mjs';

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    out: { type: 'string', default: join(REPO_ROOT, 'bench/results') },
    only: { type: 'string' },
    'cpu-prof': { type: 'string' },
  },
});

const FULL = {
  timing: { warmupSeconds: 2, runSeconds: 4 },
  connections: 50,
  idleSessions: 10_000,
  handshakeMs: 4_000,
  handshakeConcurrency: 64,
  blockedAddresses: 256,
};
const QUICK = {
  timing: { warmupSeconds: 0.3, runSeconds: 0.5 },
  connections: 10,
  idleSessions: 200,
  handshakeMs: 500,
  handshakeConcurrency: 16,
  blockedAddresses: 8,
};
const settings = args.quick ? QUICK : FULL;
/** The test upstream's time to answer (a model's time to first token); see README "Chat proxy". */
const UPSTREAM_LATENCY_MS = 25;
const UPSTREAM_CHUNKS = 5;

/** Every scenario in run order; `needs` pulls in what its ratio is taken against. */
const SCENARIOS = [
  { id: 'idle-rss' },
  { id: 'ws-idle' },
  { id: 'ws-handshakes' },
  { id: 'baseline' },
  { id: 'bearer', needs: ['baseline'] },
  { id: 'bearer-after-ws', needs: ['baseline', 'ws-handshakes'] },
  { id: 'device', needs: ['baseline'] },
  { id: 'password', needs: ['baseline'] },
  { id: 'redis-per-request', needs: ['bearer', 'device', 'password'] },
  { id: 'unauthorized', needs: ['baseline'] },
  { id: 'blocked', needs: ['baseline'] },
  { id: 'chat-direct' },
  { id: 'chat', needs: ['chat-direct'] },
  { id: 'chat-stream-direct' },
  { id: 'chat-stream', needs: ['chat-stream-direct'] },
  { id: 'tracing' },
];

function selectedIds() {
  const known = new Set(SCENARIOS.map((s) => s.id));
  if (!args.only) return known;
  const chosen = new Set();
  const add = (id) => {
    if (!known.has(id)) throw new Error(`unknown scenario "${id}"; known: ${[...known].join(', ')}`);
    if (chosen.has(id)) return;
    chosen.add(id);
    for (const need of SCENARIOS.find((s) => s.id === id).needs ?? []) add(need);
  };
  for (const id of args.only.split(',').map((s) => s.trim()).filter(Boolean)) add(id);
  return chosen;
}

const selected = selectedIds();
const wants = (...ids) => ids.some((id) => selected.has(id));
const startedAt = new Date();
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-bench-'));
const token = randomBytes(32).toString('hex');
const password = `bench-password-${randomBytes(6).toString('hex')}`;
const rows = [];
const results = {};
const log = (message) => process.stderr.write(`[bench] ${message}\n`);

function row(id, scenario, figure, unit, { ratio = null, target = '—', pass = null, details = {} } = {}) {
  const entry = { id, scenario, figure, unit, ratio, target, pass, details };
  rows.push(entry);
  const shown = ratio === null ? '' : ` (${ratio.toFixed(2)}×)`;
  log(`${scenario}: ${typeof figure === 'number' ? Math.round(figure * 1000) / 1000 : figure} ${unit}${shown}`);
  return entry;
}

/** reference: the other side of the ratio, measured in alternation with result (measurePair). */
function ratioRow(id, scenario, result, reference, minRatio, extra = {}) {
  const ratio = reference ? result.rps / reference.rps : null;
  const target = minRatio === null ? '—' : `≥ ${minRatio}× ${extra.against ?? 'baseline'}`;
  const clean = result.unexpected <= result.expected * 0.001;
  const pass = minRatio === null ? null : ratio !== null && ratio >= minRatio && clean;
  const referenceDetails = reference ? { referenceRps: reference.rps, referenceRuns: reference.runs, referenceCpuMicrosPerRequest: reference.cpuMicrosPerRequest } : {};
  return row(id, scenario, result.rps, 'req/s', { ratio, target, pass, details: { ...result, ...referenceDetails, ...extra.details } });
}

async function main() {
  log(`${args.quick ? 'quick' : 'full'} run; scenarios: ${[...selected].join(', ')}; work dir ${workDir}`);
  // The WebSocket rows' gateway (it also pairs the device), and the HTTP rows' own: README "Like with like".
  const needsGateway = wants('idle-rss', 'ws-idle', 'ws-handshakes', 'device', 'bearer-after-ws');
  const needsHttpGateway = wants('bearer', 'device', 'password', 'unauthorized', 'blocked', 'chat', 'chat-stream');
  const needsUpstream = wants('chat', 'chat-direct', 'chat-stream', 'chat-stream-direct');
  const redis = needsGateway || needsHttpGateway || wants('tracing') ? await startRedis({ workDir }) : undefined;
  const upstream = needsUpstream
    ? await startNodeServer({ name: 'upstream', script: 'upstream.mjs', workDir, args: [String(UPSTREAM_LATENCY_MS), String(UPSTREAM_CHUNKS)] })
    : undefined;
  const gatewayEnv = {
    OPENCLAW_GATEWAY_TOKEN: token,
    OPENCLAW_GATEWAY_PASSWORD: password,
    OPENCLAW_REDIS_URL: redis?.url ?? '',
    OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1',
    // 10,000 sessions come from a few loopback addresses; the per-IP cap protects real deployments, not this.
    OPENCLAW_WS_MAX_CONNECTIONS_PER_IP: '0',
    OPENCLAW_UPSTREAM_URL: upstream ? `${upstream.url}/v1` : '',
    OPENCLAW_UPSTREAM_MODEL: 'bench-model',
  };
  // --cpu-prof DIR: the gateway writes a V8 CPU profile there when it stops (summarise with bench/profileSummary.mjs).
  const nodeOptions = args['cpu-prof'] ? ['--cpu-prof', '--cpu-prof-dir', args['cpu-prof']] : [];
  const gateway = needsGateway ? await startGateway({ name: 'gateway', env: gatewayEnv, workDir, nodeOptions }) : undefined;

  if (selected.has('idle-rss')) {
    // Steady idle state, not the first seconds: start-up (module loading) grows V8's young generation, and
    // V8's memory reducer gives it back once the process is idle (~8 s after start). Sampled every second
    // until RSS has come down from its peak and held for 3 s, or for at most 30 s (then the last sample
    // counts, reduced or not). The samples, the 2 s one among them, are kept in the details. README "Idle RSS".
    const samples = [];
    const startedMs = Date.now();
    const settleMaxMs = args.quick ? 200 : 30_000;
    let peakMb = 0;
    while (Date.now() - startedMs < settleMaxMs) {
      await sleep(args.quick ? 100 : 1_000);
      const mb = rssBytes(gateway.pid) / 2 ** 20;
      samples.push({ afterMs: Date.now() - startedMs, mb });
      peakMb = Math.max(peakMb, mb);
      const lastThree = samples.slice(-3).map((s) => s.mb);
      const settled = lastThree.length === 3 && Math.max(...lastThree) - Math.min(...lastThree) < 0.5 && mb < peakMb * 0.95;
      if (settled) break;
    }
    const rss = samples.at(-1).mb;
    row('idle-rss', 'idle RSS of one gateway (Redis configured), steady state', rss, 'MB', {
      target: '< 80 MB',
      pass: rss < 80,
      details: { peakMb, atTwoSecondsMb: samples.find((s) => s.afterMs >= 2_000)?.mb, samples },
    });
  }

  const sources = loopbackSources(args.quick ? 4 : 60);
  if (selected.has('ws-idle')) {
    const before = rssBytes(gateway.pid);
    const idle = await openIdleSessions({ url: gateway.wsUrl, token, count: settings.idleSessions, concurrency: 100, sources });
    await sleep(args.quick ? 300 : 3_000);
    const after = rssBytes(gateway.pid);
    const stillOpen = await idle.release();
    const perSessionKb = (after - before) / Math.max(idle.opened, 1) / 1024;
    const complete = idle.opened === settings.idleSessions && stillOpen === idle.opened;
    row('ws-idle', `${settings.idleSessions.toLocaleString('en-US')} idle authenticated WebSocket sessions: RSS per session`, perSessionKb, 'KB', {
      target: '< 16 KB',
      pass: complete && perSessionKb < 16,
      details: { ...idle, stillOpen, rssBeforeMb: before / 2 ** 20, rssAfterMb: after / 2 ** 20 },
    });
    await sleep(args.quick ? 100 : 1_000); // let the gateway reap the closed sockets
  }

  if (selected.has('ws-handshakes')) {
    const runs = [];
    const handshakes = (durationMs, client = 'raw') =>
      measureHandshakes({ url: gateway.wsUrl, token, concurrency: settings.handshakeConcurrency, durationMs, sources, client, pid: gateway.pid });
    await handshakes(settings.handshakeMs / 2);
    for (let i = 0; i < 2; i++) runs.push(await handshakes(settings.handshakeMs));
    // For reference, the same exchange from ws's own client (costlier on the client side; README "WebSocket").
    const wsLibrary = await handshakes(settings.handshakeMs);
    const best = runs.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    row('ws-handshakes', 'WebSocket connect handshakes (open + connect with token)', best.perSecond, '/s', {
      target: '≥ 3,000/s',
      pass: best.perSecond >= 3000 && best.failed === 0,
      details: { ...best, runs: runs.map((r) => Math.round(r.perSecond)), wsLibraryClientPerSecond: Math.round(wsLibrary.perSecond) },
    });
  }

  // A gateway process of their own for the HTTP rows: one that has served WebSocket sessions runs node's HTTP path
  // and its own auth entry points polymorphic for the rest of its life (≈ 8–16 % more CPU a request), where the
  // bare fastify baseline has served one kind of request only. Like with like; bearer-after-ws shows the other.
  const httpGateway = needsHttpGateway ? await startGateway({ name: 'gateway-http', env: gatewayEnv, workDir, nodeOptions }) : undefined;
  const { timing, connections } = settings;
  // A pair measured while the box changed speed is measured once more, once a run (httpLoad.mjs measurePair).
  const pairRetries = { left: 1 };
  const spec = (fields) => ({ timing, connections, expectStatus: 200, ...fields });
  // Every row against the baseline re-measures it in alternation with the row (bench/README.md "Ratios").
  let baseline;
  let baselineSpec;
  if (selected.has('baseline')) {
    baseline = await startNodeServer({ name: 'baseline', script: 'baseline.mjs', workDir });
    baselineSpec = spec({ url: baseline.url, path: '/v1/models', headers: { authorization: `Bearer ${token}`, 'x-forwarded-for': CLIENT_IP }, pid: baseline.pid });
    results.baseline = await measureHttp(baselineSpec);
    row('baseline', 'baseline: bare fastify, small JSON body', results.baseline.rps, 'req/s', { ratio: 1, details: results.baseline });
  }
  // The baseline gets the row's own requests (it ignores their headers), built the same way — rotating
  // X-Forwarded-For rows rebuild every request in autocannon — so the client's share of the two cores is
  // the same on both sides of the ratio.
  // Rows without a target (bearer-after-ws, password) leave the run's one retry to the rows that have one.
  const againstBaseline = async (id, fields, { retry = true } = {}) => {
    // its own copy of a rotation: each side counts the addresses it has taken
    const forwardedFor = fields.forwardedFor && { ...fields.forwardedFor };
    const reference = { ...baselineSpec, headers: fields.headers ?? baselineSpec.headers, forwardedFor };
    const { reference: measured, target } = await measurePair(reference, spec({ pid: httpGateway?.pid, ...fields }), retry ? pairRetries : undefined);
    results[id] = target;
    return measured;
  };

  // Successful requests must not touch Redis: count its commands around the measured runs of each. The
  // cluster bus publishes one heartbeat per second per gateway whatever the traffic; those PUBLISHes are not requests'.
  const redisUse = { commands: {}, seconds: 0 };
  const countRedis = () => {
    let before = {};
    let startedMs = 0;
    return {
      beforeRuns: async () => {
        before = await redisCommandCounts(redis.port);
        startedMs = Date.now();
      },
      afterRuns: async () => {
        const after = await redisCommandCounts(redis.port);
        redisUse.seconds += (Date.now() - startedMs) / 1000;
        for (const [command, calls] of Object.entries(after)) {
          const delta = calls - (before[command] ?? 0);
          if (delta > 0) redisUse.commands[command] = (redisUse.commands[command] ?? 0) + delta;
        }
      },
    };
  };
  const success = (secret) => ({ authorization: `Bearer ${secret}`, 'x-forwarded-for': CLIENT_IP });
  if (selected.has('bearer')) {
    await expectIdentity(httpGateway, success(token), 'token');
    const reference = await againstBaseline('bearer', { url: httpGateway.url, path: '/v1/models', headers: success(token), hooks: countRedis() });
    ratioRow('bearer', 'GET /v1/models, bearer token', results.bearer, reference, 0.85);
  }
  if (selected.has('bearer-after-ws')) {
    await expectIdentity(gateway, success(token), 'token');
    const reference = await againstBaseline('bearer-after-ws', { url: gateway.url, path: '/v1/models', headers: success(token), pid: gateway.pid }, { retry: false });
    ratioRow('bearer-after-ws', 'GET /v1/models, bearer token, on the gateway that served the WebSocket rows', results['bearer-after-ws'], reference, null);
  }
  if (selected.has('device')) {
    // Paired through the other gateway (a WebSocket exchange); this one finds the device in the shared store.
    const deviceToken = await pairDevice(gateway.wsUrl);
    await expectIdentity(httpGateway, success(deviceToken), 'device');
    const reference = await againstBaseline('device', { url: httpGateway.url, path: '/v1/models', headers: success(deviceToken), hooks: countRedis() });
    ratioRow('device', 'GET /v1/models, device token', results.device, reference, 0.8);
  }
  if (selected.has('password')) {
    await expectIdentity(httpGateway, success(password), 'password');
    const reference = await againstBaseline('password', { url: httpGateway.url, path: '/v1/models', headers: success(password), hooks: countRedis() }, { retry: false });
    ratioRow('password', 'GET /v1/models, password', results.password, reference, null);
  }
  if (selected.has('redis-per-request')) {
    const succeeded = ['bearer', 'device', 'password'].reduce((sum, id) => sum + (results[id]?.expectedResponses ?? 0), 0);
    const total = Object.values(redisUse.commands).reduce((sum, calls) => sum + calls, 0);
    const replicas = (gateway ? 1 : 0) + (httpGateway ? 1 : 0); // each publishes its own heartbeat
    const heartbeats = Math.min(redisUse.commands.publish ?? 0, (Math.ceil(redisUse.seconds) + 3) * replicas);
    const redisCommands = total - heartbeats;
    const perRequest = redisCommands / Math.max(succeeded, 1);
    row('redis-per-request', 'Redis commands per successful request (bearer, device, password)', perRequest, 'commands', {
      target: '0',
      pass: redisCommands === 0 && succeeded > 0,
      details: { redisCommands, commandsSeen: redisUse.commands, heartbeatPublishes: heartbeats, measuredSeconds: redisUse.seconds, successfulRequests: succeeded },
    });
  }

  const wrongToken = randomBytes(32).toString('hex');
  if (selected.has('unauthorized')) {
    // Every request from a different client than the last; no client reaches the 20 failures that block it.
    const reference = await againstBaseline('unauthorized', {
      url: httpGateway.url,
      path: '/v1/models',
      headers: { authorization: `Bearer ${wrongToken}` },
      forwardedFor: { kind: 'failing', usesPerAddress: 10 },
      expectStatus: 401,
    });
    ratioRow('unauthorized', 'failed auth (401, Redis limiter), rotating client IPs', results.unauthorized, reference, 0.3);
  }
  if (selected.has('blocked')) {
    const blocked = blockedSources(settings.blockedAddresses);
    await blockAll(httpGateway.url, blocked, wrongToken);
    const reference = await againstBaseline('blocked', {
      url: httpGateway.url,
      path: '/v1/models',
      headers: { authorization: `Bearer ${wrongToken}` },
      forwardedFor: { kind: 'cycle', addresses: blocked },
      expectStatus: 429,
    });
    ratioRow('blocked', `blocked IP (429), ${blocked.length} rotating blocked IPs`, results.blocked, reference, 0.8);
  }
  await baseline?.stop();

  const chatBody = (stream) => JSON.stringify({ model: 'openclaw', stream, messages: [{ role: 'user', content: 'Hello, bench.' }] });
  const chatHeaders = { ...success(token), 'content-type': 'application/json' };
  const chatAgainst = 'direct';
  for (const stream of [false, true]) {
    const suffix = stream ? '-stream' : '';
    const label = stream ? 'streaming' : 'non-streaming';
    const direct = spec({ url: upstream?.url, path: '/v1/chat/completions', method: 'POST', headers: chatHeaders, body: chatBody(stream), pid: upstream?.pid });
    if (selected.has(`chat${suffix}`)) {
      const through = spec({ url: httpGateway.url, path: '/v1/chat/completions', method: 'POST', headers: chatHeaders, body: chatBody(stream), pid: httpGateway.pid });
      const { reference, target } = await measurePair(direct, through, pairRetries);
      results[`chat${suffix}-direct`] = reference;
      results[`chat${suffix}`] = target;
    } else if (selected.has(`chat${suffix}-direct`)) {
      results[`chat${suffix}-direct`] = await measureHttp(direct);
    }
    if (selected.has(`chat${suffix}-direct`)) {
      row(`chat${suffix}-direct`, `chat completions ${label}, straight to the test upstream`, results[`chat${suffix}-direct`].rps, 'req/s', {
        details: results[`chat${suffix}-direct`],
      });
    }
    if (selected.has(`chat${suffix}`)) {
      ratioRow(`chat${suffix}`, `chat completions ${label}, through the gateway`, results[`chat${suffix}`], results[`chat${suffix}-direct`], 0.7, { against: chatAgainst });
    }
  }

  if (selected.has('tracing')) {
    const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
    const traced = await startGateway({
      name: 'gateway-traced',
      workDir,
      env: {
        ...gatewayEnv,
        OTEL_EXPORTER_OTLP_ENDPOINT: sink.url,
        OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.1',
      },
      nodeOptions,
    });
    // Against an untraced gateway started beside it: both have served this row's requests only.
    const plain = await startGateway({ name: 'gateway-untraced', workDir, env: gatewayEnv, nodeOptions });
    const untraced = spec({ url: plain.url, path: '/v1/models', headers: success(token), pid: plain.pid });
    const { reference, target } = await measurePair(untraced, spec({ url: traced.url, path: '/v1/models', headers: success(token), pid: traced.pid }), pairRetries);
    results.tracing = target;
    await sleep(args.quick ? 200 : 1_000);
    const exports = (await (await fetch(sink.url)).json()).exports;
    ratioRow('tracing', 'GET /v1/models, bearer, tracing on (ratio 0.1) vs off', results.tracing, reference, 0.8, {
      against: 'tracing off',
      details: { otlpExports: exports },
    });
    await traced.stop();
    await plain.stop();
    await sink.stop();
  }

  await httpGateway?.stop();
  await gateway?.stop();
  await upstream?.stop();
  await redis?.stop();
}

async function expectIdentity(gateway, headers, method) {
  const response = await fetch(`${gateway.url}/v1/whoami`, { headers });
  const body = await response.json();
  if (response.status !== 200 || body.method !== method) {
    throw new Error(`expected to authenticate as ${method}, got ${response.status} ${JSON.stringify(body)}`);
  }
}

/** Fails each address until the gateway answers 429 for it. */
async function blockAll(url, addresses, wrongToken) {
  const blockOne = async (address) => {
    for (let attempt = 0; attempt < 40; attempt++) {
      const response = await fetch(`${url}/v1/models`, { headers: { authorization: `Bearer ${wrongToken}`, 'x-forwarded-for': address } });
      await response.arrayBuffer();
      if (response.status === 429) return;
    }
    throw new Error(`${address} was not blocked after 40 failures`);
  };
  for (let i = 0; i < addresses.length; i += 16) await Promise.all(addresses.slice(i, i + 16).map(blockOne));
}

let failure;
try {
  await main();
} catch (error) {
  failure = error;
}
const durationSeconds = Math.round((Date.now() - startedAt.getTime()) / 1000);
const meta = {
  startedAt: startedAt.toISOString(),
  mode: args.quick ? 'quick' : 'full',
  machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  node: process.version,
  durationSeconds,
  settings: { ...settings, upstreamLatencyMs: UPSTREAM_LATENCY_MS, upstreamChunks: UPSTREAM_CHUNKS },
  error: failure ? String(failure.stack ?? failure) : undefined,
};
const files = writeResults(args.out, meta, rows);
process.stdout.write(`\n${markdownTable(rows)}\n\n`);
process.stdout.write(`${rows.filter((r) => r.pass === true).length} PASS, ${rows.filter((r) => r.pass === false).length} FALLS SHORT, ${durationSeconds} s; written to ${files.json} and ${files.markdown}\n`);
rmSync(workDir, { recursive: true, force: true });
if (failure) {
  process.stderr.write(`bench failed: ${failure.stack ?? failure}\n`);
  process.exit(1);
}
process.exit(0);
