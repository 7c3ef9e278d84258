/** Ready = not draining and every dependency that reports readiness is ready; no I/O. */
export class Readiness {
  private draining = false;
  private readonly checks: Array<{ name: string; isReady: () => boolean }> = [];

  addCheck(name: string, isReady: () => boolean): void {
    this.checks.push({ name, isReady });
  }

  startDraining(): void {
    this.draining = true;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Null when ready, otherwise the first reason it is not. */
  notReadyReason(): string | null {
    if (this.draining) return 'draining';
    for (const check of this.checks) if (!check.isReady()) return `${check.name} unreachable`;
    return null;
  }
}
