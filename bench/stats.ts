/** Summary of repeated timings: the median is what the targets use, min and max show the spread. */
export interface Summary {
  median: number;
  p99: number;
  min: number;
  max: number;
  count: number;
}

/** Returns the value at quantile `q` (0 to 1) of `values`, by the nearest-rank method. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) {
    throw new Error('quantile of an empty sample');
  }

  const sorted = [...values].sort((left, right) => left - right);
  const rank = Math.min(Math.max(Math.ceil(q * sorted.length) - 1, 0), sorted.length - 1);
  return sorted[rank] as number;
}

export function summarize(values: readonly number[]): Summary {
  return {
    median: quantile(values, 0.5),
    p99: quantile(values, 0.99),
    min: Math.min(...values),
    max: Math.max(...values),
    count: values.length,
  };
}
