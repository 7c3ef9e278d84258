// The upgrade paths of src/ws/websocketApi.ts: a plain `GET /` upgrade is taken by the ws server directly;
// any other upgrade goes through fastify's router and gets the HTTP answer a plain request would.
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type GatewayProcess } from '../helpers/gateway.js';
import { connectRpc, type RpcClient } from '../helpers/wsRpc.js';

const TOKEN = 'ws-upgrade-token-5b1e9c';
let gw: GatewayProcess;
const clients: RpcClient[] = [];

beforeAll(async () => {
  gw = await startGateway({ config: { auth: { token: TOKEN } } });
});
afterAll(async () => {
  for (const client of clients) client.close();
  await gw?.kill();
});

/** Sends a raw upgrade request; resolves with the HTTP status and body, and whether the server then closed the socket. */
function rawUpgrade(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({
      host: '127.0.0.1',
      port: gw.port,
      path,
      agent: false,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==', ...headers },
    });
    let closed = false;
    let answered: { status: number; body: string } | undefined;
    const settle = () => {
      if (closed && answered) resolve({ ...answered, closed: true });
    };
    request.on('socket', (socket) =>
      socket.once('close', () => {
        closed = true;
        settle();
      }),
    );
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '', closed: false });
    });
    request.on('response', (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => {
        answered = { status: response.statusCode ?? 0, body };
        settle();
      });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('WebSocket upgrade', () => {
  it('accepts a plain GET / upgrade and the connect that follows', async () => {
    const { client, result } = await connectRpc(gw.wsUrl, { role: 'control', auth: { token: TOKEN } });
    clients.push(client);
    expect(result).toMatchObject({ role: 'control', auth: { method: 'token' } });
  });

  it('accepts an upgrade on GET / with a harmless query string (through the router)', async () => {
    const { client, result } = await connectRpc(`${gw.wsUrl}?client=cli`, { role: 'control', auth: { token: TOKEN } });
    clients.push(client);
    expect(result).toMatchObject({ role: 'control', auth: { method: 'token' } });
  });

  it('answers 404 to an upgrade on another path, then closes the connection', async () => {
    const answer = await rawUpgrade('/nope');
    expect(answer.status).toBe(404);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { type: 'not_found' } });
    expect(answer.closed).toBe(true);
  });

  it('answers 401 to an upgrade on an authenticated route without credentials', async () => {
    const answer = await rawUpgrade('/v1/models', { 'x-forwarded-for': '203.0.113.77' });
    expect(answer.status).toBe(401);
    expect(answer.closed).toBe(true);
  });

  it('answers 400 to an upgrade with a secret in the query string', async () => {
    const answer = await rawUpgrade(`/?token=${TOKEN}`);
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.body)).toMatchObject({ error: { type: 'invalid_request' } });
    expect(answer.closed).toBe(true);
  });

  it('still answers a plain GET / (no upgrade) with 404 and a hint', async () => {
    const response = await fetch(`${gw.url}/`);
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toContain('WebSocket');
  });
});
