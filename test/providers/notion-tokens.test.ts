import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { integrationConnections } from '../../src/db/schema.ts';
import { SECRET_CONTEXT } from '../../src/modules/integrations/secret-contexts.ts';
import { systemClock } from '../../src/modules/providers/budget/clock.ts';
import { PostgresBudgetStore } from '../../src/modules/providers/budget/provider-budget.ts';
import { createNotionCallPath } from '../../src/modules/providers/notion/notion-call-path.ts';
import {
  lifecycleFailure,
  ReauthorizationRequired,
} from '../../src/modules/providers/tokens/token-refresher.ts';
import { testConfig } from '../helpers/app.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/database.ts';
import { type FakeNotion, startFakeNotion } from '../helpers/fakes/notion-fake.ts';
import { createUser } from '../integrations/fixtures.ts';
import { silentLog, testBox } from './support.ts';

describe('Notion tokens through the call path', () => {
  let db: TestDatabase;
  let notion: FakeNotion;
  const box = testBox();
  const pageId = randomUUID();

  const path = () =>
    createNotionCallPath({
      db: db.database.db,
      box,
      config: testConfig({
        ...notion.env(),
        NOTION_CLIENT_ID: 'ntn_client',
        NOTION_CLIENT_SECRET: 'ntn_secret',
        NOTION_OAUTH_REDIRECT_URI: 'https://app.monoid.example/notion/callback',
      }),
      log: silentLog,
      clock: systemClock,
      budget: new PostgresBudgetStore(db.database.db),
    });

  const insert = async (values: {
    authType: 'oauth' | 'internal_token';
    token: string;
    refreshToken: string | null;
  }) => {
    const user = await createUser(db.database.db);
    const [row] = await db.database.db
      .insert(integrationConnections)
      .values({
        provider: 'notion',
        userId: user.id,
        authType: values.authType,
        accessTokenEnc: box.seal(values.token, SECRET_CONTEXT.accessToken),
        refreshTokenEnc: values.refreshToken
          ? box.seal(values.refreshToken, SECRET_CONTEXT.refreshToken)
          : null,
        externalWorkspaceId: notion.workspace.id,
      })
      .returning();
    return row?.id ?? '';
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    notion = await startFakeNotion({ tokens: [], refreshTokens: true });
    notion.pages.set(pageId, { object: 'page', id: pageId, properties: {} });
  });
  afterAll(async () => {
    await notion.close();
    await db.destroy();
  });

  it('uses the refresh token of an OAuth answer after a 401, storing the rotated one', async () => {
    notion.oauthCodes.set('code-n1', 'ntn_oauth_1');
    const res = await fetch(`${notion.url}/v1/oauth/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Basic ${Buffer.from('ntn_client:ntn_secret').toString('base64')}`,
      },
      body: JSON.stringify({ grant_type: 'authorization_code', code: 'code-n1' }),
    });
    const answer = (await res.json()) as { access_token: string; refresh_token: string };
    expect(answer.refresh_token).toBeTruthy();
    const id = await insert({
      authType: 'oauth',
      token: answer.access_token,
      refreshToken: answer.refresh_token,
    });
    const client = await path().client(id, { maxWaitMs: 10_000 });
    notion.validTokens.delete(answer.access_token); // expired at Notion
    const page = await client.pages.retrieve({ page_id: pageId });
    expect(page.id).toBe(pageId);
    const [row] = await db.database.db
      .select()
      .from(integrationConnections)
      .where(eq(integrationConnections.id, id));
    const rotated = box.open(row?.refreshTokenEnc ?? '', SECRET_CONTEXT.refreshToken);
    expect(rotated).not.toBe(answer.refresh_token);
    expect(notion.refreshTokens.has(rotated)).toBe(true);
  });

  it('a rejected internal token marks the connection reauthorization_required', async () => {
    const id = await insert({
      authType: 'internal_token',
      token: 'ntn_revoked',
      refreshToken: null,
    });
    const client = await path().client(id, { maxWaitMs: 10_000 });
    const err = await client.pages.retrieve({ page_id: pageId }).catch((e: unknown) => e);
    expect(lifecycleFailure(err)).toBeInstanceOf(ReauthorizationRequired);
    const [row] = await db.database.db
      .select()
      .from(integrationConnections)
      .where(eq(integrationConnections.id, id));
    expect(row?.status).toBe('reauthorization_required');
    expect(row?.lastError).toMatch(/Notion rejected/);
  });
});
