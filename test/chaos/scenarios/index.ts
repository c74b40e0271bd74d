import type { Scenario } from '../scenario.js';
import { badRows } from './bad-rows.js';
import { concurrentBackfills } from './concurrent-backfills.js';
import { overlappingWindows } from './overlapping-windows.js';
import { postgresRestart } from './postgres-restart.js';
import { redisOutage } from './redis-outage.js';
import { redisRestart } from './redis-restart.js';
import { sourceDeletions } from './source-deletions.js';
import { sourceFaults } from './source-faults.js';
import { workerKill } from './worker-kill.js';

/** Every scenario, in the order the suite runs them. */
export const scenarios: readonly Scenario[] = [
  workerKill,
  postgresRestart,
  redisRestart,
  redisOutage,
  sourceFaults,
  concurrentBackfills,
  overlappingWindows,
  badRows,
  sourceDeletions,
];
