// CPU per request of the fast lane's tracing alone, as the gateway does it (dist/telemetry: startTracing, then
// per request startRequestSpan, runInRequestSpan, traceAuth, endRequestSpan: lean spans, encoded as they end,
// exported over OTLP/HTTP to a discarding sink in a child process), with no HTTP server around it. Compare with
// what the same sampling costs inside a serving gateway (bench/cpuPerRequest.mjs). bench/README.md "Tenth round".
//   node bench/laneTraceCost.mjs [RATIO]   (default 0.1; `off` for no tracing at all; needs `npm run build`)
import { fork } from 'node:child_process';
import http from 'node:http';

if (process.argv[2] === 'sink') {
  let exports = 0;
  const sink = http.createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'POST') exports += 1;
      response.end(request.method === 'GET' ? JSON.stringify({ exports }) : undefined);
    });
  });
  sink.listen(0, '127.0.0.1', () => process.send(sink.address().port));
} else {
  const ratio = process.argv[2] ?? '0.1';
  const child = fork(import.meta.filename, ['sink']);
  const port = await new Promise((resolve) => child.once('message', resolve));
  const { startTracing } = await import('../dist/telemetry/tracing.js');
  const env = ratio === 'off' ? {} : { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`, OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: ratio };
  // The SDK's OTLP transport reads the endpoint from process.env, as in the gateway (whose env is process.env).
  Object.assign(process.env, env);
  const tracing = await startTracing({ env: process.env, replicaId: 'lane-trace-cost', version: '0.0.0' });
  const { endRequestSpan, runInRequestSpan, startRequestSpan, traceAuth } = await import('../dist/telemetry/spans.js');
  const outcome = { ok: true, identity: { method: 'token', role: 'operator' } };
  const context = { clientIp: '203.0.113.10', transport: 'http' };
  const headers = { host: '127.0.0.1', authorization: 'Bearer x', 'x-forwarded-for': '203.0.113.10' };
  const authenticate = () => traceAuth(context, () => outcome);
  function request() {
    const traced = startRequestSpan('GET', '/v1/models', headers);
    if (traced) {
      runInRequestSpan(traced, authenticate, undefined);
      endRequestSpan(traced.span, 200);
    } else authenticate();
  }
  /** Yields to the event loop now and then, so that exports go out as they would in a server. */
  async function run(count) {
    for (let i = 0; i < count; i++) {
      request();
      if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
  }
  await run(200_000);
  for (let round = 0; round < 3; round++) {
    const before = process.cpuUsage();
    await run(500_000);
    const used = process.cpuUsage(before);
    console.log(`ratio ${ratio}: ${((used.user + used.system) / 500_000).toFixed(3)} µs of CPU a request (user ${(used.user / 500_000).toFixed(3)}, system ${(used.system / 500_000).toFixed(3)})`);
  }
  await tracing.shutdown();
  const { exports } = await (await fetch(`http://127.0.0.1:${port}/`)).json();
  console.log(`${exports} exports received`);
  child.kill();
}
