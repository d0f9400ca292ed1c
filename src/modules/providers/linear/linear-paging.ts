import type { LinearBudgetSnapshot } from './linear-call-path.ts';

/** Linear's largest page (`first`). */
export const LINEAR_MAX_PAGE_SIZE = 250;
/** Linear refuses a single query costing more than this many complexity points. */
export const LINEAR_MAX_QUERY_COMPLEXITY = 10_000;

/**
 * The next page size of a bulk read (backfill): as large as the complexity budget allows.
 * The last answer's `X-Complexity` divided by the page size it asked for is the cost of one
 * node; the next page is as many nodes as fit both in one query (10,000 points) and in what
 * remains of the hourly budget above the low-water mark, between 1 and `max` (≤ 250).
 * Without a measurement yet, `initial` (the configured page size).
 */
export function nextLinearPageSize(input: {
  snapshot: LinearBudgetSnapshot | undefined;
  lastPageSize: number;
  initial: number;
  max: number;
  lowComplexity: number;
}): number {
  const max = Math.min(LINEAR_MAX_PAGE_SIZE, Math.max(1, input.max));
  const cost = input.snapshot?.lastComplexity;
  if (!cost || cost <= 0 || input.lastPageSize <= 0)
    return Math.min(max, Math.max(1, input.initial));
  const perNode = cost / input.lastPageSize;
  // Keep a 10 % margin: nested connections make the cost of a page only roughly linear.
  let points = LINEAR_MAX_QUERY_COMPLEXITY * 0.9;
  const remaining = input.snapshot?.complexityRemaining;
  if (remaining !== null && remaining !== undefined)
    points = Math.min(points, remaining - input.lowComplexity);
  return Math.min(max, Math.max(1, Math.floor(points / perNode)));
}
