import { describe, expect, it } from 'vitest';
import { parseOccurrenceTime } from '../../src/pipeline/occurrence-time.js';

const zone = 'America/New_York';
const utc = (instant: string | null) => (instant === null ? null : new Date(instant).toISOString());

/** Each form of `crime_date_time` and the instants it must land on (reference §3). */
const cases: Array<{
  text: string | null | undefined;
  form: string;
  from: string | null;
  to: string | null;
  kind: string | null;
}> = [
  // single instant, winter (EST) and summer (EDT)
  {
    text: '02/22/2009 05:02',
    form: 'instant',
    from: '2009-02-22T10:02:00.000Z',
    to: '2009-02-22T10:02:00.000Z',
    kind: 'regular',
  },
  {
    text: '07/04/2024 12:00',
    form: 'instant',
    from: '2024-07-04T16:00:00.000Z',
    to: '2024-07-04T16:00:00.000Z',
    kind: 'regular',
  },
  // same-day range: the end takes the start's date
  {
    text: '02/21/2009 09:20 - 09:30',
    form: 'same_day_range',
    from: '2009-02-21T14:20:00.000Z',
    to: '2009-02-21T14:30:00.000Z',
    kind: 'regular',
  },
  {
    text: '05/07/2024 15:00 - 19:15',
    form: 'same_day_range',
    from: '2024-05-07T19:00:00.000Z',
    to: '2024-05-07T23:15:00.000Z',
    kind: 'regular',
  },
  // cross-day range, across a year end too
  {
    text: '02/20/2009 22:30 - 02/21/2009 10:00',
    form: 'range',
    from: '2009-02-21T03:30:00.000Z',
    to: '2009-02-21T15:00:00.000Z',
    kind: 'regular',
  },
  {
    text: '12/31/2008 10:00 - 01/01/2009 10:00',
    form: 'range',
    from: '2008-12-31T15:00:00.000Z',
    to: '2009-01-01T15:00:00.000Z',
    kind: 'regular',
  },
  // DST: spring-forward gap read with the offset before the jump; fall-back overlap as its first occurrence
  {
    text: '03/08/2009 02:30',
    form: 'instant',
    from: '2009-03-08T07:30:00.000Z',
    to: '2009-03-08T07:30:00.000Z',
    kind: 'nonexistent',
  },
  {
    text: '11/01/2009 01:30',
    form: 'instant',
    from: '2009-11-01T05:30:00.000Z',
    to: '2009-11-01T05:30:00.000Z',
    kind: 'ambiguous',
  },
  // only the end irregular: the end's flag
  {
    text: '03/08/2009 01:00 - 02:15',
    form: 'same_day_range',
    from: '2009-03-08T06:00:00.000Z',
    to: '2009-03-08T07:15:00.000Z',
    kind: 'nonexistent',
  },
  {
    text: '10/31/2009 23:00 - 11/01/2009 01:10',
    form: 'range',
    from: '2009-11-01T03:00:00.000Z',
    to: '2009-11-01T05:10:00.000Z',
    kind: 'ambiguous',
  },
  // a range across the spring jump: the start regular, the end after it
  {
    text: '03/07/2009 22:00 - 03/08/2009 04:00',
    form: 'range',
    from: '2009-03-08T03:00:00.000Z',
    to: '2009-03-08T08:00:00.000Z',
    kind: 'regular',
  },
  // without instants
  { text: '02/21/2009', form: 'date_only', from: null, to: null, kind: null },
  { text: null, form: 'missing', from: null, to: null, kind: null },
  { text: undefined, form: 'missing', from: null, to: null, kind: null },
  { text: '   ', form: 'missing', from: null, to: null, kind: null },
  { text: 'unknown', form: 'unreadable', from: null, to: null, kind: null },
  { text: '02/30/2009 10:00', form: 'unreadable', from: null, to: null, kind: null },
  { text: '02/30/2009', form: 'unreadable', from: null, to: null, kind: null },
  { text: '02/21/2009 25:00', form: 'unreadable', from: null, to: null, kind: null },
  { text: '02/21/2009 09:20 - 24:10', form: 'unreadable', from: null, to: null, kind: null },
  { text: '2/21/2009 9:20', form: 'unreadable', from: null, to: null, kind: null },
  { text: '01/01/1850 10:00', form: 'unreadable', from: null, to: null, kind: null },
];

describe('parseOccurrenceTime', () => {
  it.each(cases)('$text → $form', ({ text, form, from, to, kind }) => {
    const parsed = parseOccurrenceTime(text, zone);
    expect({
      form: parsed.form,
      from: utc(parsed.from),
      to: utc(parsed.to),
      kind: parsed.kind,
    }).toEqual({
      form,
      from,
      to,
      kind,
    });
  });

  it('gives the local date, hour and weekday of the start', () => {
    expect(parseOccurrenceTime('02/20/2009 22:30 - 02/21/2009 10:00', zone)).toMatchObject({
      localDate: '2009-02-20',
      localHour: 22,
      localWeekday: 5,
    });
    expect(parseOccurrenceTime('02/21/2009', zone)).toMatchObject({
      localDate: null,
      localHour: null,
      localWeekday: null,
    });
  });

  it('keeps the start date for a same-day end earlier than the start, as documented', () => {
    const parsed = parseOccurrenceTime('02/21/2009 23:00 - 01:00', zone);
    expect(parsed.form).toBe('same_day_range');
    expect(utc(parsed.to)).toBe('2009-02-21T06:00:00.000Z');
  });

  it('reads seconds and loose spacing around the dash', () => {
    expect(utc(parseOccurrenceTime('02/21/2009 09:20:30-09:30', zone).from)).toBe(
      '2009-02-21T14:20:30.000Z',
    );
  });
});
