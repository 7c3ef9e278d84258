// scratch (not committed): CPU µs per request of the server process, per scenario.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { CLIENT_IP, blockedSources, failingSources } from './lib/addresses.mjs';
import { pairDevice } from './lib/pairing.mjs';
import { startGateway, startNodeServer, startRedis } from './lib/processes.mjs';

const only = (process.argv[2] ?? 'baseline,bearer,device,password,tracing').split(',');
const secs = Number(process.argv[3] ?? 4);
const workDir = mkdtempSync(join(tmpdir(), 'cpuper-'));
const token = randomBytes(32).toString('hex');
const password = `bench-password-${randomBytes(6).toString('hex')}`;
const cpuTicks = (pid) => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return Number(f[11]) + Number(f[12]); };
async function measure(name, pid, url, headers, status = 200, headersFor) {
  const req = { method: 'GET', path: '/v1/models', headers };
  if (headersFor) req.setupRequest = (r) => ({ ...r, headers: headersFor({ ...headers }) });
  await autocannon({ url, connections: 50, duration: 1.5, requests: [req] });
  const out = [];
  for (let i = 0; i < 2; i++) {
    const t0 = cpuTicks(pid);
    const r = await autocannon({ url, connections: 50, duration: secs, requests: [req] });
    const t1 = cpuTicks(pid);
    const ok = r.statusCodeStats?.[String(status)]?.count ?? 0;
    out.push(`${Math.round(ok / r.duration)} rps, ${((t1 - t0) * 10000 / ok).toFixed(1)} µs/req`);
  }
  console.log(`${name.padEnd(10)} ${out.join(' | ')}`);
}
const h = (s) => ({ authorization: `Bearer ${s}`, 'x-forwarded-for': CLIENT_IP });
if (only.includes('baseline')) {
  const b = await startNodeServer({ name: 'baseline', script: 'baseline.mjs', workDir });
  await measure('baseline', b.pid, b.url, h(token)); await b.stop();
}
const redis = await startRedis({ workDir });
const env = { OPENCLAW_GATEWAY_TOKEN: token, OPENCLAW_GATEWAY_PASSWORD: password, OPENCLAW_REDIS_URL: redis.url, OPENCLAW_GATEWAY_TRUSTED_PROXIES: '127.0.0.1' };
if (only.some((o) => ['bearer', 'device', 'password', 'unauth', 'blocked'].includes(o))) {
  const g = await startGateway({ name: 'gw', env, workDir, nodeOptions: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] : process.env.PERF ? ['--perf-basic-prof'] : [] });
  if (only.includes('bearer')) await measure('bearer', g.pid, g.url, h(token));
  if (only.includes('device')) await measure('device', g.pid, g.url, h(await pairDevice(g.wsUrl)));
  if (only.includes('password')) await measure('password', g.pid, g.url, h(password));
  const wrong = randomBytes(32).toString('hex');
  if (only.includes('unauth')) { const next = failingSources({ usesPerAddress: 10 }); await measure('unauth', g.pid, g.url, { authorization: `Bearer ${wrong}` }, 401, (hd) => ({ ...hd, 'x-forwarded-for': next() })); }
  if (only.includes('blocked')) {
    const blocked = blockedSources(256);
    for (const a of blocked) for (let k = 0; k < 40; k++) { const r = await fetch(`${g.url}/v1/models`, { headers: { authorization: `Bearer ${wrong}`, 'x-forwarded-for': a } }); await r.arrayBuffer(); if (r.status === 429) break; }
    let i = 0;
    const { spawn } = await import('node:child_process');
    const perf = process.env.PERF ? spawn('perf', ['record', '-e', 'cpu-clock', '-F', '4000', '-g', '-p', String(g.pid), '-o', process.env.PERF, '--', 'sleep', '6'], { stdio: 'ignore' }) : undefined;
    await measure('blocked', g.pid, g.url, { authorization: `Bearer ${wrong}` }, 429, (hd) => ({ ...hd, 'x-forwarded-for': blocked[i++ % blocked.length] }));
  }
  await g.stop();
}
if (only.includes('tracing')) {
  const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
  const g = await startGateway({ name: 'gwt', workDir, env: { ...env, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1' }, nodeOptions: process.env.PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.PROF] : [] });
  await measure('tracing', g.pid, g.url, h(token));
  await g.stop(); await sink.stop();
}
await redis.stop();
process.exit(0);
