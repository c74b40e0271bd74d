import { describe, expect, it } from 'vitest';
import { BodyError } from '../../../src/source/row-reader.js';
import { collectRowText, splitRowText } from '../../../src/source/row-text.js';

/** A body as Socrata lays it out: `[{…}\n,{…}]\n`. */
function socrataBody(rows: unknown[]): Buffer {
  return Buffer.from(`[${rows.map((row) => JSON.stringify(row)).join('\n,')}]\n`);
}

function parsedRows(body: Buffer | Buffer[], chunkBytes?: number) {
  const page = splitRowText(body, chunkBytes);
  const rows = page.chunks.flatMap((chunk) => {
    const parsed = JSON.parse(chunk.json.toString('utf8')) as unknown[];
    expect(parsed).toHaveLength(chunk.rows);
    return parsed;
  });
  expect(rows).toHaveLength(page.rows);
  return { rows, chunks: page.chunks.length };
}

const rows = Array.from({ length: 50 }, (_, index) => ({
  id: String(index),
  text: `line ${index} with "quotes", a tab\\t, braces {} and [brackets], é`,
  nested: { latitude: '42.37', longitude: '-71.1' },
}));

describe('splitRowText', () => {
  it('cuts a Socrata page into chunks of whole rows without changing any row', () => {
    const one = parsedRows(socrataBody(rows));
    expect(one).toEqual({ rows, chunks: 1 });
    const small = parsedRows(socrataBody(rows), 200);
    expect(small.rows).toEqual(rows);
    expect(small.chunks).toBeGreaterThan(10);
  });

  it('reads an empty list, a single row and blank padding', () => {
    expect(parsedRows(Buffer.from('[]\n'))).toEqual({ rows: [], chunks: 0 });
    expect(parsedRows(socrataBody([rows[0]]))).toEqual({ rows: [rows[0]], chunks: 1 });
    const padded = Buffer.from(` [${JSON.stringify(rows[0])}\r\n,${JSON.stringify(rows[1])} ]\r\n`);
    expect(parsedRows(padded).rows).toEqual([rows[0], rows[1]]);
  });

  it('counts rows exactly in other layouts: compact, pretty-printed, split across lines', () => {
    const compact = Buffer.from(JSON.stringify(rows));
    expect(parsedRows(compact).rows).toEqual(rows);
    const pretty = Buffer.from(JSON.stringify(rows, null, 2));
    expect(parsedRows(pretty).rows).toEqual(rows);
    // Two rows on one line among row-per-line ones: the count must not be one short.
    const mixed = Buffer.from(
      `[${JSON.stringify(rows[0])},${JSON.stringify(rows[1])}\n,${JSON.stringify(rows[2])}]\n`,
    );
    expect(parsedRows(mixed).rows).toEqual([rows[0], rows[1], rows[2]]);
  });

  it('refuses a body that is not a whole list of rows, as the full reader does', () => {
    const whole = socrataBody(rows);
    const problems = [
      whole.subarray(0, Math.floor(whole.length / 2)),
      Buffer.from('<html><body>maintenance</body></html>'),
      Buffer.from('{"error":true}'),
      Buffer.from(''),
    ].map((body) => {
      try {
        splitRowText(Buffer.from(body));
        return 'accepted';
      } catch (error) {
        return error instanceof BodyError ? error.problem : 'other';
      }
    });
    expect(problems).toEqual(['truncated', 'html', 'not-rows', 'truncated']);
  });
});

/** A body as it arrives: cut into parts at arbitrary places, gathered into segments of whole lines. */
function collected(body: Buffer, partBytes: number, chunkBytes: number): Buffer[] {
  const collector = collectRowText(chunkBytes);
  for (let at = 0; at < body.length; at += partBytes)
    collector.push(Buffer.from(body.subarray(at, at + partBytes)));
  expect(collector.bytes).toBe(body.length);
  return collector.finish();
}

describe('collectRowText', () => {
  it('gathers parts into segments of whole lines that split into the same rows as the whole body', () => {
    const body = socrataBody(rows);
    for (const [partBytes, chunkBytes] of [
      [7, 300],
      [64, 1000],
      [1000, 250],
      [body.length, 1 << 20],
    ] as const) {
      const segments = collected(body, partBytes, chunkBytes);
      // Every segment but the last ends a line; none is cut inside a row.
      for (const segment of segments.slice(0, -1)) expect(segment.at(-1)).toBe(0x0a);
      const { rows: split, chunks } = parsedRows(segments, chunkBytes);
      expect(split).toEqual(rows);
      expect(chunks).toBeGreaterThanOrEqual(segments.length - 1);
    }
  });

  it('falls back to the full reader for other layouts and refuses what it refuses', () => {
    const mixed = Buffer.from(
      `[${JSON.stringify(rows[0])},${JSON.stringify(rows[1])}\n,${JSON.stringify(rows[2])}]\n`,
    );
    expect(parsedRows(collected(mixed, 5, 40)).rows).toEqual([rows[0], rows[1], rows[2]]);
    const pretty = Buffer.from(JSON.stringify(rows, null, 2));
    expect(parsedRows(collected(pretty, 100, 500)).rows).toEqual(rows);
    const whole = socrataBody(rows);
    const cut = collected(whole.subarray(0, Math.floor(whole.length / 2)), 64, 300);
    expect(() => splitRowText(cut)).toThrow(BodyError);
    expect(parsedRows(collected(Buffer.from(' [ ]\n'), 2, 1)).rows).toEqual([]);
  });
});
