import { compareScalars, compileOrder, compileWhere, type ColumnType } from './soql-evaluator.js';
import { parseOrder, parseWhere, type Expr } from './soql-parser.js';
import type { SodaRow } from './types.js';

/**
 * The fake server's rows, held so that serving is cheap and never the bottleneck of a benchmark:
 * each row's JSON is written once, as UTF-8, into large off-heap buffers (a million rows would
 * otherwise be millions of heap objects, and garbage collection would dominate); the filtered,
 * ordered list of rows is computed once per ($where, $order, $q, filters) and cached; a page is
 * those rows' bytes copied into one buffer. A new query's list walks a sort order made once per
 * $order, and a range on a timestamp (a window) reads only the rows a binary search finds, so a
 * backfill asking for a hundred windows does not pay a parse and a sort of every row a hundred
 * times.
 */

export const systemColumns = [':id', ':created_at', ':updated_at'] as const;

export interface ColumnDefinition {
  name: string;
  type: ColumnType;
}

export interface RowSelection {
  where?: string;
  order?: string;
  q?: string;
  /** Socrata's simple filters, `?type=ARREST`: equality on a column. */
  equals?: readonly (readonly [string, string])[];
}

/** Enough for a backfill's windows and their counts (two selections each) to stay ready. */
const maxCachedSelections = 128;
const chunkBytes = 32 * 1024 * 1024;
/** Bytes of contiguous page layouts kept at once; older layouts are dropped first. */
const layoutBudgetBytes = 2 * 1024 ** 3;
const newlineComma = Buffer.from('\n,');
const openBrace = 0x7b;

// A 32-bit bijection (xorshift-multiply), so distinct row numbers give distinct, unordered ids.
function scramble(n: number): number {
  let x = n >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  x ^= x >>> 16;
  return x >>> 0;
}

const idAlphabet = 'abcdefghijkmnpqrstuvwxyz23456789';

function encode(value: number, length: number): string {
  let text = '';
  for (let i = 0, v = value; i < length; i += 1, v = Math.floor(v / 32)) text += idAlphabet[v % 32];
  return text;
}

/** A system `:id` shaped like Socrata's (`row-xxxx.xxxx_xxxx`), unique per row number. */
function makeSystemId(rowNumber: number): string {
  const text = encode(scramble(rowNumber), 7) + encode(scramble(rowNumber ^ 0x5bd1e995), 5);
  return `row-${text.slice(0, 4)}.${text.slice(4, 8)}_${text.slice(8, 12)}`;
}

const zoneFormat = new Intl.DateTimeFormat('en-US', {
  timeZone: 'America/New_York',
  timeZoneName: 'longOffset',
});
const utcStamps = new Map<string, string | undefined>();

/**
 * A floating local stamp as the UTC instant Socrata's system fields carry, or undefined. Cached:
 * publish batches share stamps, so a million rows have a few hundred distinct ones.
 */
function localToUtc(local: string | undefined): string | undefined {
  if (local === undefined) return undefined;
  if (utcStamps.has(local)) return utcStamps.get(local);
  let utc: string | undefined;
  const asUtc = /^\d{4}-\d{2}-\d{2}T/.test(local)
    ? Date.parse(`${local.slice(0, 23)}Z`)
    : Number.NaN;
  if (!Number.isNaN(asUtc)) {
    const name = zoneFormat
      .formatToParts(new Date(asUtc))
      .find((part) => part.type === 'timeZoneName');
    const match = /GMT([+-])(\d{2}):(\d{2})/.exec(name?.value ?? '');
    const offset = match
      ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3]))
      : 0;
    utc = new Date(asUtc - offset * 60_000).toISOString();
  }
  if (utcStamps.size > 100_000) utcStamps.clear();
  utcStamps.set(local, utc);
  return utc;
}

function seededShuffle(source: Uint32Array, seed: number): Uint32Array {
  const copy = Uint32Array.from(source);
  let state = seed >>> 0 || 1;
  for (let i = copy.length - 1; i > 0; i -= 1) {
    state = scramble(state + 0x9e3779b9);
    const j = state % (i + 1);
    const swap = copy[i]!;
    copy[i] = copy[j]!;
    copy[j] = swap;
  }
  return copy;
}

