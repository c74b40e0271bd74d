import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  normalizeCode,
  normalizeNarrative,
  normalizeText,
  splitIntersection,
  splitStatute,
} from '../../src/pipeline/text.js';

describe('normalizers', () => {
  it('trim padding and collapse whitespace; empty is null', () => {
    expect(normalizeText(`AMES ST${' '.repeat(663)}`)).toBe('AMES ST');
    expect(normalizeText('  MASSACHUSETTS   AVE \t')).toBe('MASSACHUSETTS AVE');
    expect(normalizeText('   ')).toBeNull();
    expect(normalizeText(undefined)).toBeNull();
    expect(normalizeCode('Central  Sq ')).toBe('CENTRAL SQ');
  });

  it('keep paragraphs in narratives', () => {
    expect(normalizeNarrative('  First   line.\r\n\r\n\r\n\r\nSecond\tline.  ')).toBe(
      'First line.\n\nSecond line.',
    );
    expect(normalizeNarrative(' \n ')).toBeNull();
  });
});

describe('splitIntersection', () => {
  it.each([
    ['MASSACHUSETTS AVE & WESTERN AVE', 'MASSACHUSETTS AVE', 'WESTERN AVE'],
    ['GREEN ST&PEARL ST', 'GREEN ST', 'PEARL ST'],
    ['CENTRAL SQ', 'CENTRAL SQ', null],
    ['& MAIN ST', '& MAIN ST', null],
  ])('%s', (location, street, crossStreet) => {
    expect(splitIntersection(location)).toEqual({ street, crossStreet });
  });

  it('passes null through', () => {
    expect(splitIntersection(null)).toEqual({ street: null, crossStreet: null });
  });
});

describe('splitStatute', () => {
  it.each([
    ['LARCENY UNDER $1200 C266 S30(1)', 'LARCENY UNDER $1200', 'C266 S30(1)'],
    ['SHOPLIFTING BY ASPORTATION C266 S30A', 'SHOPLIFTING BY ASPORTATION', 'C266 S30A'],
    ['LEAVE SCENE OF PROPERTY DAMAGE C90 S24', 'LEAVE SCENE OF PROPERTY DAMAGE', 'C90 S24'],
    ['DRUG, POSSESS CLASS A C94C S34', 'DRUG, POSSESS CLASS A', 'C94C S34'],
    ['OUI LIQUOR C90 S24(1)(A)', 'OUI LIQUOR', 'C90 S24(1)(A)'],
    ['MOTOR VEH, LARCENY OF C266 S28', 'MOTOR VEH, LARCENY OF', 'C266 S28'],
    ['WARRANT ARREST REPORT', 'WARRANT ARREST REPORT', null],
    ['TRAFFIC INVESTIGATIONS', 'TRAFFIC INVESTIGATIONS', null],
  ])('%s', (subtype, offense, statute) => {
    expect(splitStatute(subtype)).toEqual({ offense, statute });
  });
});

describe('the fast paths', () => {
  it('give what the plain regular-expression versions give, for any mix of whitespace (property)', () => {
    const slowText = (value: string) => value.replace(/\s+/g, ' ').trim() || null;
    const slowNarrative = (value: string) =>
      value
        .replace(/\r\n?/g, '\n')
        .replace(/[^\S\n]+/g, ' ')
        .replace(/ ?\n ?/g, '\n')
        .replace(/\n{3,}/g, '\n\n')
        .trim() || null;
    const text = fc.string({
      unit: fc.constantFrom('a', 'B', ' ', '\n', '\r', '\t', '\u00a0', '\u2003', '\ufeff'),
    });
    fc.assert(
      fc.property(
        text,
        (value) =>
          normalizeText(value) === slowText(value) &&
          normalizeNarrative(value) === slowNarrative(value),
      ),
      { numRuns: 5_000 },
    );
  });
});
