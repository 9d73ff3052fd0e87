/** Value at quantile `q` (0..1) of `values`, by nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) throw new RangeError('quantile of an empty list');
  if (!(q >= 0 && q <= 1)) throw new RangeError(`q must be within 0..1 (given ${q})`);
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[rank - 1] as number;
}

export function median(values: readonly number[]): number {
  return quantile(values, 0.5);
}

/** Median with the spread as min..max and the interquartile range. */
export function summarize(values: readonly number[]): { median: number; min: number; max: number; p25: number; p75: number } {
  return {
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
    p25: quantile(values, 0.25),
    p75: quantile(values, 0.75),
  };
}
