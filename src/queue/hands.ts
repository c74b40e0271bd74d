import type { QueueName } from './names.js';

/**
 * A worker process's hands: how many jobs it runs at once, whatever their queues, and which queue
 * a freed hand serves next. Pure; src/queue/workers.ts wires them to BullMQ.
 */

export interface Hands {
  /** Claims a hand; false when every hand is busy. */
  take(): boolean;
  /** Frees a hand; true when every hand had been busy, so the process may take jobs again. */
  give(): boolean;
  hasFree(): boolean;
}

/** `count` hands; `full` is told when the last one is taken. */
export function createHands(count: number, full: () => void): Hands {
  let busy = 0;
  return {
    take() {
      if (busy >= count) return false;
      busy += 1;
      if (busy === count) full();
      return true;
    },
    give() {
      busy -= 1;
      return busy === count - 1;
    },
    hasFree() {
      return busy < count;
    },
  };
}

export interface QueueLoad {
  queue: QueueName;
  /** Jobs ready to run. */
  waiting: number;
  /** Jobs running, on any process. */
  active: number;
}

/**
 * Latest step first: a run's own job, then load, transform, validate, extract. Serving the queues
 * in whatever order their jobs arrive runs every window's extract before any load, and the loads,
 * which take turns, then run alone at the end on one core: a 1M backfill spent 12 of its 32 s so.
 */
const servingOrder: readonly QueueName[] = ['flows', 'load', 'transform', 'validate', 'extract'];

/**
 * The queue a freed hand should take its next job from, or undefined to let every queue offer
 * one. A load only while no other runs: loads of a dataset take turns, so a second would wait
 * with the hand (Redis's count does not tell datasets apart, so another dataset's load waits for
 * a hand no other step wants). `finished`: the queue of the job that freed the hand, which Redis may still
 * count as active.
 */
export function pickQueue(loads: readonly QueueLoad[], finished?: string): QueueName | undefined {
  const byQueue = new Map(loads.map((load) => [load.queue, load]));
  return servingOrder.find((queue) => {
    const load = byQueue.get(queue);
    if (!load || load.waiting === 0) return false;
    const othersActive = queue === finished ? load.active - 1 : load.active;
    return queue !== 'load' || othersActive <= 0;
  });
}