/**
 * A selection's rows, with system fields, copied in order into one buffer with SODA's `\n,`
 * between them: any page of it is then a slice, served without copying.
 */
interface Layout {
  bytes: Buffer;
  /** Start of each row in `bytes`; entry n is the end of the last row plus the separator's length. */
  starts: Float64Array;
}

export interface Selection {
  slots: Uint32Array;
  layout?: Layout;
}

export class RowStore {
  readonly schema = new Map<string, ColumnType>();
  private readonly userColumns: string[];
  private chunks: Buffer[] = [];
  private used = 0;
  /** Per slot (storage order): the chunk, and the byte range of the row's JSON in it. */
  private chunkOf: number[] = [];
  private startOf: number[] = [];
  private endOf: number[] = [];
  /** Per slot: where the dataset's own fields start, after the system fields and their comma. */
  private userStartOf: number[] = [];
  /** Natural key → first slot; built on the first upsert or removal. */
  private firstByKey: Map<string, number> | undefined;
  private cache = new Map<string, Selection>();
  /** Column values by slot, for range look-ups: built on first use, dropped when rows change. */
  private columns = new Map<string, Array<string | undefined>>();
  /** Slots sorted by an $order, per $order: built once, dropped when rows change. */
  private sortedSlots = new Map<string, Uint32Array>();
  /** Per floating timestamp column: its sort order split into dated and undated rows. */
  private datedSlots = new Map<string, { dated: Uint32Array; odd: Uint32Array }>();
  private orderRanks = new Map<string, Uint32Array>();
  private layoutBytes = 0;
  private rowNumber = 0;
  private clockMs = Date.UTC(2000, 0, 1);

  constructor(
    rows: Iterable<SodaRow>,
    columns: readonly ColumnDefinition[],
    private readonly naturalKey: string,
  ) {
    for (const column of columns) this.schema.set(column.name, column.type);
    this.schema.set(':id', 'text');
    this.schema.set(':created_at', 'fixed_timestamp');
    this.schema.set(':updated_at', 'fixed_timestamp');
    this.userColumns = columns.map((column) => column.name);
    for (const row of rows) this.write(this.chunkOf.length, this.complete(row, {}));
  }

  get size(): number {
    return this.chunkOf.length;
  }

  /** The dataset's own columns: those defined plus any new ones rows brought. */
  listColumns(): string[] {
    return [...this.userColumns];
  }

  private tick(): string {
    this.clockMs += 1000;
    return new Date(this.clockMs).toISOString();
  }

  /** The row with system fields first, as Socrata writes `:*, *`. */
  private complete(
    row: SodaRow,
    system: { id?: string; createdAt?: string; updatedAt?: string },
  ): SodaRow {
    let user = row;
    for (const name in row) {
      if (name.startsWith(':')) {
        user = Object.fromEntries(Object.entries(row).filter(([key]) => !key.startsWith(':')));
        break;
      }
      if (!this.schema.has(name)) {
        this.schema.set(name, 'text');
        this.userColumns.push(name);
      }
    }
    const updatedAt =
      row[':updated_at'] ?? system.updatedAt ?? localToUtc(user.last_updated) ?? this.tick();
    const updatedMs = Date.parse(updatedAt);
    if (updatedMs > this.clockMs) this.clockMs = updatedMs;
    return {
      ':id': row[':id'] ?? system.id ?? makeSystemId((this.rowNumber += 1)),
      ':created_at': row[':created_at'] ?? system.createdAt ?? updatedAt,
      ':updated_at': updatedAt,
      ...user,
    };
  }

  /** Writes a row's JSON into the buffers and points the slot at it. */
  private write(slot: number, row: SodaRow): void {
    const json = JSON.stringify(row);
    const userStartChar =
      `{":id":${JSON.stringify(row[':id'])},":created_at":${JSON.stringify(row[':created_at'])},":updated_at":${JSON.stringify(row[':updated_at'])},`
        .length;
    // UTF-8 needs at most three bytes per UTF-16 unit: with that much room the write always fits.
    const room = json.length * 3;
    let chunk = this.chunks[this.chunks.length - 1];
    if (!chunk || this.used + room > chunk.length) {
      chunk = Buffer.allocUnsafe(Math.max(chunkBytes, room));
      this.chunks.push(chunk);
      this.used = 0;
    }
    const start = this.used;
    const bytes = chunk.write(json, start);
    this.used += bytes;
    this.chunkOf[slot] = this.chunks.length - 1;
    this.startOf[slot] = start;
    this.endOf[slot] = start + bytes;
    // System values are ASCII, so characters are bytes there; a row of system fields only has no user part.
    this.userStartOf[slot] = Math.min(start + userStartChar, start + bytes);
  }

