// One autocannon run in its own process (bench/lib/httpLoad.mjs starts one per measured run), so that no
// run inherits the client's JIT state from the runs before it: in one long-lived client process, the
// server measured first got the client optimised for its answers, and every later server was measured
// against a slower client (bench/README.md "One client process per run").
//   node autocannonRun.mjs '<json>'   prints one JSON line: the run's result
import autocannon from 'autocannon';
import { rotatingSources } from './addresses.mjs';

const job = JSON.parse(process.argv[2]);
const request = { method: job.method, path: job.path, headers: job.headers, body: job.body };
let rotated = 0;
if (job.forwardedFor) {
  const next = rotatingSources(job.forwardedFor);
  request.setupRequest = (req) => {
    rotated += 1;
    return { ...req, headers: { ...req.headers, 'x-forwarded-for': next() } };
  };
}
const result = await autocannon({
  url: job.url,
  connections: job.connections,
  pipelining: 1,
  duration: job.seconds,
  requests: [request],
  timeout: 10,
});
process.stdout.write(
  `${JSON.stringify({
    duration: result.duration,
    statusCodeStats: result.statusCodeStats ?? {},
    errors: result.errors,
    timeouts: result.timeouts,
    latency: { p50: result.latency.p50, p99: result.latency.p99 },
    requestsTotal: result.requests.total,
    rotated,
  })}\n`,
);
