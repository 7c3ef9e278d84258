// Time per span of the OTLP/protobuf encoder alone (dist/telemetry/otlp), in one process: the fast lane's two
// spans (the SERVER span and its `auth` child, as the gateway records them) made once by the SDK, then encoded
// over and over in batches of 512 as the span processor does. Five rounds, each printed; compare builds in the
// same minute. bench/README.md "Ninth round".
//   node bench/encodeCost.mjs [SPANS]   (default 1,000,000; needs `npm run build`)
import { ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { resources, tracing } from '@opentelemetry/sdk-node';
import { EncodedBatch } from '../dist/telemetry/otlp/EncodedBatch.js';

const total = Number(process.argv[2] ?? 1_000_000);
const BATCH = 512;
const spans = [];
const provider = new tracing.BasicTracerProvider({
  resource: resources.resourceFromAttributes({ 'service.name': 'openclaw-gateway', 'service.instance.id': 'bench' }),
  spanProcessors: [{ onStart() {}, onEnd: (span) => spans.push(span), forceFlush: async () => {}, shutdown: async () => {} }],
});
const tracer = provider.getTracer('openclaw-gateway', '0.1.0');
for (let i = 0; i < BATCH / 2; i++) {
  const attributes = { 'http.request.method': 'GET', 'url.path': '/v1/models', 'http.route': '/v1/models' };
  const request = tracer.startSpan('GET /v1/models', { kind: SpanKind.SERVER, attributes }, ROOT_CONTEXT);
  const inRequest = trace.setSpan(ROOT_CONTEXT, request);
  const auth = tracer.startSpan('auth', { attributes: { 'client.address': '127.0.0.1', 'openclaw.auth.transport': 'http' } }, inRequest);
  auth.setAttributes({ 'openclaw.auth.method': 'token', 'openclaw.auth.result': 'success' });
  auth.end();
  request.setAttribute('http.response.status_code', 200);
  request.end();
}

let bytes = 0;
for (let round = 0; round < 5; round++) {
  const perRound = Math.floor(total / 5);
  const started = process.hrtime.bigint();
  let batch = new EncodedBatch();
  for (let i = 0; i < perRound; i++) {
    batch.add(spans[i % spans.length]);
    if (batch.count === BATCH) {
      bytes = batch.encodeRequest().length;
      batch = new EncodedBatch();
    }
  }
  const nanos = Number(process.hrtime.bigint() - started) / perRound;
  console.log(`round ${round + 1}: ${nanos.toFixed(0)} ns a span (${(bytes / BATCH).toFixed(0)} bytes a span in a full request)`);
}
