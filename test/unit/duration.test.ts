import { describe, expect, it } from 'vitest';
import { formatDuration, InvalidDurationError, parseDuration } from '../../shared/index.js';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['15m', 900_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
    ['1.5s', 1_500],
    [' 10s ', 10_000],
    [250, 250],
    [0, 0],
  ])('parses %j as %d ms', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it.each([
    ['10'],
    ['-5s'],
    ['5 minutes'],
    ['s'],
    [''],
    [-1],
    [Number.NaN],
    [Number.POSITIVE_INFINITY],
    [null],
    [{}],
    ['1e400d'],
  ])('fails on %j with InvalidDurationError', (input) => {
    expect(() => parseDuration(input)).toThrow(InvalidDurationError);
  });

  it('names the bad input in the message', () => {
    expect(() => parseDuration('soon')).toThrow(/invalid duration "soon"/);
  });
});

describe('formatDuration', () => {
  it.each([
    [999, '999ms'],
    [1_500, '1.5s'],
    [90_000, '1.5m'],
    [7_200_000, '2h'],
    [172_800_000, '2d'],
  ])('formats %d as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});
