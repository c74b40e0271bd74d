import { loadConfig, type Config, ConfigError } from '../config.js';
import { isUserError } from '../errors.js';

/**
 * Wraps a command's action: loads the configuration, runs it, and turns failures into one line
 * on stderr and a non-zero exit. Expected failures (UserError) print their message; anything else
 * is a bug and prints its stack too.
 */
export function runCommand<Args extends unknown[]>(
  name: string,
  action: (config: Config, ...args: Args) => Promise<number | void>,
): (...args: Args) => Promise<void> {
  return async (...args: Args) => {
    let exitCode: number;
    try {
      const config = loadConfig();
      exitCode = (await action(config, ...args)) ?? 0;
    } catch (error) {
      exitCode = reportFailure(name, error);
    }
    // Short-lived commands end here even if a library keeps a handle open.
    process.exit(exitCode);
  };
}

export function reportFailure(name: string, error: unknown): number {
  if (error instanceof ConfigError) {
    for (const problem of error.problems)
      process.stderr.write(`cpd ${name}: invalid configuration: ${problem}\n`);
    return 2;
  }
  if (isUserError(error)) {
    process.stderr.write(`cpd ${name}: ${error.message}\n`);
    return 1;
  }
  process.stderr.write(`cpd ${name}: unexpected error (a bug; please report it):\n`);
  process.stderr.write(
    `${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  return 1;
}
