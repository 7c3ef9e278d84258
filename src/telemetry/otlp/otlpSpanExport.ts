import { diag } from '@opentelemetry/api';
import { OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { envList, envNumber, envString } from '../otelEnv.js';
import type { EncodedBatch } from './EncodedBatch.js';
import { DEFAULT_BATCH_LIMITS, EncodingSpanProcessor, type BatchLimits } from './EncodingSpanProcessor.js';

/**
 * The span processor for the default export (OTLP over HTTP/protobuf): EncodingSpanProcessor in front of the
 * SDK's own OTLP/HTTP delegate, configured from the same OTEL_EXPORTER_OTLP_* variables as the SDK's
 * exporter (endpoint, headers, compression, timeout). Undefined when the environment asks for another
 * exporter or protocol (OTEL_TRACES_EXPORTER, OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL): the SDK builds those.
 */
export function otlpProtobufSpanProcessor(env: NodeJS.ProcessEnv): EncodingSpanProcessor | undefined {
  if (!wantsOtlpProtobuf(env)) return undefined;
  const delegate = createOtlpHttpExportDelegate<EncodedBatch, unknown>(
    convertLegacyHttpOptions({}, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    {
      serializeRequest: (batch) => batch.encodeRequest(),
      deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (batch) => batch.count },
    undefined,
  );
  return new EncodingSpanProcessor(new OTLPExporterBase(delegate), batchLimitsFromEnv(env));
}

export function wantsOtlpProtobuf(env: NodeJS.ProcessEnv): boolean {
  const exporters = [...new Set(envList(env, 'OTEL_TRACES_EXPORTER'))].filter((name) => name !== 'null');
  if (exporters.length > 1 || (exporters.length === 1 && exporters[0] !== 'otlp')) return false;
  const protocol = envString(env, 'OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? envString(env, 'OTEL_EXPORTER_OTLP_PROTOCOL') ?? 'http/protobuf';
  return protocol === 'http/protobuf';
}

/** OTEL_BSP_*, read as the SDK reads them: a negative or non-numeric value is ignored with a warning. */
export function batchLimitsFromEnv(env: NodeJS.ProcessEnv): BatchLimits {
  const read = (name: string, fallback: number): number => {
    const value = envNumber(env, name);
    if (value === undefined) return fallback;
    if (Number.isNaN(value) || value < 0) {
      diag.warn(`Invalid value for ${name}: ${JSON.stringify(envString(env, name))}; using ${fallback}`);
      return fallback;
    }
    return value;
  };
  return {
    maxQueueSize: read('OTEL_BSP_MAX_QUEUE_SIZE', DEFAULT_BATCH_LIMITS.maxQueueSize),
    maxExportBatchSize: read('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', DEFAULT_BATCH_LIMITS.maxExportBatchSize),
    scheduledDelayMillis: read('OTEL_BSP_SCHEDULE_DELAY', DEFAULT_BATCH_LIMITS.scheduledDelayMillis),
    exportTimeoutMillis: read('OTEL_BSP_EXPORT_TIMEOUT', DEFAULT_BATCH_LIMITS.exportTimeoutMillis),
  };
}
