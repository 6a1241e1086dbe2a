import pino, { type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/** The root logger of a service: JSON lines on stdout, `service` on every line. */
export function createLogger(
  service: string,
  level: string = process.env.WHARF_LOG_LEVEL ?? 'info',
  options: LoggerOptions = {},
  destination?: pino.DestinationStream,
): Logger {
  const settings: LoggerOptions = {
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...options,
  };
  return destination ? pino(settings, destination) : pino(settings);
}

/** Fields never written to a log, at the top level or one level down (`{ err: { token } }`). */
export const REDACTED_PATHS = ['token', 'secret', 'password', 'authorization', '*.token', '*.secret', '*.password', '*.authorization'];

/** A child logger for work that belongs to an operation: every line carries its event_id. */
export function operationLogger(logger: Logger, eventId: string, bindings: Record<string, unknown> = {}): Logger {
  return logger.child({ event_id: eventId, ...bindings });
}