  /** The row in a slot, system fields included. */
  readRow(slot: number): SodaRow {
    const chunk = this.chunks[this.chunkOf[slot]!]!;
    return JSON.parse(chunk.toString('utf8', this.startOf[slot], this.endOf[slot])) as SodaRow;
  }

  private keyIndex(): Map<string, number> {
    if (!this.firstByKey) {
      this.firstByKey = new Map();
      for (let slot = 0; slot < this.size; slot += 1) {
        const key = this.readRow(slot)[this.naturalKey];
        if (key !== undefined && !this.firstByKey.has(key)) this.firstByKey.set(key, slot);
      }
    }
    return this.firstByKey;
  }

  /** Replaces the first row with each row's natural key, or adds it; `:updated_at` moves. */
  upsert(rows: readonly SodaRow[]): { inserted: number; updated: number } {
    const index = this.keyIndex();
    let inserted = 0;
    let updated = 0;
    for (const row of rows) {
      const key = row[this.naturalKey];
      const slot = key === undefined ? undefined : index.get(key);
      if (slot === undefined) {
        const added = this.size;
        this.write(added, this.complete(row, { updatedAt: this.tick() }));
        if (key !== undefined) index.set(key, added);
        inserted += 1;
      } else {
        const old = this.readRow(slot);
        this.write(
          slot,
          this.complete(row, {
            id: old[':id']!,
            createdAt: old[':created_at']!,
            updatedAt: this.tick(),
          }),
        );
        updated += 1;
      }
    }
    this.forgetQueries();
    return { inserted, updated };
  }

  /** Removes every row with one of these natural keys. */
  remove(keys: readonly string[]): number {
    const doomed = new Set(keys);
    const kept: number[] = [];
    for (let slot = 0; slot < this.size; slot += 1) {
      if (!doomed.has(this.readRow(slot)[this.naturalKey] ?? '')) kept.push(slot);
    }
    const removed = this.size - kept.length;
    this.chunkOf = kept.map((slot) => this.chunkOf[slot]!);
    this.startOf = kept.map((slot) => this.startOf[slot]!);
    this.endOf = kept.map((slot) => this.endOf[slot]!);
    this.userStartOf = kept.map((slot) => this.userStartOf[slot]!);
    this.firstByKey = undefined;
    this.forgetQueries();
    return removed;
  }

  /** Every row, system fields included, in storage order (parses them all: for small datasets). */
  listRows(): SodaRow[] {
    return Array.from({ length: this.size }, (_, slot) => this.readRow(slot));
  }

  /**
   * Slots of the rows a query selects, in its order. Without `$order` they come in storage order
   * and the server scrambles them per request, as Socrata promises no order then.
   */
  select(selection: RowSelection): Selection {
    const key = JSON.stringify([selection.where, selection.order, selection.q, selection.equals]);
    const cached = this.cache.get(key);
    if (cached) {
      // Most recently used last, so eviction takes the stalest.
      this.cache.delete(key);
      this.cache.set(key, cached);
      return cached;
    }
    // Compiled before scanning, so a bad query fails the same way on an empty dataset.
    const where =
      selection.where === undefined
        ? undefined
        : compileWhere(parseWhere(selection.where), this.schema);
    const order =
      selection.order === undefined ? [] : compileOrder(parseOrder(selection.order), this.schema);
    const needle = selection.q?.toLowerCase();
    const equals = selection.equals ?? [];
    const size = this.size;
    // Test every row in storage order (memory order: fast), then read the matches off in the
    // query's order, sorted once per $order.
    // A range on one column (what window queries are): only the rows a binary search over that
    // column's sort order finds need testing.
    const range = selection.where === undefined ? undefined : rangeOf(parseWhere(selection.where));
    const candidates = range && this.slotsInRange(range);
    // A range is all the condition says (rangeOf takes nothing else): each candidate is tested on
    // that column's cached value, not on its whole row parsed, which would cost the fake more CPU
    // than the pipeline it serves spends on the same rows.
    const onlyRange = candidates && equals.length === 0 && needle === undefined;
    const rangeValues = onlyRange ? this.columnValues(range.column) : undefined;
    const matched: number[] = [];
    for (let index = 0; index < (candidates ? candidates.length : size); index += 1) {
      const slot = candidates ? candidates[index]! : index;
      if (rangeValues) {
        const value = rangeValues[slot];
        if (!where || where(value === undefined ? {} : { [range!.column]: value }))
          matched.push(slot);
        continue;
      }
      const row = this.readRow(slot);
      if (where && !where(row)) continue;
      if (equals.some(([name, value]) => row[name] !== value)) continue;
      if (
        needle !== undefined &&
        !this.userColumns.some((name) => row[name]?.toLowerCase().includes(needle))
      )
        continue;
      matched.push(slot);
    }
    const fresh: Selection = { slots: this.inOrder(matched, selection.order, order) };
    if (this.cache.size >= maxCachedSelections) this.evict();
    this.cache.set(key, fresh);
    return fresh;
  }

