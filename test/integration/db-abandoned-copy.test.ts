import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, type Database } from '../../src/db/client.js';
import { copyChunksOut } from '../../src/pipeline/staging.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

/**
 * Found by the fault suite (postgres-restart): a step that failed while its reader streamed a
 * COPY out (the writer's connection cut, a transform error) released the reader mid-stream; the
 * next query on that pooled connection never answered, and the worker's next step hung with its
 * job lock renewed, so no other worker took it over.
 */
describe('a connection released in the middle of a COPY', () => {
  let test: TestDatabase;
  let database: Database;
  beforeAll(async () => {
    test = await createTestDatabase({ migrate: false });
    // One connection: the next query must get the same slot back.
    database = createDatabase(test.url, { max: 1 });
  });
  afterAll(async () => {
    // Without the fix the hung query holds its connection, and closing the pool waits for it.
    await Promise.race([database?.close(), sleep(5_000)]);
    await test?.drop();
  });

  it('is not reused: the next query gets an answer', { timeout: 30_000 }, async () => {
    const reader = await database.pool.connect();
    let bytes = 0;
    for await (const chunk of copyChunksOut(
      reader,
      'select g, repeat(md5(g::text), 20) from generate_series(1, 200000) g',
      16_384,
    )) {
      bytes += chunk.length;
      if (bytes > 100_000) break;
    }
    reader.release();
    const answer = await Promise.race([
      database.pool.query<{ one: number }>('select 1 as one').then((result) => result.rows),
      sleep(10_000).then(() => 'no answer within 10 s'),
    ]);
    expect(answer).toEqual([{ one: 1 }]);
  });
});
