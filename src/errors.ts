/**
 * The one error class for expected failures: bad configuration, an unreachable database, a source
 * that refuses a query. Its message is written for the person running the tool and says what went
 * wrong and what to do; the CLI prints it as one line without a stack trace. Anything else that
 * escapes is a bug and is printed with its stack.
 */
export class UserError extends Error {
  override name = 'UserError';
  /** A stable, machine-readable code (`config.invalid`, `db.unreachable`, ...). */
  readonly code: string;
  /** Whether trying the same work again may succeed (a throttled source: yes; a bad query: no). */
  readonly retryable: boolean;

  constructor(code: string, message: string, options?: { cause?: unknown; retryable?: boolean }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options?.retryable ?? false;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/**
 * Whether a failed step deserves another attempt. Expected failures say so themselves; anything
 * unexpected (a dropped database connection, a bug) is given the benefit of the doubt, and the
 * step's attempt limit bounds the cost.
 */
export function isRetryable(error: unknown): boolean {
  return isUserError(error) ? error.retryable : true;
}

/** The message of anything thrown, without assuming it is an Error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
