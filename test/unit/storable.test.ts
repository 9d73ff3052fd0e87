import { describe, expect, it } from 'vitest';
import { unstorableNumbers } from '../../shared/storable.js';

describe('unstorableNumbers', () => {
  it('accepts ordinary JSON', () => {
    expect(unstorableNumbers({ a: 1, b: [2.5, -3, 0], c: { d: 'x', e: null, f: true }, g: Number.MAX_SAFE_INTEGER })).toEqual([]);
  });

  it('names every number the document client or DynamoDB would refuse, with its path', () => {
    expect(unstorableNumbers({ big: 2 ** 60, list: [1, -(2 ** 54)], tiny: { v: 1e-200 } })).toEqual([
      expect.stringMatching(/^big: 1152921504606847000 is beyond/),
      expect.stringMatching(/^list\[1\]: -18014398509481984 is beyond/),
      expect.stringMatching(/^tiny\.v: 1e-200 is smaller in magnitude/),
    ]);
  });

  it('reports non-finite numbers and BigInts', () => {
    expect(unstorableNumbers([Number.NaN, Number.POSITIVE_INFINITY, 10n])).toHaveLength(3);
  });

  it('stops after the limit', () => {
    expect(unstorableNumbers(new Array(100).fill(2 ** 60))).toHaveLength(5);
  });

  it('leaves values with toJSON (dates) to their string form', () => {
    expect(unstorableNumbers({ at: new Date(0) })).toEqual([]);
  });
});
