// CPU per request of the fast lane's span work alone, in one process, with no HTTP server around it: a SERVER
// span and, when it records, an `auth` child in its context, exported over OTLP/HTTP to a discarding sink in
// the same process. What a traced request costs the SDK, apart from what it costs the server. README "Fifth round".
//   node bench/spanCost.mjs [OTEL_TRACES_SAMPLER] [OTEL_TRACES_SAMPLER_ARG]   (default: parentbased_traceidratio 0.1)
import http from 'node:http';
import { ROOT_CONTEXT, SpanKind, context, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';

const [sampler = 'parentbased_traceidratio', samplerArg = '0.1'] = process.argv.slice(2);
const WARMUP = 50_000;
const MEASURED = 100_000;

const sink = http.createServer((request, response) => {
  request.resume();
  request.on('end', () => response.end());
});
await new Promise((resolve) => sink.listen(0, '127.0.0.1', resolve));
process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${sink.address().port}`;
process.env.OTEL_TRACES_SAMPLER = sampler;
process.env.OTEL_TRACES_SAMPLER_ARG = samplerArg;
const sdk = new NodeSDK({ autoDetectResources: false, metricReaders: [], logRecordProcessors: [] });
sdk.start();
const tracer = trace.getTracer('span-cost');

function request() {
  const attributes = { 'http.request.method': 'GET', 'url.path': '/v1/models', 'http.route': '/v1/models' };
  const span = tracer.startSpan('GET /v1/models', { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
  if (span.isRecording()) {
    context.with(trace.setSpan(ROOT_CONTEXT, span), () => {
      tracer.startActiveSpan('auth', { attributes: { 'client.address': '203.0.113.10', 'openclaw.auth.transport': 'http' } }, (auth) => {
        auth.setAttributes({ 'openclaw.auth.method': 'token', 'openclaw.auth.result': 'success' });
        auth.end();
      });
    });
  }
  span.setAttribute('http.response.status_code', 200);
  span.end();
}

/** Yields to the event loop now and then, so that exports go out as they would in a server. */
async function run(count) {
  for (let i = 0; i < count; i++) {
    request();
    if (i % 200 === 0) await new Promise((resolve) => setImmediate(resolve));
  }
}

await run(WARMUP);
const before = process.cpuUsage();
await run(MEASURED);
await sdk.shutdown();
const used = process.cpuUsage(before);
console.log(`${sampler} ${samplerArg}: ${((used.user + used.system) / MEASURED).toFixed(2)} µs of CPU per request (sink included)`);
sink.close();
