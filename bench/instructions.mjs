// Instructions per authenticated `GET /v1/models` (the HTTP fast lane), counted by valgrind's callgrind in
// the gateway process, user space only (the kernel's TCP work is not counted). Two counts a variant: the main
// thread (the event loop, which serves the requests; repeatable to about 1 %) and every thread (V8's
// compiler and GC helpers too, whose share moves by ±10 % from run to run). On a box whose speed moves by tens
// of percent from one minute to the next, req/s and CPU time cannot tell a 3 % change from noise; the main
// thread's count can. bench/README.md "Sixth round", "Ninth round".
//   node bench/instructions.mjs [--requests N] [--forwarded-for] [variant ...]
// Without --forwarded-for the requests come from loopback with a loopback Host, so the gateway answers them with
// the loopback method (auth.allowLoopback, on by default); --forwarded-for sends what the `npm run bench` rows send
// (X-Forwarded-For from a trusted proxy at 127.0.0.1), which the bearer token (or the device token) answers.
// Variants: off (no tracing), r0 (tracing on, ratio 0: nothing sampled), r01 (ratio 0.1), r01-noexport (ratio 0.1,
// every span dropped at the processor), on (always_on),
// device (off, with a paired device's token instead of the gateway token), baseline (the bare fastify server
// of `npm run bench`, the same requests).
// Each gateway runs under callgrind with instrumentation off; N warm-up requests, then instrumentation on
// for N measured requests. Roughly a minute a variant for the default 20,000.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { CLIENT_IP } from './lib/addresses.mjs';
import { callgrindRun, callgrindVariants } from './lib/callgrind.mjs';
import { startNodeServer, startRedis } from './lib/processes.mjs';
import { chooseVariants } from './lib/tracingVariants.mjs';

const { values: args, positionals } = parseArgs({
  options: { requests: { type: 'string', default: '20000' }, 'forwarded-for': { type: 'boolean', default: false } },
  allowPositionals: true,
});
const forwarded = args['forwarded-for'] ? { 'x-forwarded-for': CLIENT_IP } : {};
const requests = Number(args.requests);
const chosen = positionals.length > 0 ? positionals : ['off', 'r0', 'r01'];
const workDir = mkdtempSync(join(tmpdir(), 'openclaw-instructions-'));
const token = randomBytes(32).toString('hex');
const redis = await startRedis({ workDir });
const sink = await startNodeServer({ name: 'otlp-sink', script: 'otlpSink.mjs', workDir });
const VARIANTS = callgrindVariants(sink.url);

try {
  for (const [name, variant] of chooseVariants(VARIANTS, chosen)) {
    const perRequest = await callgrindRun({ name, variant, workDir, redisUrl: redis.url, token, requests, headers: forwarded });
    const format = (count) => Math.round(count).toLocaleString('en-US').padStart(9);
    console.log(`${name.padEnd(12)} ${format(perRequest.main)} instructions a request on the main thread, ${format(perRequest.all)} on all threads (node ${process.version})`);
  }
} finally {
  await sink.stop();
  await redis.stop();
  rmSync(workDir, { recursive: true, force: true });
}
