import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions, Level, Logger } from 'pino';

type LogArguments = unknown[];

/**
 * `request.log` without a pino child per request: pino's child() serialises (and redacts) its bindings
 * when it is made, and most requests never log a line. The child — same bindings (the request id), same
 * options — is made on the first line that would be written, so what reaches the log is unchanged.
 */
export class LazyRequestLogger {
  private made: FastifyBaseLogger | undefined;

  constructor(
    private readonly parent: FastifyBaseLogger,
    private readonly bindings: Bindings,
    private readonly options: ChildLoggerOptions,
  ) {}

  /** fastify's childLoggerFactory. */
  static factory(logger: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions): FastifyBaseLogger {
    return new LazyRequestLogger(logger, bindings, options) as unknown as FastifyBaseLogger;
  }

  get level(): string {
    return this.made?.level ?? this.options.level ?? this.parent.level;
  }

  set level(level: string) {
    this.logger().level = level;
  }

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.logger().child(bindings, options);
  }

  isLevelEnabled(level: string): boolean {
    const target = (this.made ?? (this.options.level === undefined ? this.parent : this.logger())) as Partial<Logger>;
    return target.isLevelEnabled?.(level) ?? true;
  }

  fatal(...args: LogArguments): void {
    this.write('fatal', args);
  }

  error(...args: LogArguments): void {
    this.write('error', args);
  }

  warn(...args: LogArguments): void {
    this.write('warn', args);
  }

  info(...args: LogArguments): void {
    this.write('info', args);
  }

  debug(...args: LogArguments): void {
    this.write('debug', args);
  }

  trace(...args: LogArguments): void {
    this.write('trace', args);
  }

  silent(): void {}

  private write(level: Level, args: LogArguments): void {
    if (this.made === undefined && !this.isLevelEnabled(level)) return;
    const logger = this.logger();
    (logger[level] as (...line: LogArguments) => void).apply(logger, args);
  }

  private logger(): FastifyBaseLogger {
    this.made ??= this.parent.child(this.bindings, this.options);
    return this.made;
  }
}
