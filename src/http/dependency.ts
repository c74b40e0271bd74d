import { describeError } from '../errors.js';

/** Whether a dependency answers: `ok`, or why not, in words safe to show (no addresses, no URLs). */
export type DependencyStatus = { ok: true } | { ok: false; reason: string };

/** Runs a probe, giving up after `timeoutMs`: a health answer must come promptly either way. */
export async function probeWithin(
  probe: () => Promise<unknown>,
  timeoutMs: number,
): Promise<DependencyStatus> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<DependencyStatus>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, reason: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([probe().then((): DependencyStatus => ({ ok: true })), timeout]);
  } catch (error) {
    return { ok: false, reason: describeConnectionError(error) };
  } finally {
    clearTimeout(timer);
  }
}

/** `connection refused`, `host not found`...: the kind of failure, never the address. */
export function describeConnectionError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNREFUSED') return 'connection refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'host not found';
  if (code === 'ETIMEDOUT') return 'connection timed out';
  if (code === 'ECONNRESET') return 'connection reset';
  if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
  const message = describeError(error);
  if (/NOAUTH|WRONGPASS|invalid password|password authentication failed/i.test(message))
    return 'authentication failed';
  return message
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, '[url]')
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?/g, '[address]')
    .slice(0, 200);
}