  /**
   * The matched slots in the query's order (storage order without one). A few matches are sorted
   * by their rank in the order; many are read off the order's walk, which costs a pass over
   * every row whatever the match count.
   */
  private inOrder(
    matched: number[],
    orderText: string | undefined,
    order: ReturnType<typeof compileOrder>,
  ): Uint32Array {
    const slots = Uint32Array.from(matched);
    if (order.length === 0) return slots.sort();
    const walk = this.slotsSortedBy(orderText!, order);
    if (matched.length * 16 < this.size) {
      const rank = this.ranksOf(orderText!, walk);
      return slots.sort((a, b) => rank[a]! - rank[b]!);
    }
    const isMatch = new Uint8Array(this.size);
    for (const slot of matched) isMatch[slot] = 1;
    const ordered = new Uint32Array(matched.length);
    let next = 0;
    for (let index = 0; index < walk.length; index += 1) {
      const slot = walk[index]!;
      if (isMatch[slot] === 1) ordered[next++] = slot;
    }
    return ordered;
  }

  /** Each slot's position in an order's walk (the inverse permutation), built once per order. */
  private ranksOf(orderText: string, walk: Uint32Array): Uint32Array {
    let rank = this.orderRanks.get(orderText);
    if (!rank) {
      rank = new Uint32Array(walk.length);
      for (let index = 0; index < walk.length; index += 1) rank[walk[index]!] = index;
      this.orderRanks.set(orderText, rank);
    }
    return rank;
  }

  /**
   * One column's values by slot, read once per column and kept (a column of strings, not a
   * million parsed rows: those would make every later garbage collection slow).
   */
  private columnValues(column: string): Array<string | undefined> {
    let values = this.columns.get(column);
    if (!values) {
      values = Array.from({ length: this.size }, (_, slot) => this.readRow(slot)[column]);
      this.columns.set(column, values);
    }
    return values;
  }

  private slotsSortedBy(orderText: string, order: ReturnType<typeof compileOrder>): Uint32Array {
    let sorted = this.sortedSlots.get(orderText);
    if (!sorted) {
      // Each row read once for every term's key; the keys live only while sorting.
      const keys = order.map(
        () => new Array<ReturnType<(typeof order)[number]['read']>>(this.size),
      );
      for (let slot = 0; slot < this.size; slot += 1) {
        const row = this.readRow(slot);
        for (let t = 0; t < order.length; t += 1) keys[t]![slot] = order[t]!.read(row);
      }
      const slots = Array.from({ length: this.size }, (_, slot) => slot);
      slots.sort((a, b) => {
        for (let t = 0; t < order.length; t += 1) {
          const term = order[t]!;
          const x = keys[t]![a]!;
          const y = keys[t]![b]!;
          if (x === y) continue;
          if (x === null) return term.nullsFirst ? -1 : 1;
          if (y === null) return term.nullsFirst ? 1 : -1;
          const c = compareScalars(x, y);
          if (c !== 0) return term.descending ? -c : c;
        }
        // Equal keys keep storage order, as a stable sort over the matching rows would.
        return a - b;
      });
      sorted = Uint32Array.from(slots);
      this.sortedSlots.set(orderText, sorted);
    }
    return sorted;
  }

