/** Bounds of the in-memory log ring. Lengths are in UTF-16 code units (≈ bytes for JSON log lines). */
export const LOG_RING_LIMITS = {
  /** Lines kept at most. */
  maxLines: 2_000,
  /** Lines kept whatever their size: `openclaw logs` promises at least the last 1,000. */
  minLines: 1_000,
  /** Total kept beyond minLines: older lines go first once the ring holds more than this. */
  maxTotalLength: 2 * 1024 * 1024,
  /** A longer line is cut to this. */
  maxLineLength: 8 * 1024,
  /** `logs -f` / `logs.tail` followers at once. */
  maxFollowers: 64,
} as const;

/**
 * The last log lines (serialised JSON), for `openclaw logs` and `logs.tail`. Bounded in lines and in total
 * length: at most maxLines, and older lines are dropped while the total passes maxTotalLength, down to
 * minLines (so the worst case is minLines × maxLineLength, 8 Mi code units; typical lines are ~300).
 */
export class LogRing {
  /** Oldest first from `head`; the dropped slots before `head` are compacted away now and then. */
  private lines: string[] = [];
  private head = 0;
  private totalLength = 0;
  private readonly followers = new Set<(line: string) => void>();

  constructor(
    readonly capacity: number = LOG_RING_LIMITS.maxLines,
    private readonly maxLineLength: number = LOG_RING_LIMITS.maxLineLength,
    private readonly maxFollowers: number = LOG_RING_LIMITS.maxFollowers,
    private readonly maxTotalLength: number = LOG_RING_LIMITS.maxTotalLength,
    private readonly minLines: number = Math.min(LOG_RING_LIMITS.minLines, capacity),
  ) {}

  get size(): number {
    return this.lines.length - this.head;
  }

  push(line: string): void {
    const bounded = line.length > this.maxLineLength ? line.slice(0, this.maxLineLength) : line;
    this.lines.push(bounded);
    this.totalLength += bounded.length;
    while (this.size > this.capacity || (this.totalLength > this.maxTotalLength && this.size > this.minLines)) {
      this.totalLength -= this.lines[this.head]!.length;
      this.lines[this.head] = '';
      this.head += 1;
    }
    if (this.head >= 256 && this.head * 2 >= this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    for (const follower of this.followers) follower(bounded);
  }

  /** The newest `count` lines, oldest first. */
  tail(count: number): string[] {
    return this.lines.slice(Math.max(this.head, this.lines.length - Math.max(0, count)));
  }

  /** Returns an unsubscribe function, or null when too many followers are attached. */
  follow(listener: (line: string) => void): (() => void) | null {
    if (this.followers.size >= this.maxFollowers) return null;
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  }
}
