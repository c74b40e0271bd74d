import { HttpError } from './errors.js';

/**
 * Failed authentications per client and minute: past the limit, the client's requests that need
 * the admin token are refused with 429 until its minute is over, so a token cannot be guessed at
 * network speed. Only failures count: an admin's own requests never spend the budget. Kept in
 * memory (one process; a restart forgets), for a bounded number of clients.
 */

export interface AuthFailureLimiter {
  /** Throws a 429 when the client has used up its failures for this minute. */
  check(client: string): void;
  /** Counts one failed authentication of the client. */
  record(client: string): void;
}

export interface AuthFailureOptions {
  perMinute: number;
  /** The clock, in ms; tests pass their own. */
  now?: () => number;
  /** Clients remembered at once; the oldest is forgotten first. */
  maxClients?: number;
}

const windowMs = 60_000;

export function createAuthFailureLimiter(options: AuthFailureOptions): AuthFailureLimiter {
  const now = options.now ?? Date.now;
  const maxClients = options.maxClients ?? 10_000;
  // Insertion order is age order: a client's entry is re-inserted when its minute starts.
  const clients = new Map<string, { since: number; failures: number }>();

  const current = (client: string, at: number) => {
    const entry = clients.get(client);
    return entry && at - entry.since < windowMs ? entry : undefined;
  };

  return {
    check(client) {
      const at = now();
      const entry = current(client, at);
      if (!entry || entry.failures < options.perMinute) return;
      const seconds = Math.max(1, Math.ceil((entry.since + windowMs - at) / 1_000));
      throw new HttpError(
        429,
        'auth.rate_limited',
        `too many failed authentications from this client: at most ${options.perMinute} a minute (AUTH_FAILURE_LIMIT); wait ${seconds} s, then send the right ADMIN_TOKEN`,
        [],
        { 'Retry-After': String(seconds) },
      );
    },
    record(client) {
      const at = now();
      const entry = current(client, at);
      if (entry) {
        entry.failures += 1;
        return;
      }
      clients.delete(client);
      clients.set(client, { since: at, failures: 1 });
      while (clients.size > maxClients) {
        const oldest = clients.keys().next().value;
        if (oldest === undefined) break;
        clients.delete(oldest);
      }
    },
  };
}
