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

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

/** The message of anything thrown, without assuming it is an Error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message || error.name;
  return String(error);
}
