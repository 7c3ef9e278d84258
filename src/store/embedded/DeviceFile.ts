import { mkdir, open, readFile, rename, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import type { DeviceRecord } from '../types.js';

const FILE_NAME = 'devices.json';

/** Paired devices on disk: written whole to a temp file, fsynced, renamed over the old one (mode 0600). */
export class DeviceFile {
  readonly path: string;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly dir: string) {
    this.path = join(dir, FILE_NAME);
  }

  async read(): Promise<DeviceRecord[]> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    await chmod(this.path, 0o600);
    const parsed = JSON.parse(text) as { version: number; devices: DeviceRecord[] };
    if (parsed.version !== 1 || !Array.isArray(parsed.devices)) {
      throw new Error(`${this.path}: unsupported state file format`);
    }
    return parsed.devices;
  }

  /** Writes are serialised so the file always holds one complete snapshot. */
  write(devices: readonly DeviceRecord[]): Promise<void> {
    const body = JSON.stringify({ version: 1, devices }, null, 2);
    const next = this.writing.then(() => this.writeNow(body));
    this.writing = next.catch(() => {});
    return next;
  }

  private async writeNow(body: string): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.${process.pid}.tmp`;
    const handle = await open(tmp, 'w', 0o600);
    try {
      // The mode argument only applies to new files; a stale temp file keeps whatever mode it had.
      await handle.chmod(0o600);
      await handle.writeFile(body, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, this.path);
  }
}
