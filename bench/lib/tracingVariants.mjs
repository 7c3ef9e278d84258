// The tracing variants of a gateway that the per-request tools compare (cpuPerRequest, gcPerRequest,
// instructions): `{ env }`, the environment each is started with, exporting to `sinkUrl` (bench/servers/otlpSink.mjs).

/** off, r0 (ratio 0: nothing sampled), r01 (ratio 0.1), r01-noexport (ratio 0.1, every span dropped at the processor), on (always_on). */
export function tracingVariants(sinkUrl) {
  const traced = (sampler, ratio, extra = {}) => ({
    env: { OTEL_EXPORTER_OTLP_ENDPOINT: sinkUrl, OTEL_TRACES_SAMPLER: sampler, OTEL_TRACES_SAMPLER_ARG: ratio, ...extra },
  });
  return {
    off: { env: {} },
    r0: traced('parentbased_traceidratio', '0'),
    r01: traced('parentbased_traceidratio', '0.1'),
    // The spans' own cost without encoding and export.
    'r01-noexport': traced('parentbased_traceidratio', '0.1', { OTEL_BSP_MAX_QUEUE_SIZE: '0' }),
    on: traced('always_on', ''),
  };
}

/** `names` looked up in `variants`, in order; an unknown name is an error that lists the known ones. */
export function chooseVariants(variants, names) {
  return names.map((name) => {
    if (!(name in variants)) throw new Error(`unknown variant "${name}"; known: ${Object.keys(variants).join(', ')}`);
    return [name, variants[name]];
  });
}
