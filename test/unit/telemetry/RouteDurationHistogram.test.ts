import { Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RouteDurationHistogram } from '../../../src/telemetry/RouteDurationHistogram.js';

const BUCKETS = [0.001, 0.01, 0.1, 1];
const OBSERVATIONS: Array<[route: string, status: number, seconds: number]> = [
  ['/v1/models', 200, 0.0004],
  ['/v1/models', 200, 0.001], // on a bound: counted in that bucket (le)
  ['/v1/models', 401, 0.02],
  ['unknown', 404, 0.5],
  ['/v1/models', 204, 3], // above every bound: +Inf only
  ['/hooks/:name', 503, 0.05],
  ['/v1/models', 99, 0.002],
];

function statusClass(status: number): string {
  const hundreds = Math.floor(status / 100);
  return hundreds >= 1 && hundreds <= 5 ? `${hundreds}xx` : 'other';
}

/** The same observations through prom-client's own Histogram, the exposition this one must reproduce. */
async function promClientExposition(): Promise<{ text: string; json: unknown }> {
  const registry = new Registry();
  const histogram = new Histogram({ name: 'x_seconds', help: 'h', labelNames: ['route', 'status_class'], buckets: BUCKETS, registers: [registry] });
  for (const [route, status, seconds] of OBSERVATIONS) histogram.observe({ route, status_class: statusClass(status) }, seconds);
  return { text: await registry.metrics(), json: await registry.getMetricsAsJSON() };
}

describe('RouteDurationHistogram', () => {
  it('renders exactly what prom-client renders for the same observations (text and JSON)', async () => {
    const registry = new Registry();
    const histogram = new RouteDurationHistogram('x_seconds', 'h', BUCKETS, [registry]);
    for (const [route, status, seconds] of OBSERVATIONS) histogram.observe(route, status, seconds);
    const expected = await promClientExposition();
    expect(await registry.metrics()).toBe(expected.text);
    expect(await registry.getMetricsAsJSON()).toEqual(expected.json);
    expect(await registry.metrics()).toContain('x_seconds_bucket{le="0.001",route="/v1/models",status_class="2xx"} 2');
  });

  it('stops adding routes at its bound (a raw URL passed by mistake cannot grow it without limit)', async () => {
    const registry = new Registry();
    const histogram = new RouteDurationHistogram('x_seconds', 'h', BUCKETS, [registry]);
    for (let i = 0; i < 1_000; i++) histogram.observe(`/raw/${i}`, 200, 0.01);
    const counts = (await registry.metrics()).split('\n').filter((line) => line.startsWith('x_seconds_count'));
    expect(counts).toHaveLength(256);
  });
});
