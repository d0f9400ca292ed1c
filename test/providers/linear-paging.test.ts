import { describe, expect, it } from 'vitest';
import { nextLinearPageSize } from '../../src/modules/providers/linear/linear-paging.ts';

const snapshot = (lastComplexity: number | null, complexityRemaining: number | null) => ({
  requestsRemaining: null,
  requestsResetAt: null,
  complexityRemaining,
  complexityResetAt: null,
  lastComplexity,
});

describe('Linear backfill page size', () => {
  const base = { lastPageSize: 50, initial: 50, max: 250, lowComplexity: 10_000 };

  it('starts at the configured size until a cost is known', () => {
    expect(nextLinearPageSize({ ...base, snapshot: undefined })).toBe(50);
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(null, 100_000) })).toBe(50);
  });

  it('grows to 250 when nodes are cheap and the budget is ample', () => {
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(500, 2_000_000) })).toBe(250);
  });

  it('stays under the single-query limit (10,000 points)', () => {
    // 80 points per node: 9,000 / 80 = 112.
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(4_000, 2_000_000) })).toBe(112);
  });

  it('shrinks with what remains of the hourly budget, never below 1', () => {
    // 12,000 remaining - 10,000 low-water = 2,000 points at 40 per node.
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(2_000, 12_000) })).toBe(50);
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(2_000, 10_400) })).toBe(10);
    expect(nextLinearPageSize({ ...base, snapshot: snapshot(2_000, 5_000) })).toBe(1);
  });

  it('never exceeds the configured maximum', () => {
    expect(nextLinearPageSize({ ...base, max: 100, snapshot: snapshot(50, 2_000_000) })).toBe(100);
  });
});
