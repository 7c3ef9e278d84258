// The bench harness on a tiny duration, so `npm run bench` cannot rot: it must start its processes, run
// the selected scenarios and write the JSON and markdown results with one row per scenario.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, cleanEnv } from '../helpers/gateway.js';

const outDir = mkdtempSync(join(tmpdir(), 'openclaw-bench-test-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

interface Row {
  id: string;
  scenario: string;
  figure: number;
  ratio: number | null;
  target: string;
  pass: boolean | null;
  details: { referenceRps?: number; cpuMicrosPerRequest?: number | null };
}

function runBench(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bench/run.mjs'), ...args], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench (quick)', () => {
  it('runs the selected scenarios and writes a JSON and a markdown table with every row', async () => {
    const only = ['idle-rss', 'ws-handshakes', 'bearer', 'device', 'redis-per-request', 'unauthorized', 'blocked', 'chat'];
    const { code, stdout, stderr } = await runBench(['--quick', '--out', outDir, '--only', only.join(',')]);
    expect(code, stderr).toBe(0);

    const files = readdirSync(outDir);
    const jsonFile = files.find((f) => f.endsWith('.json'));
    const mdFile = files.find((f) => f.endsWith('.md'));
    expect(jsonFile && mdFile).toBeTruthy();
    expect(jsonFile!.replace(/\.json$/, '')).toBe(mdFile!.replace(/\.md$/, ''));

    const result = JSON.parse(readFileSync(join(outDir, jsonFile!), 'utf8')) as { mode: string; error?: string; rows: Row[] };
    expect(result.error).toBeUndefined();
    expect(result.mode).toBe('quick');
    // the selection plus what its ratios are taken against (baseline for bearer, direct for chat, …)
    const expectedIds = [...only, 'baseline', 'password', 'chat-direct'].sort();
    expect(result.rows.map((r) => r.id).sort()).toEqual(expectedIds);
    for (const row of result.rows) {
      expect(Number.isFinite(row.figure), row.id).toBe(true);
      if (row.id !== 'redis-per-request') expect(row.figure, row.id).toBeGreaterThan(0);
      expect(row.target, row.id).toBeTypeOf('string');
    }
    const byId = new Map(result.rows.map((r) => [r.id, r]));
    for (const id of ['bearer', 'device', 'unauthorized', 'blocked']) {
      const { ratio, details } = byId.get(id)!;
      expect(ratio, id).toBeGreaterThan(0);
      // the baseline re-measured in alternation with the row, and the gateway's CPU per request
      expect(details.referenceRps, id).toBeGreaterThan(0);
      expect(ratio, id).toBeCloseTo(byId.get(id)!.figure / details.referenceRps!, 6);
      expect(details.cpuMicrosPerRequest, id).toBeGreaterThan(0);
    }
    // a successful request never touches Redis, whatever the machine's speed
    expect(byId.get('redis-per-request')!.figure).toBe(0);
    expect(byId.get('redis-per-request')!.pass).toBe(true);

    const markdown = readFileSync(join(outDir, mdFile!), 'utf8');
    for (const row of result.rows) {
      expect(markdown).toContain(`| ${row.scenario} |`);
      expect(stdout).toContain(`| ${row.scenario} |`);
    }
    expect(stdout).toMatch(/\| (PASS|FALLS SHORT) \|/);
  }, 120_000);
});
