import { TraceFlags, context, diag } from '@opentelemetry/api';
import { core, type tracing } from '@opentelemetry/sdk-node';
import { runSynchronously } from '../syncScopes.js';
import { EncodedBatch } from './EncodedBatch.js';

/** The OTEL_BSP_* settings, with the SDK's defaults. */
export interface BatchLimits {
  readonly maxQueueSize: number;
  readonly maxExportBatchSize: number;
  readonly scheduledDelayMillis: number;
  readonly exportTimeoutMillis: number;
}

export const DEFAULT_BATCH_LIMITS: BatchLimits = { maxQueueSize: 2048, maxExportBatchSize: 512, scheduledDelayMillis: 5000, exportTimeoutMillis: 30000 };

/** What sends a batch: the SDK's OTLP/HTTP export delegate (retries, timeout, compression, headers). */
export interface BatchExporter {
  export(batch: EncodedBatch, done: (result: { code: number; error?: Error }) => void): void;
  shutdown(): Promise<void>;
}

/**
 * The SDK's BatchSpanProcessor, with spans encoded as they end (EncodedBatch) instead of held until the
 * export. Same settings and behaviour: sampled spans only; at most maxQueueSize waiting (more are dropped,
 * with a warning); a batch goes out when it reaches maxExportBatchSize or scheduledDelayMillis after its
 * first span, one export at a time; an export that takes longer than exportTimeoutMillis is given up.
 */
export class EncodingSpanProcessor implements tracing.SpanProcessor {
  private readonly limits: BatchLimits;
  /** Oldest first; every batch but the last is full. */
  private readonly batches: EncodedBatch[] = [];
  private queued = 0;
  private dropped = 0;
  private exporting = false;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly exporter: BatchExporter,
    limits: BatchLimits = DEFAULT_BATCH_LIMITS,
  ) {
    let { maxExportBatchSize } = limits;
    if (maxExportBatchSize > limits.maxQueueSize) {
      diag.warn('BatchSpanProcessor: maxExportBatchSize must be smaller or equal to maxQueueSize, setting maxExportBatchSize to match maxQueueSize');
      maxExportBatchSize = limits.maxQueueSize;
    }
    this.limits = { ...limits, maxExportBatchSize: Math.max(1, maxExportBatchSize) };
  }

  onStart(): void {}

  onEnd(span: tracing.ReadableSpan): void {
    if (this.stopping) return;
    if ((span.spanContext().traceFlags & TraceFlags.SAMPLED) === 0) return;
    if (this.queued >= this.limits.maxQueueSize) {
      if (this.dropped === 0) diag.debug('maxQueueSize reached, dropping spans');
      this.dropped += 1;
      return;
    }
    if (this.dropped > 0) {
      diag.warn(`Dropped ${this.dropped} spans because maxQueueSize reached`);
      this.dropped = 0;
    }
    let batch = this.batches[this.batches.length - 1];
    if (!batch || batch.count >= this.limits.maxExportBatchSize) {
      batch = new EncodedBatch();
      this.batches.push(batch);
    }
    batch.add(span);
    this.queued += 1;
    this.maybeStartTimer();
  }

  forceFlush(): Promise<void> {
    return this.stopping ?? this.flushAll();
  }

  shutdown(): Promise<void> {
    this.stopping ??= this.flushAll().then(() => this.exporter.shutdown());
    return this.stopping;
  }

  private flushAll(): Promise<void> {
    const flushes = Array.from({ length: this.batches.length }, () => this.flushOne());
    return Promise.all(flushes).then(() => undefined);
  }

  private flushOne(): Promise<void> {
    this.clearTimer();
    const batch = this.batches.shift();
    if (!batch) return Promise.resolve();
    this.queued -= batch.count;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('Timeout')), this.limits.exportTimeoutMillis);
      const send = () =>
        // The export's own HTTP request must not be traced (its start is synchronous; a scope keeps Node 20's
        // AsyncLocalStorage hook off, see SyncScopeContextManager).
        runSynchronously(core.suppressTracing(context.active()), () =>
          this.exporter.export(batch, (result) => {
            clearTimeout(timer);
            if (result.code === core.ExportResultCode.SUCCESS) resolve();
            else reject(result.error ?? new Error('BatchSpanProcessor: span export failed'));
          }),
        );
      const pending = batch.pendingResources();
      if (pending.length === 0) return send();
      Promise.all(pending).then(send, (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  private maybeStartTimer(): void {
    if (this.exporting) return;
    if (this.queued >= this.limits.maxExportBatchSize) return this.flushNext();
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => this.flushNext(), this.limits.scheduledDelayMillis);
    this.timer.unref();
  }

  private flushNext(): void {
    this.exporting = true;
    this.flushOne()
      .catch((error: unknown) => core.globalErrorHandler(error as Error))
      .finally(() => {
        this.exporting = false;
        if (this.queued > 0) {
          this.clearTimer();
          this.maybeStartTimer();
        }
      });
  }

  private clearTimer(): void {
    if (this.timer === undefined) return;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
