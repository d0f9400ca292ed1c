import { eq } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { linearTeamLinks } from '../integrations/integrations.table.ts';

export async function findTeamLinkById(db: Executor, id: string) {
  const [row] = await db.select().from(linearTeamLinks).where(eq(linearTeamLinks.id, id));
  return row;
}
