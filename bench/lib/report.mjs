// The result table: one row per scenario with its figure, ratio, target and PASS / FALLS SHORT.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A row: { id, scenario, figure, unit, ratio (number|null), target (text), pass (true|false|null), details }.
 * pass null = informational (no target).
 */
export function verdict(pass) {
  if (pass === null) return '—';
  return pass ? 'PASS' : 'FALLS SHORT';
}

export function formatFigure(row) {
  if (row.figure === null || row.figure === undefined) return 'n/a';
  const value = Math.abs(row.figure) >= 100 ? Math.round(row.figure).toLocaleString('en-US') : String(Math.round(row.figure * 1000) / 1000);
  return `${value} ${row.unit}`;
}

export function markdownTable(rows) {
  const lines = ['| scenario | figure | ratio | target | result | server CPU/request |', '|---|---:|---:|---|---|---:|'];
  for (const row of rows) {
    const ratio = row.ratio === null || row.ratio === undefined ? '—' : `${row.ratio.toFixed(2)}×`;
    lines.push(`| ${row.scenario} | ${formatFigure(row)} | ${ratio} | ${row.target} | ${verdict(row.pass)} | ${cpuCell(row.details)} |`);
  }
  return lines.join('\n');
}

/** The measured server's CPU time per answered request, and the reference's beside it (same alternating runs). */
function cpuCell(details = {}) {
  const own = details.cpuMicrosPerRequest;
  if (own === null || own === undefined) return '—';
  const reference = details.referenceCpuMicrosPerRequest;
  return reference === null || reference === undefined ? `${own} µs` : `${own} µs (reference ${reference} µs)`;
}

export function writeResults(outDir, meta, rows) {
  mkdirSync(outDir, { recursive: true });
  const stamp = meta.startedAt.replace(/[:]/g, '-').replace(/\..*$/, '');
  const base = join(outDir, stamp);
  writeFileSync(`${base}.json`, `${JSON.stringify({ ...meta, rows }, null, 2)}\n`);
  const markdown = [
    `# Benchmark ${meta.startedAt}`,
    '',
    `${meta.mode} run on ${meta.machine}; node ${meta.node}; ${meta.durationSeconds} s in all.`,
    '',
    markdownTable(rows),
    '',
  ].join('\n');
  writeFileSync(`${base}.md`, markdown);
  return { json: `${base}.json`, markdown: `${base}.md` };
}
