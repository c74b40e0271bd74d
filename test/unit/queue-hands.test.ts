import { describe, expect, it } from 'vitest';
import { createHands, pickQueue, type QueueLoad } from '../../src/queue/hands.js';
import type { QueueName } from '../../src/queue/names.js';

function loads(
  waiting: Partial<Record<QueueName, number>>,
  active: Partial<Record<QueueName, number>> = {},
): QueueLoad[] {
  const queues: QueueName[] = ['flows', 'extract', 'validate', 'transform', 'load'];
  return queues.map((queue) => ({
    queue,
    waiting: waiting[queue] ?? 0,
    active: active[queue] ?? 0,
  }));
}

describe('a worker process’s hands', () => {
  it('tells when the last hand is taken and when one frees again, and refuses past the count', () => {
    const told: string[] = [];
    const hands = createHands(2, () => told.push('full'));
    expect(hands.take()).toBe(true);
    expect(told).toEqual([]);
    expect(hands.take()).toBe(true);
    expect(told).toEqual(['full']);
    expect(hands.take()).toBe(false);
    expect(hands.hasFree()).toBe(false);
    // The first hand freed after all were busy says so; the next one does not.
    expect(hands.give()).toBe(true);
    expect(hands.hasFree()).toBe(true);
    expect(hands.give()).toBe(false);
    expect(told).toEqual(['full']);
  });
});

describe('the queue a freed hand serves', () => {
  it('takes the latest step waiting: a run, then load, transform, validate, extract', () => {
    expect(pickQueue(loads({ extract: 30, validate: 2, transform: 1, load: 1, flows: 1 }))).toBe(
      'flows',
    );
    expect(pickQueue(loads({ extract: 30, validate: 2, transform: 1, load: 1 }))).toBe('load');
    expect(pickQueue(loads({ extract: 30, validate: 2, transform: 1 }))).toBe('transform');
    expect(pickQueue(loads({ extract: 30, validate: 2 }))).toBe('validate');
    expect(pickQueue(loads({ extract: 30 }))).toBe('extract');
  });

  it('leaves loads while another load runs (they take turns), and counts the finished job apart', () => {
    expect(pickQueue(loads({ extract: 3, load: 2 }, { load: 1 }))).toBe('extract');
    // The load that freed the hand may still be active in Redis: it is not another load.
    expect(pickQueue(loads({ extract: 3, load: 2 }, { load: 1 }), 'load')).toBe('load');
    expect(pickQueue(loads({ extract: 3, load: 2 }, { load: 2 }), 'load')).toBe('extract');
  });

  it('names no queue when none has a job waiting, or only loads that must wait their turn', () => {
    expect(pickQueue(loads({}, { extract: 2 }))).toBeUndefined();
    expect(pickQueue(loads({ load: 4 }, { load: 1 }))).toBeUndefined();
  });
});
