/** Summary statistics for benchmark samples. */

function sorted(values: readonly number[]): number[] {
  if (values.length === 0) throw new RangeError('no samples');
  return [...values].sort((a, b) => a - b);
}

/**
 * The `p`-th percentile (0–100) by linear interpolation between closest ranks (the definition spreadsheets and
 * numpy use by default), so p50 of an even count is the mean of the middle two.
 */
export function percentile(values: readonly number[], p: number): number {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0–100, got ${p}`);
  const s = sorted(values);
  const rank = (p / 100) * (s.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  const a = s[low] as number;
  const b = s[high] as number;
  return a + (b - a) * (rank - low);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function max(values: readonly number[]): number {
  return sorted(values).at(-1) as number;
}

export function min(values: readonly number[]): number {
  return sorted(values)[0] as number;
}
