import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyChunksOut } from '../../src/pipeline/staging.js';
import { createTestDatabase, type TestDatabase } from '../support/database.js';

describe('copyChunksOut', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase({ migrate: false });
  });
  afterAll(async () => {
    await database?.drop();
  });

  it('yields whole lines, every one once, in order', async () => {
    const client = await database.pool.connect();
    const lines: string[] = [];
    let chunks = 0;
    try {
      for await (const chunk of copyChunksOut(
        client,
        `select g, repeat('x', g % 300), 'line ' || g from generate_series(1, 50000) g`,
        64 * 1024,
      )) {
        chunks += 1;
        expect(chunk.at(-1)).toBe(0x0a);
        lines.push(...chunk.toString('utf8').split('\n').slice(0, -1));
      }
    } finally {
      client.release();
    }
    expect(chunks).toBeGreaterThan(10);
    expect(lines).toHaveLength(50_000);
    lines.forEach((line, index) => {
      const [number, padding, label] = line.split('\t');
      expect(Number(number)).toBe(index + 1);
      expect(padding).toBe('x'.repeat((index + 1) % 300));
      expect(label).toBe(`line ${index + 1}`);
    });
  });
});
