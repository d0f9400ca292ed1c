import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Database, openDatabase } from '../../src/db/database.ts';
import { integrationConnections } from '../../src/db/schema.ts';
import { PostgresBudgetStore } from '../../src/modules/providers/budget/provider-budget.ts';
import { createLinearCallPath } from '../../src/modules/providers/linear/linear-call-path.ts';
import { ReauthorizationRequired } from '../../src/modules/providers/tokens/token-refresher.ts';
import { testConfig } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeLinear, startFakeLinear } from '../helpers/fakes/linear-fake.ts';
import {
  insertLinearOAuthConnection,
  linearOAuthEnv,
  type ManualClock,
  manualClock,
  silentLog,
  testBox,
} from './support.ts';

/**
 * Linear OAuth tokens expire (about 24 h since 2026-04-01) and their refresh token rotates.
 * These tests run the real SDK and the real refresh grant against a loopback Linear that
 * issues short-lived tokens, on one database shared by two "instances" (two pools).
 */
describe('Linear OAuth token lifecycle', () => {
  let db: TestDatabase;
  let second: Database;
  const box = testBox();

  const callPath = (database: Database, clock: ManualClock | undefined, fake: FakeLinear) =>
    createLinearCallPath({
      db: database.db,
      box,
      config: testConfig({ ...linearOAuthEnv(fake), PROVIDER_RATE_LIMIT_JITTER_MS: '0' }),
      log: silentLog,
      clock: clock ?? { now: Date.now, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
      budget: new PostgresBudgetStore(database.db),
    });

  beforeAll(async () => {
    db = await createTestDatabase();
    if (!db.url) throw new Error('these tests need Postgres (DATABASE_URL)');
    second = await openDatabase({ url: db.url, poolSize: 3 });
  });
  afterAll(async () => {
    await second.close();
    await db.destroy();
  });

  it('refreshes before expiry, stores the rotated refresh token, and keeps calling', async () => {
    const clock = manualClock();
    const fake = await startFakeLinear({ tokenLifetimeSeconds: 3600, now: clock.now });
    try {
      const path = callPath(db.database, clock, fake);
      const id = await insertLinearOAuthConnection(db.database.db, box, fake, clock);
      const client = await path.client(id, { maxWaitMs: 0 });
      await client.teams();
      expect(fake.refreshRequests()).toHaveLength(0);
      // Inside the margin (5 min, capped at half the lifetime = 30 min): refreshed first.
      clock.advance(3600_000 - 60_000);
      await client.teams();
      expect(fake.refreshRequests()).toHaveLength(1);
      const [row] = await db.database.db
        .select()
        .from(integrationConnections)
        .where(eq(integrationConnections.id, id));
      // The stored refresh token is the rotated one (the first no longer works at the fake).
      const stored = box.open(row?.refreshTokenEnc ?? '', 'integration-refresh-token');
      expect(fake.refreshTokens.has(stored)).toBe(true);
      expect(row?.tokenExpiresAt?.getTime()).toBe(clock.now() + 3600_000);
      expect(fake.calls.every((c) => c.operation !== 'teams' || c.token)).toBe(true);
    } finally {
      await fake.close();
    }
  });

  it('refreshes once after a 401 and retries the call', async () => {
    const fake = await startFakeLinear({ tokenLifetimeSeconds: 3600 });
    try {
      const path = callPath(db.database, undefined, fake);
      const id = await insertLinearOAuthConnection(
        db.database.db,
        box,
        fake,
        manualClock(Date.now()),
      );
      const client = await path.client(id, { maxWaitMs: 0 });
      // Linear revokes the access token early (not expired by our clock).
      fake.validTokens.clear();
      const teams = await client.teams();
      expect(teams.nodes.length).toBe(2);
      expect(fake.refreshRequests()).toHaveLength(1);
      const statuses = fake.calls.slice(-2).map((c) => c.token);
      expect(statuses[0]).not.toBe(statuses[1]);
    } finally {
      await fake.close();
    }
  });

  it('two instances refreshing at once make exactly one refresh call and share its result', async () => {
    const clock = manualClock(Date.now());
    const fake = await startFakeLinear({ tokenLifetimeSeconds: 3, now: () => clock.now() });
    try {
      const a = callPath(db.database, clock, fake);
      const b = callPath(second, clock, fake);
      const id = await insertLinearOAuthConnection(db.database.db, box, fake, clock);
      clock.advance(5_000); // expired
      const tokens = await Promise.all([
        a.tokens.current(id),
        b.tokens.current(id),
        a.tokens.current(id),
        b.tokens.current(id),
      ]);
      expect(fake.refreshRequests()).toHaveLength(1);
      expect(new Set(tokens.map((t) => t.token)).size).toBe(1);
      // And a 401 seen by both at once, with the same stale token: still one refresh.
      const stale = tokens[0]?.token ?? '';
      fake.validTokens.delete(stale);
      const after = await Promise.all([a.tokens.refresh(id, stale), b.tokens.refresh(id, stale)]);
      expect(fake.refreshRequests()).toHaveLength(2);
      expect(after[0]?.token).toBe(after[1]?.token);
    } finally {
      await fake.close();
    }
  });

  it('a refused refresh (invalid_grant) marks the connection reauthorization_required', async () => {
    const clock = manualClock(Date.now());
    const fake = await startFakeLinear({ tokenLifetimeSeconds: 60, now: () => clock.now() });
    try {
      const path = callPath(db.database, clock, fake);
      const id = await insertLinearOAuthConnection(db.database.db, box, fake, clock);
      fake.refreshTokens.clear(); // the person revoked the app
      clock.advance(120_000);
      await expect(path.client(id, { maxWaitMs: 0 })).rejects.toBeInstanceOf(
        ReauthorizationRequired,
      );
      const [row] = await db.database.db
        .select()
        .from(integrationConnections)
        .where(eq(integrationConnections.id, id));
      expect(row?.status).toBe('reauthorization_required');
      expect(row?.lastError).toMatch(/invalid_grant/);
      // Nothing else is tried until someone reconnects.
      await expect(path.client(id, { maxWaitMs: 0 })).rejects.toBeInstanceOf(
        ReauthorizationRequired,
      );
      expect(fake.refreshRequests()).toHaveLength(1);
    } finally {
      await fake.close();
    }
  });

  it('a Linear OAuth connection works for a week of simulated time', async () => {
    const clock = manualClock();
    // Real lifetime: about 24 h.
    const fake = await startFakeLinear({ tokenLifetimeSeconds: 86_399, now: () => clock.now() });
    try {
      const path = callPath(db.database, clock, fake);
      const id = await insertLinearOAuthConnection(db.database.db, box, fake, clock);
      let calls = 0;
      for (let hour = 0; hour < 7 * 24; hour += 1) {
        clock.advance(3600_000 + 17_000);
        const client = await path.client(id, { maxWaitMs: 0 });
        const teams = await client.teams();
        expect(teams.nodes).toHaveLength(2);
        calls += 1;
      }
      expect(calls).toBe(168);
      // About one refresh a day, never one per call; no call was ever refused.
      expect(fake.refreshRequests().length).toBeGreaterThanOrEqual(7);
      expect(fake.refreshRequests().length).toBeLessThanOrEqual(8);
      const [row] = await db.database.db
        .select()
        .from(integrationConnections)
        .where(eq(integrationConnections.id, id));
      expect(row?.status).toBe('active');
    } finally {
      await fake.close();
    }
  });
});
