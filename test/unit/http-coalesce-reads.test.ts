import { describe, expect, it } from 'vitest';
import { coalesceReads } from '../../src/http/coalesce-reads.js';

/** A loader whose calls the test finishes by hand, counting them. */
function controlledLoader() {
  const calls: { key: string; finish: (value: string) => void; fail: (error: Error) => void }[] =
    [];
  const load = (key: string) =>
    new Promise<string>((resolve, reject) => calls.push({ key, finish: resolve, fail: reject }));
  return { calls, load };
}

describe('coalesced reads', () => {
  it('runs a lone read at once', async () => {
    const { calls, load } = controlledLoader();
    const read = coalesceReads(load);
    const answer = read('a');
    expect(calls).toHaveLength(1);
    calls[0]!.finish('A1');
    expect(await answer).toBe('A1');
  });

  it('gives reads that arrive during a query the next query, shared, never the running one', async () => {
    const { calls, load } = controlledLoader();
    const read = coalesceReads(load);
    const first = read('a');
    const late = [read('a'), read('a'), read('a')];
    expect(calls).toHaveLength(1);
    calls[0]!.finish('A1');
    expect(await first).toBe('A1');
    await Promise.resolve();
    await Promise.resolve();
    expect(calls).toHaveLength(2);
    calls[1]!.finish('A2');
    expect(await Promise.all(late)).toEqual(['A2', 'A2', 'A2']);
    // Nothing running now: the next read starts its own query.
    const after = read('a');
    expect(calls).toHaveLength(3);
    calls[2]!.finish('A3');
    expect(await after).toBe('A3');
  });

  it('keeps different keys apart', async () => {
    const { calls, load } = controlledLoader();
    const read = coalesceReads(load);
    const [a, b] = [read('a'), read('b')];
    expect(calls.map((call) => call.key)).toEqual(['a', 'b']);
    calls[1]!.finish('B');
    calls[0]!.finish('A');
    expect([await a, await b]).toEqual(['A', 'B']);
  });

  it('lets a failure reach only the reads that shared it', async () => {
    const { calls, load } = controlledLoader();
    const read = coalesceReads(load);
    const failing = read('a');
    const next = read('a');
    calls[0]!.fail(new Error('database gone'));
    await expect(failing).rejects.toThrow('database gone');
    await new Promise((resolve) => setImmediate(resolve));
    calls[1]!.finish('A2');
    expect(await next).toBe('A2');
  });
});
