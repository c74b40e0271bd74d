/**
 * Identical reads arriving together share one database query. A read never joins a query that
 * started before it arrived (that could miss a write the client just saw committed): it waits
 * for the next one, which starts as soon as the running one ends and serves every read that
 * arrived meanwhile. Under a burst of the same request, the database sees a few queries, not one
 * per request; a lone request waits for nothing.
 */
export function coalesceReads<T>(load: (key: string) => Promise<T>): (key: string) => Promise<T> {
  const running = new Map<string, Promise<T>>();
  const queued = new Map<string, Promise<T>>();

  const start = (key: string): Promise<T> => {
    const query = load(key).finally(() => {
      if (running.get(key) === query) running.delete(key);
    });
    running.set(key, query);
    return query;
  };

  return (key) => {
    const next = queued.get(key);
    if (next) return next;
    const current = running.get(key);
    if (!current) return start(key);
    const later = current
      .catch(() => undefined)
      .then(() => {
        queued.delete(key);
        return start(key);
      });
    queued.set(key, later);
    return later;
  };
}
