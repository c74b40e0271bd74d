import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs on stderr (stdout is for command output such as NDJSON). Anything that looks
 * like a secret is redacted wherever it appears in a log object.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...bindings },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'appToken',
          '*.appToken',
          'authorization',
          '*.authorization',
          'headers.authorization',
          'headers["x-app-token"]',
          'req.headers.authorization',
          'req.headers["x-app-token"]',
          'databaseUrl',
          '*.databaseUrl',
          'DATABASE_URL',
          'ADMIN_TOKEN',
          'SOCRATA_APP_TOKEN',
          'METABASE_ADMIN_PASSWORD',
        ],
        censor: '[redacted]',
      },
    },
    // Synchronous: log volume is small, and a command that exits right after logging loses nothing.
    pino.destination({ dest: 2, sync: true }),
  );
}
