import { describe, expect, it } from 'vitest';
import { judgeDeletions } from '../../src/pipeline/steps/deletions.js';

describe('judgeDeletions', () => {
  const share = 0.05;
  it('lets a window read mark up to the guard share of what we hold there', () => {
    expect(judgeDeletions({ held: 1_000, missing: 0, served: 1_000, share })).toBe('proceed');
    expect(judgeDeletions({ held: 1_000, missing: 50, served: 950, share })).toBe('proceed');
    expect(judgeDeletions({ held: 1_000, missing: 51, served: 949, share })).toBe('too_many');
  });

  it('always refuses an empty answer where we hold rows, whatever the share', () => {
    expect(judgeDeletions({ held: 7_000, missing: 7_000, served: 0, share })).toBe('empty');
    expect(judgeDeletions({ held: 1, missing: 1, served: 0, share: 1 })).toBe('empty');
    expect(judgeDeletions({ held: 0, missing: 0, served: 0, share })).toBe('proceed');
  });
});
