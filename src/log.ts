/** One structured logger (pino) for the whole process; parts take child loggers named after themselves. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'chatapi' },
    redact: {
      paths: ['req.headers["x-api-key"]', 'req.headers["x-master-key"]', 'req.headers.authorization'],
      censor: '[redacted]',
    },
  });
}