  /**
   * Slots whose value may lie in the range, for a floating timestamp column: a binary search by
   * calendar day over the column's sort order, widened to whole days (literals are coerced, '2025-03-02'
   * meaning midnight), plus every row whose value is not a date at all. A superset: the caller
   * still tests each with the full condition. Undefined when no such shortcut applies.
   */
  private slotsInRange(range: ColumnRange): Uint32Array | undefined {
    const day = /^\d{4}-\d{2}-\d{2}/;
    if (this.schema.get(range.column) !== 'floating_timestamp') return undefined;
    if (
      (range.low !== undefined && !day.test(range.low)) ||
      (range.high !== undefined && !day.test(range.high))
    )
      return undefined;
    const order = compileOrder(parseOrder(range.column), this.schema);
    const sorted = this.slotsSortedBy(range.column, order);
    const values = this.columnValues(range.column);
    const dayOf = (slot: number) => {
      const value = values[slot];
      return value !== undefined && day.test(value) ? value.slice(0, 10) : undefined;
    };
    let split = this.datedSlots.get(range.column);
    if (!split) {
      split = {
        dated: sorted.filter((slot) => dayOf(slot) !== undefined),
        odd: sorted.filter((slot) => dayOf(slot) === undefined),
      };
      this.datedSlots.set(range.column, split);
    }
    const { dated, odd } = split;
    const firstAtOrAfter = (bound: string, orAfter: boolean) => {
      let low = 0;
      let high = dated.length;
      while (low < high) {
        const middle = (low + high) >>> 1;
        const value = dayOf(dated[middle]!)!;
        if (orAfter ? value <= bound : value < bound) low = middle + 1;
        else high = middle;
      }
      return low;
    };
    const start = range.low === undefined ? 0 : firstAtOrAfter(range.low.slice(0, 10), false);
    const end =
      range.high === undefined ? dated.length : firstAtOrAfter(range.high.slice(0, 10), true);
    const candidates = new Uint32Array(Math.max(0, end - start) + odd.length);
    candidates.set(dated.subarray(start, Math.max(start, end)));
    candidates.set(odd, Math.max(0, end - start));
    return candidates;
  }

  private forgetQueries(): void {
    this.cache.clear();
    this.layoutBytes = 0;
    this.columns.clear();
    this.sortedSlots.clear();
    this.datedSlots.clear();
    this.orderRanks.clear();
  }

  private evict(): void {
    const [key, stalest] = this.cache.entries().next().value!;
    if (stalest.layout) this.layoutBytes -= stalest.layout.bytes.length;
    this.cache.delete(key);
  }

  /** The selection's rows laid out contiguously, built on first use within the memory budget. */
  private layoutOf(selection: Selection): Layout {
    if (selection.layout) return selection.layout;
    const { slots } = selection;
    const starts = new Float64Array(slots.length + 1);
    let total = 0;
    for (let i = 0; i < slots.length; i += 1) {
      starts[i] = total;
      total += this.endOf[slots[i]!]! - this.startOf[slots[i]!]! + newlineComma.length;
    }
    starts[slots.length] = total;
    for (const entry of this.cache.values()) {
      if (this.layoutBytes + total <= layoutBudgetBytes) break;
      if (entry.layout && entry !== selection) {
        this.layoutBytes -= entry.layout.bytes.length;
        delete entry.layout;
      }
    }
    const bytes = Buffer.allocUnsafe(Math.max(0, total));
    for (let i = 0; i < slots.length; i += 1) {
      const slot = slots[i]!;
      const at = starts[i]!;
      const length = this.chunks[this.chunkOf[slot]!]!.copy(
        bytes,
        at,
        this.startOf[slot],
        this.endOf[slot],
      );
      newlineComma.copy(bytes, at + length);
    }
    selection.layout = { bytes, starts };
    this.layoutBytes += total;
    return selection.layout;
  }

  /** The same slots in an order that changes from request to request. */
  scramble(slots: Uint32Array, requestNumber: number): Uint32Array {
    return seededShuffle(slots, scramble(requestNumber));
  }

