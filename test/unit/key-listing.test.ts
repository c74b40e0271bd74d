import { describe, expect, it } from 'vitest';
import {
  joinOverlappingPage,
  judgeKeyListing,
  type KeyListingTally,
} from '../../src/pipeline/key-listing.js';

const exact: KeyListingTally = {
  counted: 12_000,
  listed: 12_000,
  distinctIds: 12_000,
  withoutId: 0,
  withoutKey: 0,
  keyField: 'id',
};

describe('judgeKeyListing', () => {
  it('takes a listing that matches the source’s count, every row once', () => {
    expect(judgeKeyListing(exact)).toEqual({ complete: true });
    // An empty dataset listed empty is exact too (the delete guard decides what follows).
    expect(judgeKeyListing({ ...exact, counted: 0, listed: 0, distinctIds: 0 })).toEqual({
      complete: true,
    });
    // Rows without a key serve none, but do not make the listing wrong.
    expect(judgeKeyListing({ ...exact, withoutKey: 3 })).toEqual({ complete: true });
  });

  it('refuses a listing cut short: an empty or missing page', () => {
    expect(judgeKeyListing({ ...exact, listed: 5_000, distinctIds: 5_000 })).toEqual({
      complete: false,
      reason:
        'the listing returned 5,000 rows where the source counts 12,000 (cut short, or the source grew meanwhile)',
    });
    expect(judgeKeyListing({ ...exact, listed: 0, distinctIds: 0 })).toMatchObject({
      complete: false,
    });
  });

  it('refuses more rows than the count, and rows listed twice', () => {
    expect(judgeKeyListing({ ...exact, listed: 12_050, distinctIds: 12_050 })).toMatchObject({
      complete: false,
      reason:
        'the listing returned 12,050 rows where the source counts 12,000 (the source removed rows meanwhile)',
    });
    expect(judgeKeyListing({ ...exact, distinctIds: 11_999 })).toEqual({
      complete: false,
      reason:
        'the listing repeats 1 rows (the same :id twice), so its pages shifted and others may be missing',
    });
  });

  it('refuses an answer that is not a key listing of this dataset', () => {
    expect(judgeKeyListing({ ...exact, withoutId: 12_000 })).toMatchObject({
      complete: false,
      reason: '12,000 rows of the listing have no :id, so it is not an answer to the key listing',
    });
    expect(judgeKeyListing({ ...exact, withoutKey: 12_000, keyField: 'file_number' })).toEqual({
      complete: false,
      reason:
        "no row of the listing has the key field file_number, so it is not this dataset's answer",
    });
  });
});

describe('joinOverlappingPage', () => {
  const previous = { lastId: 'row-b', endsAt: 5_000 };

  it('drops the repeated row of a page that starts where the last one ended', () => {
    expect(joinOverlappingPage(previous, [{ ':id': 'row-b' }, { ':id': 'row-c' }])).toEqual({
      ok: true,
      rows: [{ ':id': 'row-c' }],
    });
    expect(joinOverlappingPage(previous, [{ ':id': 'row-b' }])).toEqual({ ok: true, rows: [] });
  });

  it('refuses a page that starts elsewhere (the source shifted) or is empty', () => {
    expect(joinOverlappingPage(previous, [{ ':id': 'row-c' }])).toEqual({
      ok: false,
      reason:
        'the page from row 4,999 does not start with the row the one before ended with (row-b, found "row-c"): the source changed while the listing ran',
    });
    expect(joinOverlappingPage(previous, [])).toEqual({
      ok: false,
      reason: 'the page from row 4,999 came back empty after a full one (cut short)',
    });
  });
});
