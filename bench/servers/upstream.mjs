// A minimal OpenAI-compatible upstream on node:http: POST /v1/chat/completions as JSON or as SSE, GET /v1/models.
// Usage: node upstream.mjs PORT [LATENCY_MS] [CHUNKS]. LATENCY_MS is the time to the (first) answer, like a
// model's time to first token; a stream then sends CHUNKS content chunks, one per tick of LATENCY_MS / CHUNKS.
import http from 'node:http';

const port = Number(process.argv[2]);
const latencyMs = Number(process.argv[3] ?? 0);
const chunks = Number(process.argv[4] ?? 5);
const created = Math.floor(Date.now() / 1000);

function completion(model) {
  return JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello from the bench upstream.' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 },
  });
}

function chunk(model, delta, finish = null) {
  return `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
}

const later = (ms) => new Promise((resolve) => (ms > 0 ? setTimeout(resolve, ms) : setImmediate(resolve)));

const server = http.createServer((request, response) => {
  if (request.method === 'GET') {
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end('{"object":"list","data":[{"id":"bench-model","object":"model"}]}');
    return;
  }
  const parts = [];
  request.on('data', (part) => parts.push(part));
  request.on('end', async () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(parts).toString('utf8'));
    } catch {
      response.writeHead(400, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"bad json","type":"invalid_request_error"}}');
      return;
    }
    const model = typeof body.model === 'string' ? body.model : 'bench-model';
    if (body.stream !== true) {
      await later(latencyMs);
      const text = completion(model);
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      response.end(text);
      return;
    }
    const tick = chunks > 0 ? latencyMs / (chunks + 1) : latencyMs;
    await later(tick);
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    response.write(chunk(model, { role: 'assistant', content: '' }));
    for (let i = 0; i < chunks; i++) {
      await later(tick);
      response.write(chunk(model, { content: `token${i} ` }));
    }
    response.write(chunk(model, {}, 'stop'));
    response.end('data: [DONE]\n\n');
  });
});
server.keepAliveTimeout = 72_000;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
