import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** The root logger of a service: JSON lines on stdout, `service` on every line. */
export function createLogger(service: string, level: string = process.env.WHARF_LOG_LEVEL ?? 'info', options: LoggerOptions = {}): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['*.token', '*.secret', '*.password', 'token', 'secret', 'password'], censor: '[redacted]' },
    ...options,
  });
}

/** A child logger for work that belongs to an operation: every line carries its event_id. */
export function operationLogger(logger: Logger, eventId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ event_id: eventId, ...bindings });
}
