// HTTP load with autocannon: a warm-up, then two measured runs; the better run is kept.
import autocannon from 'autocannon';

/**
 * @param {object} spec
 * @param {string} spec.url            origin, e.g. http://127.0.0.1:1234
 * @param {string} spec.path
 * @param {string} [spec.method]
 * @param {Record<string,string>} [spec.headers]
 * @param {string} [spec.body]
 * @param {(headers: Record<string,string>) => Record<string,string>} [spec.headersFor]  fresh headers per request
 * @param {number} spec.expectStatus  the status every response should have
 * @param {number} spec.connections
 * @param {{ warmupSeconds: number, runSeconds: number }} spec.timing
 * @param {{ beforeRuns?: () => Promise<void>, afterRuns?: () => Promise<void> }} [spec.hooks]
 */
export async function measureHttp(spec) {
  await once(spec, spec.timing.warmupSeconds);
  await spec.hooks?.beforeRuns?.();
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push(await once(spec, spec.timing.runSeconds));
  await spec.hooks?.afterRuns?.();
  const best = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { ...best, runs: runs.map((run) => round(run.rps)), expectedResponses: runs.reduce((sum, run) => sum + run.expected, 0) };
}

async function once(spec, seconds) {
  const request = { method: spec.method ?? 'GET', path: spec.path, headers: spec.headers ?? {}, body: spec.body };
  if (spec.headersFor) {
    const fixed = request.headers;
    request.setupRequest = (req) => ({ ...req, headers: spec.headersFor({ ...fixed }) });
  }
  const result = await autocannon({
    url: spec.url,
    connections: spec.connections,
    pipelining: 1,
    duration: seconds,
    requests: [request],
    timeout: 10,
  });
  const statuses = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats ?? {})) statuses[status] = count;
  const expected = statuses[String(spec.expectStatus)] ?? 0;
  const unexpected = Object.values(statuses).reduce((sum, count) => sum + count, 0) - expected + result.errors + result.timeouts;
  return {
    rps: expected / result.duration,
    expected,
    unexpected,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    latencyP50Ms: result.latency.p50,
    latencyP99Ms: result.latency.p99,
    seconds: result.duration,
  };
}

function round(value) {
  return Math.round(value * 10) / 10;
}
