import { and, asc, desc, eq, inArray, type SQL } from 'drizzle-orm';
import type { Executor } from '../../db/database.ts';
import { type DailyNoteRow, dailyNotes } from './daily-notes.table.ts';

export async function listDailyNoteRows(
  db: Executor,
  f: { userId: string; dates?: string[] | undefined; limit: number; offset: number },
): Promise<DailyNoteRow[]> {
  const where: SQL[] = [eq(dailyNotes.userId, f.userId)];
  if (f.dates) where.push(inArray(dailyNotes.date, f.dates));
  return db
    .select()
    .from(dailyNotes)
    .where(and(...where))
    .orderBy(desc(dailyNotes.updatedAt), asc(dailyNotes.id))
    .limit(f.limit)
    .offset(f.offset);
}

export async function findDailyNoteRow(
  db: Executor,
  input: { userId: string; date: string },
): Promise<DailyNoteRow | undefined> {
  const rows = await db
    .select()
    .from(dailyNotes)
    .where(and(eq(dailyNotes.userId, input.userId), eq(dailyNotes.date, input.date)))
    .limit(1);
  return rows[0];
}

export async function insertDailyNote(
  db: Executor,
  values: typeof dailyNotes.$inferInsert,
): Promise<DailyNoteRow | undefined> {
  const rows = await db.insert(dailyNotes).values(values).onConflictDoNothing().returning();
  return rows[0];
}

export async function updateDailyNoteRow(
  db: Executor,
  id: string,
  values: Partial<typeof dailyNotes.$inferInsert>,
): Promise<DailyNoteRow | undefined> {
  const rows = await db.update(dailyNotes).set(values).where(eq(dailyNotes.id, id)).returning();
  return rows[0];
}

export async function deleteDailyNoteRow(db: Executor, id: string): Promise<void> {
  await db.delete(dailyNotes).where(eq(dailyNotes.id, id));
}