  /**
   * A page with system fields of a cached, ordered selection, as SODA writes it, in three parts
   * (`[`, the rows, `]\n`) that share memory with the layout.
   */
  renderLaidOut(
    selection: Selection,
    offset: number,
    limit: number,
  ): { parts: Buffer[]; rows: number } {
    const layout = this.layoutOf(selection);
    const end = Math.min(selection.slots.length, offset + limit);
    if (end <= offset) return { parts: [Buffer.from('[]\n')], rows: 0 };
    const rows = layout.bytes.subarray(
      layout.starts[offset],
      layout.starts[end]! - newlineComma.length,
    );
    return { parts: [Buffer.from('['), rows, Buffer.from(']\n')], rows: end - offset };
  }

  /**
   * A page as SODA writes it, `[{…}\n,{…}]\n`: with system fields (`:*, *`), without (`*`), or
   * only the listed columns.
   */
  render(
    slots: Uint32Array,
    offset: number,
    limit: number,
    view: { system: boolean; columns?: readonly string[] },
  ): {
    body: Buffer;
    rows: number;
  } {
    const end = Math.min(slots.length, offset + limit);
    const count = Math.max(0, end - offset);
    if (view.columns) {
      const parts: string[] = [];
      for (let i = offset; i < end; i += 1) {
        const row = this.readRow(slots[i]!);
        const picked: SodaRow = {};
        for (const name of view.columns) if (row[name] !== undefined) picked[name] = row[name];
        parts.push(JSON.stringify(picked));
      }
      return { body: Buffer.from(`[${parts.join('\n,')}]\n`), rows: count };
    }
    const from = view.system ? this.startOf : this.userStartOf;
    // `*` without system fields: an opening brace, then the row from its first own field.
    const extra = view.system ? 0 : 1;
    let total = 3 + Math.max(0, count - 1) * newlineComma.length;
    for (let i = offset; i < end; i += 1) {
      const length = this.endOf[slots[i]!]! - from[slots[i]!]!;
      total += length + extra + (extra && length === 0 ? 1 : 0);
    }
    const body = Buffer.allocUnsafe(total);
    let at = 0;
    body[at++] = 0x5b; // [
    for (let i = offset; i < end; i += 1) {
      const slot = slots[i]!;
      if (i > offset) at += newlineComma.copy(body, at);
      if (extra) body[at++] = openBrace;
      const start = from[slot]!;
      const stop = this.endOf[slot]!;
      // A row with no fields of its own renders as `{}`.
      if (!view.system && start === stop) body[at++] = 0x7d;
      at += this.chunks[this.chunkOf[slot]!]!.copy(body, at, start, stop);
    }
    body[at++] = 0x5d; // ]
    body[at++] = 0x0a;
    return { body: body.subarray(0, at), rows: count };
  }
}

interface ColumnRange {
  column: string;
  low?: string;
  lowInclusive: boolean;
  high?: string;
  highInclusive: boolean;
}

/**
 * `col >= 'a' AND col < 'b'` (any mix of <, <=, >, >= on one column against text literals) as a
 * range; anything else undefined. Candidates from it are still tested with the full condition.
 */
function rangeOf(expr: Expr): ColumnRange | undefined {
  const parts: Expr[] = [];
  const collect = (node: Expr): boolean => {
    if (node.type === 'and') return collect(node.left) && collect(node.right);
    parts.push(node);
    return true;
  };
  collect(expr);
  let range: ColumnRange | undefined;
  for (const part of parts) {
    if (part.type !== 'compare' || part.left.type !== 'column' || part.right.type !== 'literal')
      return undefined;
    if (typeof part.right.value !== 'string' || part.operator === '=' || part.operator === '!=')
      return undefined;
    range ??= { column: part.left.name, lowInclusive: true, highInclusive: false };
    if (range.column !== part.left.name) return undefined;
    const value = part.right.value;
    if (part.operator === '>=' || part.operator === '>') {
      if (range.low === undefined || value > range.low) {
        range.low = value;
        range.lowInclusive = part.operator === '>=';
      }
    } else if (range.high === undefined || value < range.high) {
      range.high = value;
      range.highInclusive = part.operator === '<=';
    }
  }
  return range;
}
