import { describe, expect, it } from 'vitest';
import { redactRunError } from '../../src/pipeline/redact-run-error.js';

describe('a run error as anonymous readers see it', () => {
  it('is a code and a generic sentence, keeping where it failed', () => {
    const cases: Array<[string, string]> = [
      [
        'window 2, extract: Socrata dataset 3gki-wyrb answered HTTP 503 from data.internal.example',
        'source.failed: window 2, extract: reading the source (Socrata) failed',
      ],
      [
        'window 0, load: relation "incidents" does not exist (db.internal:5432)',
        'database.failed: window 0, load: a database operation failed',
      ],
      [
        'window 1, transform: Redis at redis.internal:6379: Connection is closed',
        'queue.failed: window 1, transform: the job queue (Redis) failed',
      ],
      ['connect ECONNREFUSED 10.0.0.7:5432', 'connection.failed: a connection to a service failed'],
      [
        "window 3, validate: 9.0% of the window's rows were rejected (9 of 100: bad_date 9), above the 5.0% threshold",
        'rows.rejected: window 3, validate: too many of the source rows were rejected',
      ],
      [
        'the process running it stopped before it finished',
        'worker.stopped: the process running it stopped before it finished',
      ],
      ['something odd at 10.1.1.1', 'run.failed: the step failed'],
    ];
    for (const [error, shown] of cases) {
      const redacted = redactRunError(error);
      expect(redacted?.startsWith(shown), `${error} → ${redacted}`).toBe(true);
      expect(redacted).toMatch(/admin token/);
      expect(redacted).not.toMatch(/internal|\d+\.\d+\.\d+\.\d+|5432|6379/);
    }
  });

  it('leaves no error as none', () => {
    expect(redactRunError(null)).toBeNull();
  });
});
