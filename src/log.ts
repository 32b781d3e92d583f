/** One structured logger (pino) for the whole process; parts take child loggers named after themselves. */
import { pino, type Logger } from 'pino';

export type { Logger };

/** `toStderr`: for CLI commands whose stdout is their answer (JSON, a table), so logs never mix into it. */
export function createLogger(level: string, opts: { toStderr?: boolean } = {}): Logger {
  const options = {
    level,
    base: { service: 'chatapi' },
    redact: {
      paths: ['req.headers["x-api-key"]', 'req.headers["x-master-key"]', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  };
  return opts.toStderr ? pino(options, pino.destination(2)) : pino(options);
}
