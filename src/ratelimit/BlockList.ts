/** Upper bound on locally remembered blocks; beyond it the entries closest to expiry go first. */
export const MAX_BLOCKED_KEYS = 100_000;

interface BlockEntry {
  readonly untilMs: number;
  /** Whether this replica has already logged a refusal for this block (one log line per block and replica). */
  refusalLogged: boolean;
}

/** Keys blocked by the failed-auth limiter on any replica, until their window ends. */
export class BlockList {
  private readonly entries = new Map<string, BlockEntry>();

  constructor(
    private readonly maxEntries = MAX_BLOCKED_KEYS,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  block(key: string, untilMs: number): void {
    const existing = this.entries.get(key);
    if (existing && existing.untilMs >= untilMs) return;
    if (untilMs <= this.now()) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.evict();
    this.entries.set(key, { untilMs, refusalLogged: existing?.refusalLogged ?? false });
  }

  /** Milliseconds until the block on key ends, or 0 when it is not blocked. */
  remainingMs(key: string): number {
    const entry = this.entries.get(key);
    if (!entry) return 0;
    const remaining = entry.untilMs - this.now();
    if (remaining <= 0) {
      this.entries.delete(key);
      return 0;
    }
    return remaining;
  }

  /** True the first time it is called for the current block of key. */
  claimRefusalLog(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry || entry.refusalLogged) return false;
    entry.refusalLogged = true;
    return true;
  }

  private evict(): void {
    const now = this.now();
    for (const [key, entry] of this.entries) if (entry.untilMs <= now) this.entries.delete(key);
    if (this.entries.size < this.maxEntries) return;
    // Insertion order approximates expiry order: every block lasts at most one window.
    const oldest = this.entries.keys().next();
    if (!oldest.done) this.entries.delete(oldest.value);
  }
}
