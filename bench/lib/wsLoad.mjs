// Runs bench/wsClients.mjs in a child process and returns what it prints.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { REPO_ROOT, cpuMeter } from './processes.mjs';

const SCRIPT = join(REPO_ROOT, 'bench/wsClients.mjs');

function startClients(options) {
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(options)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error(`ws clients exited early: ${stderr.slice(-2000)}`);
    return JSON.parse(value);
  };
  const exited = new Promise((resolve) => child.on('exit', resolve));
  return { child, nextLine, exited };
}

/** connect handshakes (open + connect with the token + result) per second, `concurrency` clients in a loop. */
export async function measureHandshakes({ url, token, concurrency, durationMs, sources, client = 'raw', pid }) {
  const cpu = cpuMeter(pid);
  const clients = startClients({ mode: 'handshakes', url, token, concurrency, durationMs, sources, client });
  const result = await clients.nextLine();
  await clients.exited;
  // the gateway's CPU time per completed handshake, as the HTTP rows give it per request
  return { ...result, perSecond: result.completed / result.seconds, cpuMicrosPerRequest: cpu.perUnit(result.completed) };
}

/** Opens `count` authenticated sessions and keeps them open until `release()` is called. */
export async function openIdleSessions({ url, token, count, concurrency, sources }) {
  const clients = startClients({ mode: 'idle', url, token, count, concurrency, sources });
  const opened = await clients.nextLine();
  return {
    ...opened,
    async release() {
      clients.child.stdin.write('close\n');
      const { stillOpen } = await clients.nextLine();
      await clients.exited;
      return stillOpen;
    },
  };
}
