import { UserError } from '../errors.js';
import { isLoopbackHost } from './loopback.js';

/**
 * Where the server listens, and what to tell the operator about it. Without ADMIN_TOKEN, writes
 * and Bull Board are open, so the server stays on loopback; asking for more without a token is
 * refused rather than quietly narrowed. Pure.
 */
export interface ListenPlan {
  host: string;
  /** One line for the start-up log when writes are open (no token). */
  warning?: string;
}

export function planListenAddress(config: {
  HOST?: string | undefined;
  ADMIN_TOKEN?: string | undefined;
}): ListenPlan {
  const host = config.HOST ?? '127.0.0.1';
  if (config.ADMIN_TOKEN !== undefined) return { host };
  if (!isLoopbackHost(host)) {
    throw new UserError(
      'server.no_token',
      `HOST=${host} would let anyone who can reach it enqueue runs and use Bull Board without a token; set ADMIN_TOKEN (at least 16 characters, try: openssl rand -hex 24), or leave HOST unset to listen on 127.0.0.1 only`,
    );
  }
  return {
    host,
    warning: `no ADMIN_TOKEN: listening on ${host} only, where writes and Bull Board need no token; set ADMIN_TOKEN to require one and to listen elsewhere`,
  };
}
