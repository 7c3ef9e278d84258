// HTTP load with autocannon: a warm-up, then two measured runs; the better run is kept. Every run is its own
// autocannon process (autocannonRun.mjs).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT, cpuMeter } from './processes.mjs';

const RUNNER = join(REPO_ROOT, 'bench/lib/autocannonRun.mjs');
const execFileAsync = promisify(execFile);

/**
 * @param {object} spec
 * @param {string} spec.url            origin, e.g. http://127.0.0.1:1234
 * @param {string} spec.path
 * @param {string} [spec.method]
 * @param {Record<string,string>} [spec.headers]
 * @param {string} [spec.body]
 * @param {{ kind: 'failing' | 'cycle', sent?: number }} [spec.forwardedFor]  a different X-Forwarded-For per
 *   request (addresses.mjs rotatingSources); `sent` counts the values taken so far, so the next run goes on
 *   where the last one stopped
 * @param {number} spec.expectStatus  the status every response should have
 * @param {number} spec.connections
 * @param {{ warmupSeconds: number, runSeconds: number }} spec.timing
 * @param {{ beforeRuns?: () => Promise<void>, afterRuns?: () => Promise<void> }} [spec.hooks]
 * @param {number} [spec.pid]  the server's pid: its CPU time per answered request goes in the result
 */
export async function measureHttp(spec) {
  await once(spec, spec.timing.warmupSeconds);
  await spec.hooks?.beforeRuns?.();
  const runs = [];
  for (let i = 0; i < 2; i++) runs.push(await once(spec, spec.timing.runSeconds));
  await spec.hooks?.afterRuns?.();
  return summarise(runs);
}

/**
 * A ratio's two sides measured in alternation — warm-ups, then reference, target, reference, target — so
 * that both see the same machine: on a shared box the speed drifts by tens of percent over a minute, and a
 * reference measured once, long before the target, made ratios swing by as much. Each side keeps its
 * better run; the target's hooks bracket its measured runs.
 *
 * When the box changes speed inside the pair, the better runs of the two sides come from different speeds:
 * the reference's two runs then differ by more than UNSTEADY (of 163 full-run pairs up to this round, the
 * median differed by 4 %, a tenth by more than 29 %, and the rows' worst ratios all came from such pairs).
 * Such a pair is measured once more, without warm-ups, while `retries.left` lasts (the whole run must stay
 * within five minutes), and the attempt whose reference held steadier counts — chosen by the reference's
 * spread, never by the ratio. Every attempt stays in the result's details. `run` measures one side once
 * (autocannon; a test passes its own).
 */
export async function measurePair(reference, target, retries = { left: 0 }, run = once) {
  await run(reference, reference.timing.warmupSeconds);
  await run(target, target.timing.warmupSeconds);
  await target.hooks?.beforeRuns?.();
  const attempts = [await alternate(reference, target, run)];
  if (spread(attempts[0].referenceRuns) > UNSTEADY && retries.left > 0) {
    retries.left -= 1;
    attempts.push(await alternate(reference, target, run));
  }
  await target.hooks?.afterRuns?.();
  const counted = attempts.reduce((a, b) => (spread(b.referenceRuns) < spread(a.referenceRuns) ? b : a));
  const result = { reference: summarise(counted.referenceRuns), target: summarise(counted.targetRuns) };
  if (attempts.length > 1) {
    // Every answered request of every attempt was served (Redis commands are counted around all of them).
    result.target.expectedResponses = attempts.reduce((sum, attempt) => sum + attempt.targetRuns.reduce((all, run) => all + run.expected, 0), 0);
    result.target.attempts = attempts.map((attempt) => ({
      referenceRuns: attempt.referenceRuns.map((run) => round(run.rps)),
      targetRuns: attempt.targetRuns.map((run) => round(run.rps)),
      counted: attempt === counted,
    }));
  }
  return result;
}

/** The reference's runs may differ by this factor before a pair counts as measured on a changing box. */
const UNSTEADY = 1.25;

async function alternate(reference, target, run) {
  const referenceRuns = [];
  const targetRuns = [];
  for (let i = 0; i < 2; i++) {
    referenceRuns.push(await run(reference, reference.timing.runSeconds));
    targetRuns.push(await run(target, target.timing.runSeconds));
  }
  return { referenceRuns, targetRuns };
}

function spread(runs) {
  const rates = runs.map((run) => run.rps);
  return Math.max(...rates) / Math.max(Math.min(...rates), 1e-9);
}

function summarise(runs) {
  const best = runs.reduce((a, b) => (b.rps > a.rps ? b : a));
  return { ...best, runs: runs.map((run) => round(run.rps)), expectedResponses: runs.reduce((sum, run) => sum + run.expected, 0) };
}

async function once(spec, seconds) {
  const rotation = spec.forwardedFor;
  const job = {
    url: spec.url,
    connections: spec.connections,
    seconds,
    method: spec.method ?? 'GET',
    path: spec.path,
    headers: spec.headers ?? {},
    body: spec.body,
    forwardedFor: rotation && { ...rotation, offset: rotation.sent ?? 0 },
  };
  const cpu = cpuMeter(spec.pid);
  const { stdout } = await execFileAsync(process.execPath, [RUNNER, JSON.stringify(job)], { maxBuffer: 1 << 20 });
  const result = JSON.parse(stdout);
  if (rotation) rotation.sent = (rotation.sent ?? 0) + result.rotated;
  const statuses = {};
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) statuses[status] = count;
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
    cpuMicrosPerRequest: cpu.perUnit(result.requestsTotal),
  };
}

function round(value) {
  return Math.round(value * 10) / 10;
}
