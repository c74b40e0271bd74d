import type { Finding } from './report.js';

/**
 * What the suite found in the product and how each was fixed: the report's last section. A
 * finding stays listed once fixed, with the regression test that keeps it fixed.
 */
export const findings: readonly Finding[] = [
  {
    status: 'fixed',
    found:
      '*postgres-restart*: a PostgreSQL restart killed every `cpd worker` that was inside a step. A step holds a pooled ' +
      "connection for its transaction (an extract waits on the source with it); node-postgres's pool listens for errors " +
      "only on idle connections, so the server's goodbye reached a checked-out one as an `error` event nobody handled, " +
      'and Node ended the process. The runs then sat `running` with no worker left.',
    fix:
      "`src/db/client.ts` gives every pooled connection an error listener: the holder's next query fails instead (a " +
      'retryable step failure) and the pool drops the connection when it is released. Regression test: ' +
      '`test/integration/db-server-restart.test.ts` (fast and immediate shutdowns of a private cluster under a checked-out connection).',
  },
  {
    status: 'fixed',
    found:
      '*postgres-restart* (long form): once workers survived the restart, a run could still hang for good: two ' +
      'transforms stayed `running`, their jobs locked and renewed, no query in PostgreSQL. A step that fails while its ' +
      "reader streams a `COPY … TO STDOUT` (here the writer's connection was cut; a transform error does the same) " +
      'releases the reader half way through the COPY, and the next query anyone sends on that pooled connection is ' +
      'queued behind a COPY that never ends. The job then waits for its 30-minute time limit.',
    fix:
      '`src/db/client.ts` closes a connection released with a query still in flight instead of reusing it. Regression ' +
      'test: `test/integration/db-abandoned-copy.test.ts`. The validate and transform steps also close their reader ' +
      'connection themselves when they leave a COPY half way.',
  },
  {
    status: 'fixed',
    found:
      '*bad-rows*: a row dated 1850 failed its whole window, and with it the run. Before 1883 America/New_York kept ' +
      'local mean time, an offset of −4:56:02; the transform wrote the instant as `…-04:56.0333`, PostgreSQL refused ' +
      'it, and transform failed all three attempts. A date in year 0000 (PostgreSQL has no year 0) did the same.',
    fix:
      '`src/pipeline/validate-row.ts` refuses floating timestamps before 1900 as `bad_timestamp` ("is before 1900"), so ' +
      'such a row is quarantined alone. Regression tests: `test/unit/validate-row-found-by-chaos.test.ts` and ' +
      '`test/integration/sync-bad-rows-found-by-chaos.test.ts`; a second line of defence: `formatOffset` in ' +
      '`src/pipeline/local-time.ts` writes whole-second offsets (`-04:56:02`), which PostgreSQL reads.',
  },
  {
    status: 'fixed',
    found:
      '*bad-rows*: a lone surrogate escape (`\\ud800`) in a row that is staged whole (because another field holds a NUL ' +
      'or a value that is not text) failed the validate step, and the run: the quarantine stores the payload as jsonb, ' +
      'which refuses lone surrogates.',
    fix:
      '`sanitizeForJsonb` (`src/pipeline/validate-row.ts`) replaces lone surrogates with U+FFFD, as it did NULs, and says ' +
      'so. Regression tests: as above. In ' +
      'rows that load, a lone surrogate becomes U+FFFD, as in any UTF-8 store: PostgreSQL text cannot hold one.',
  },
  {
    status: 'fixed',
    found:
      '*overlapping-windows* (long form): when two runs load the same rows and the one that read the source before a ' +
      'correction commits its load last, the older version overwrote the newer: the load updated any row whose ' +
      'content differed, whatever its `last_updated`, so the incident stayed stale until a later run read it again. ' +
      'Loads take turns on the advisory lock, but in no particular order.',
    fix:
      "The load's update (`buildLoadSql`, `src/pipeline/steps/load.ts`) never replaces a stored version with an older " +
      "one (the target's `versionColumn`); an older version counts as unchanged. Regression test: " +
      '`test/integration/load-keeps-newest-version.test.ts`.',
  },
  {
    status: 'fixed',
    found:
      '*bad-rows* (long form): the validate step ranked repeated ids in SQL comparing them as text, so two versions of ' +
      'one incident whose ids differ only in leading zeros (`0098000024`, `98000024`) both survived; the load then ' +
      'inserted the same key twice and the run failed ("duplicate key value violates unique constraint").',
    fix:
      '`setAsideSupersededRows` (`src/pipeline/steps/validate.ts`) ranks a whole-number key as a number. Regression ' +
      'test: `test/integration/validate-ranks-repeated-ids.test.ts`.',
  },
  {
    status: 'fixed',
    found:
      '*bad-rows* (long form): the same query read the key and stamp of a row kept whole as JSON (one whose optional ' +
      'field is null) with `raw_json::jsonb`, and jsonb refuses a lone surrogate escape or a `\\u0000` anywhere in the ' +
      'row, even in a field nothing loads: validate failed three times and the run with it.',
    fix:
      '`createRawRowEncoder` (`src/pipeline/raw-rows.ts`) fills the column of every plain-text field even when it keeps ' +
      "the row whole, and the ranking reads the columns only (a valid row's key and stamp are always plain text). " +
      'Regression test: as above. Also: `formatOffset` (`src/pipeline/local-time.ts`) now writes whole-second offsets ' +
      '(`-04:56:02`), and the validate and transform steps close a reader connection left half way through a COPY.',
  },
  {
    status: 'fixed',
    found:
      '*postgres-restart* (long form, on a loaded machine): when crash recovery took a few seconds, a step spent all ' +
      'three attempts while the server was away or starting up ("the database system is starting up", refused ' +
      'connections), within seconds; its failure could not be recorded either, so the queue gave the run up while ' +
      'the ledger still said `running`, for good.',
    fix:
      'A step or run job whose error means the database is unavailable (`isDatabaseUnavailable`, ' +
      '`src/db/availability.ts`: refused or reset connections, SQLSTATE 08xxx and 57P01–57P03) waits until the ' +
      'database answers again (up to two minutes) before its failure is recorded and the attempt counted ' +
      '(`src/pipeline/run-step.ts`, `src/queue/workers.ts`). Regression tests: ' +
      '`test/unit/database-availability.test.ts`, and a restart waited out in ' +
      '`test/integration/db-server-restart.test.ts`; 20 trials of the scenario with two CPU hogs running passed.',
  },
  {
    status: 'fixed',
    found:
      '*source-deletions*: a page answered `[]` (HTTP 200) ends a listing as its end does, so a window read whose ' +
      'last page (30 rows, under 1% of the window) was answered empty looked complete, and its load marked those ' +
      '30 rows deleted although the source still served them: under `DELETE_GUARD`, nothing stopped it.',
    fix:
      'A window read asks the source for its count of the window (`SodaClient.count`, `src/source/client.ts`) and ' +
      'reads the window again, up to three times within the step, until the listing adds up to it; then the step ' +
      'fails, retryably, saying so (`src/pipeline/steps/extract.ts`). Regression test: ' +
      '`test/integration/deletions-false-alarms.test.ts`.',
  },
  {
    status: 'fixed',
    found:
      '*source-deletions*: a run whose load the delete guard refused (a window the source answered empty for a ' +
      'while) failed again on every retry, even once the source served the window again: the retried load judged ' +
      'the same staged answer.',
    fix:
      "A load refused by the guard drops its window's staging (`src/pipeline/run-step.ts`), so a retry rebuilds it " +
      'from the source. Regression test: as above.',
  },
];
