// Accepts OTLP/HTTP exports (any path, any encoding) and discards them. Usage: node otlpSink.mjs PORT
import http from 'node:http';

const port = Number(process.argv[2]);
let exports = 0;
http
  .createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      if (request.method === 'POST') exports += 1;
      if (request.method === 'GET') {
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ exports }));
        return;
      }
      response.writeHead(200, { 'content-type': 'application/x-protobuf' });
      response.end();
    });
  })
  .listen(port, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
