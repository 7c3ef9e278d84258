/** The last N log lines (serialised JSON), for `openclaw logs` and `logs.tail`; bounded in lines and bytes. */
export class LogRing {
  private readonly lines: string[] = [];
  private start = 0;
  private readonly followers = new Set<(line: string) => void>();

  constructor(
    readonly capacity = 2_000,
    private readonly maxLineBytes = 16 * 1024,
    private readonly maxFollowers = 64,
  ) {}

  push(line: string): void {
    const bounded = line.length > this.maxLineBytes ? line.slice(0, this.maxLineBytes) : line;
    if (this.lines.length < this.capacity) this.lines.push(bounded);
    else {
      this.lines[this.start] = bounded;
      this.start = (this.start + 1) % this.capacity;
    }
    for (const follower of this.followers) follower(bounded);
  }

  tail(count: number): string[] {
    const ordered = this.lines.slice(this.start).concat(this.lines.slice(0, this.start));
    return count >= ordered.length ? ordered : ordered.slice(ordered.length - Math.max(0, count));
  }

  /** Returns an unsubscribe function, or null when too many followers are attached. */
  follow(listener: (line: string) => void): (() => void) | null {
    if (this.followers.size >= this.maxFollowers) return null;
    this.followers.add(listener);
    return () => this.followers.delete(listener);
  }
}
