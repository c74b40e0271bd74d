/**
 * A run's or step's recorded error as anonymous readers may see it. The ledger keeps the full
 * text, which is written for the operator and can carry what PostgreSQL, Redis or the source
 * said: host names, ports, addresses, queries. Anonymous callers of the API and the public
 * dashboard get a code and a generic sentence instead, from the kind of failure the text shows;
 * admins (the admin token) get the full text. Pure.
 */

interface ErrorKind {
  code: string;
  sentence: string;
  matches: RegExp;
}

// First match wins: the source's errors quote HTTP statuses and addresses, so they come first.
const kinds: ErrorKind[] = [
  {
    code: 'rows.rejected',
    sentence: 'too many of the source rows were rejected, so nothing was loaded for that window',
    matches: /rows were rejected/,
  },
  {
    code: 'source.failed',
    sentence: 'reading the source (Socrata) failed',
    matches: /socrata|\bsource\b|SoQL/i,
  },
  {
    code: 'worker.stopped',
    sentence: 'the process running it stopped before it finished',
    matches: /stalled|stopped (responding|before it finished)/i,
  },
  {
    code: 'queue.failed',
    sentence: 'the job queue (Redis) failed',
    matches: /redis|bullmq|\bqueue\b/i,
  },
  {
    code: 'database.failed',
    sentence: 'a database operation failed',
    matches:
      /postgres|database|relation|column|constraint|deadlock|transaction|syntax error|\bSQL\b|terminat/i,
  },
  {
    code: 'connection.failed',
    sentence: 'a connection to a service failed',
    matches: /ECONN|ETIMEDOUT|ENOTFOUND|EAI_AGAIN|EPIPE|socket|timeout|connect/i,
  },
];

const unknownKind = { code: 'run.failed', sentence: 'the step failed' };

/** `window 3, load: ` as the ledger prefixes a run's error with where it failed. */
const wherePattern = /^(window \d+, (?:extract|validate|transform|load)): /;

export function redactRunError(error: string | null): string | null {
  if (error === null) return null;
  const where = wherePattern.exec(error);
  const text = where ? error.slice(where[0].length) : error;
  const kind = kinds.find((candidate) => candidate.matches.test(text)) ?? unknownKind;
  return `${kind.code}: ${where ? `${where[1]}: ` : ''}${kind.sentence}; the full error is shown to admins (send the admin token)`;
}
