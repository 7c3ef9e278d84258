// The baseline: a bare fastify server answering a small JSON body (the size of the gateway's /v1/models
// answer), with the same logger setting the gateway uses (no request logging). Usage: node baseline.mjs PORT
import Fastify from 'fastify';

const port = Number(process.argv[2]);
const body = { object: 'list', data: [{ id: 'openclaw', object: 'model', created: 1_700_000_000, owned_by: 'openclaw' }] };
const app = Fastify({ logger: false });
app.get('/', async () => ({ status: 'ok' }));
app.get('/v1/models', async () => body);
await app.listen({ port, host: '127.0.0.1' });
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
