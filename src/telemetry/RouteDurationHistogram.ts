import type { Registry } from 'prom-client';

type LabelName = 'route' | 'status_class';
type SeriesLabels = Record<LabelName, string>;

interface Series {
  readonly labels: SeriesLabels;
  /** Observations per bucket, not cumulative; the last slot is above every bound (+Inf only). */
  readonly counts: Float64Array;
  sum: number;
  count: number;
}

interface ExportedValue {
  readonly labels: Record<string, string | number>;
  readonly sharedLabels?: SeriesLabels;
  readonly value: number;
  readonly metricName: string;
  /** Buckets carry `exemplar: null` like prom-client's (exemplars are off). */
  readonly exemplar?: null;
}

const STATUS_CLASSES = ['other', '1xx', '2xx', '3xx', '4xx', '5xx'] as const;
/** Route templates are a closed set; the bound only guards against a caller passing raw URLs. */
const MAX_ROUTES = 256;

/**
 * A Prometheus histogram by route template and status class, observed on every HTTP response. prom-client's
 * Histogram validates and hashes its label object on each observe (about as much CPU as the rest of a
 * request's bookkeeping); this one finds its series with two lookups and renders the same exposition — the
 * value list prom-client's registry formats for its own histograms — only when scraped.
 */
export class RouteDurationHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly byRoute = new Map<string, Array<Series | undefined>>();
  /** Series in order of first observation, as prom-client lists them. */
  private readonly series: Series[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly upperBounds: readonly number[],
    registers: readonly Registry[],
  ) {
    for (const registry of registers) registry.registerMetric(this as never);
  }

  observe(route: string, statusCode: number, seconds: number): void {
    if (!Number.isFinite(seconds)) return;
    const hundreds = (statusCode / 100) | 0;
    const classIndex = hundreds >= 1 && hundreds <= 5 ? hundreds : 0;
    let classes = this.byRoute.get(route);
    if (!classes) {
      if (this.byRoute.size >= MAX_ROUTES) return;
      classes = [];
      this.byRoute.set(route, classes);
    }
    let series = classes[classIndex];
    if (!series) {
      series = { labels: { route, status_class: STATUS_CLASSES[classIndex] as string }, counts: new Float64Array(this.upperBounds.length + 1), sum: 0, count: 0 };
      classes[classIndex] = series;
      this.series.push(series);
    }
    const bounds = this.upperBounds;
    let bucket = 0;
    while (bucket < bounds.length && seconds > (bounds[bucket] as number)) bucket++;
    series.counts[bucket] = (series.counts[bucket] as number) + 1;
    series.sum += seconds;
    series.count += 1;
  }

  /** What prom-client's registry renders (labels of the series as sharedLabels, like its Histogram). */
  async getForPromString(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const values: ExportedValue[] = [];
    const bucketName = `${this.name}_bucket`;
    for (const series of this.series) {
      let cumulative = 0;
      this.upperBounds.forEach((le, index) => {
        cumulative += series.counts[index] as number;
        values.push({ labels: { le }, sharedLabels: series.labels, value: cumulative, metricName: bucketName, exemplar: null });
      });
      values.push({ labels: { le: '+Inf' }, sharedLabels: series.labels, value: series.count, metricName: bucketName, exemplar: null });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.sum, metricName: `${this.name}_sum` });
      values.push({ labels: {}, sharedLabels: series.labels, value: series.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** registry.getMetricsAsJSON(): labels merged, as prom-client's Histogram.get() returns them. */
  async get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExportedValue[] }> {
    const metric = await this.getForPromString();
    const values = metric.values.map(({ labels, sharedLabels, ...rest }) => ({ ...rest, labels: { ...labels, ...sharedLabels } }));
    return { ...metric, values };
  }

  reset(): void {
    this.byRoute.clear();
    this.series.length = 0;
  }
}
