import type { Logger } from '../logger.js';

/**
 * Waits for SIGTERM or SIGINT, then runs the shutdown. A second signal while shutting down ends
 * the process at once (jobs still running are picked up again elsewhere: they are idempotent).
 */
export async function runUntilSignalled(
  log: Logger,
  shutdown: (signal: NodeJS.Signals) => Promise<void>,
): Promise<number> {
  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    process.once('SIGTERM', () => resolve('SIGTERM'));
    process.once('SIGINT', () => resolve('SIGINT'));
  });
  const hurry = () => {
    log.warn('second signal: stopping now');
    process.exit(1);
  };
  process.once('SIGTERM', hurry);
  process.once('SIGINT', hurry);
  log.info({ signal }, 'stopping: no new jobs; letting running ones finish');
  await shutdown(signal);
  log.info('stopped');
  return 0;
}
