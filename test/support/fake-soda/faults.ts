/**
 * Faults a test can switch on in the fake SODA server: what Socrata (or the network in front of
 * it) does on a bad day. A rule says which fault, on which requests, and how often.
 */

export const faultKinds = [
  '429', // throttled, no Retry-After (Socrata sends no rate headers)
  '429-retry-after', // throttled, with Retry-After (seconds, or an HTTP date via `retryAfter`)
  '500',
  '503',
  '202', // still processing: ask again
  'slow', // answers normally after `delayMs`
  'stall', // sends headers and half the body, waits `delayMs`, then the rest
  'truncated', // HTTP 200 with a clean end but only half of the JSON
  'html', // HTTP 200 with an HTML maintenance page
  'drop', // closes the connection without answering
  'drop-mid-body', // closes the connection halfway through the body
  'empty', // HTTP 200 with `[]`: no rows where the source has some (a listing cut short, cleanly)
  '400',
  '401',
  '403',
  '404',
] as const;

export type FaultKind = (typeof faultKinds)[number];

/** The faults a client should survive by retrying, in the order a cycling rule goes through them. */
export const transientFaultKinds: readonly FaultKind[] = [
  '429',
  '429-retry-after',
  '500',
  '503',
  '202',
  'slow',
  'stall',
  'truncated',
  'html',
  'drop',
  'drop-mid-body',
];

export interface FaultRule {
  /** One fault, or several taken in turn, one per firing, cycling. */
  kind: FaultKind | readonly FaultKind[];
  /** Fires on every Nth matching request (1, the default: on each). */
  every?: number;
  /** Fires at most this many times (default: no limit; `null` over HTTP means the same). */
  times?: number | null;
  /** Only requests whose `$where` contains this text match: fails one window for good. */
  whereIncludes?: string;
  /** Only requests whose `$select` contains this text match (`:id`: a key listing's pages). */
  selectIncludes?: string;
  /** Only requests whose `$offset` is at least this: a page after the first. */
  offsetAtLeast?: number;
  /** For `slow` and `stall`; default 1,500 ms. */
  delayMs?: number;
  /** For `429-retry-after`: the header's value; default `1` (second). */
  retryAfter?: string;
  /** For error statuses: Socrata's `{"code":…,"error":true}` shape (default) or `{"errorCode":…}`. */
  shape?: 'code' | 'errorCode';
  /** For error statuses: the source's error code (each status has a realistic default). */
  code?: string;
  /** For error statuses: the source's message. */
  message?: string;
}

/** "Every Nth request fails, cycling through the faults" in one line. */
export function everyNthRequestFails(
  every = 5,
  kinds: readonly FaultKind[] = transientFaultKinds,
): FaultRule {
  return { kind: kinds, every };
}

export interface FiredFault {
  kind: FaultKind;
  rule: FaultRule;
}

interface Entry {
  rule: FaultRule;
  matched: number;
  fired: number;
}

function isFaultKind(value: unknown): value is FaultKind {
  return typeof value === 'string' && (faultKinds as readonly string[]).includes(value);
}

/** A rule as sent over HTTP, checked; throws with the reason when it is not one. */
export function parseFaultRule(value: unknown): FaultRule {
  if (typeof value !== 'object' || value === null) throw new Error('a fault rule is an object');
  const rule = value as Record<string, unknown>;
  const kinds = Array.isArray(rule.kind) ? rule.kind : [rule.kind];
  if (kinds.length === 0 || !kinds.every(isFaultKind)) {
    throw new Error(`kind must be one of ${faultKinds.join(', ')} (or a list of them)`);
  }
  const positive = (name: string) => {
    const field = rule[name];
    if (
      field !== undefined &&
      field !== null &&
      !(typeof field === 'number' && field >= 1 && Number.isInteger(field))
    ) {
      throw new Error(`${name} must be a whole number of at least 1`);
    }
  };
  positive('every');
  positive('times');
  if (rule.delayMs !== undefined && !(typeof rule.delayMs === 'number' && rule.delayMs >= 0)) {
    throw new Error('delayMs must be a number of milliseconds');
  }
  if (
    rule.offsetAtLeast !== undefined &&
    !(typeof rule.offsetAtLeast === 'number' && Number.isInteger(rule.offsetAtLeast))
  ) {
    throw new Error('offsetAtLeast must be a whole number');
  }
  for (const name of ['whereIncludes', 'selectIncludes', 'retryAfter', 'code', 'message']) {
    if (rule[name] !== undefined && typeof rule[name] !== 'string')
      throw new Error(`${name} must be a string`);
  }
  if (rule.shape !== undefined && rule.shape !== 'code' && rule.shape !== 'errorCode') {
    throw new Error('shape must be "code" or "errorCode"');
  }
  return rule as unknown as FaultRule;
}

export class FaultBook {
  private entries: Entry[] = [];

  add(rule: FaultRule): void {
    this.entries.push({ rule: parseFaultRule(rule), matched: 0, fired: 0 });
  }

  clear(): void {
    this.entries = [];
  }

  /** The fault this request meets, if any: the first rule that matches and is due fires. */
  pick(request: { where?: string; select?: string; offset?: number }): FiredFault | undefined {
    for (const entry of this.entries) {
      const { rule } = entry;
      if (rule.whereIncludes !== undefined && !(request.where ?? '').includes(rule.whereIncludes))
        continue;
      if (
        rule.selectIncludes !== undefined &&
        !(request.select ?? '').includes(rule.selectIncludes)
      )
        continue;
      if (rule.offsetAtLeast !== undefined && (request.offset ?? 0) < rule.offsetAtLeast) continue;
      if (entry.fired >= (rule.times ?? Infinity)) continue;
      entry.matched += 1;
      if (entry.matched % (rule.every ?? 1) !== 0) continue;
      const kinds = typeof rule.kind === 'string' ? [rule.kind] : rule.kind;
      const kind = kinds[entry.fired % kinds.length]!;
      entry.fired += 1;
      return { kind, rule };
    }
    return undefined;
  }
}
