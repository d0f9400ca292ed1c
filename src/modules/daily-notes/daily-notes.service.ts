import type { Executor } from '../../db/database.ts';
import { conflict, notFound } from '../../http/errors.ts';
import { dateSchema } from '../public-api/public-api.schemas.ts';
import {
  type Actor,
  isUniqueViolation,
  nowMs,
  personalOwner,
} from '../workspaces/workspace.service.ts';
import {
  deleteDailyNoteRow,
  findDailyNoteRow,
  insertDailyNote,
  listDailyNoteRows,
  updateDailyNoteRow,
} from './daily-notes.repository.ts';
import type {
  DailyNote,
  DailyNoteCreate,
  DailyNoteListQuery,
  DailyNoteUpdate,
} from './daily-notes.schemas.ts';
import type { DailyNoteRow } from './daily-notes.table.ts';

const duplicate = () => conflict('A daily note already exists for this date.');

function present(r: DailyNoteRow): DailyNote {
  return {
    _id: r.id,
    userId: r.userId,
    date: r.date,
    content: r.content,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
  };
}

/** The path key: a malformed date is a 404 like a missing note. */
function pathDate(value: string): string {
  if (!dateSchema.safeParse(value).success) throw notFound('Daily note');
  return value;
}

export async function listDailyNotes(
  db: Executor,
  actor: Actor,
  query: DailyNoteListQuery,
): Promise<DailyNote[]> {
  const rows = await listDailyNoteRows(db, { userId: personalOwner(actor, 'read'), ...query });
  return rows.map(present);
}

export async function getDailyNote(db: Executor, actor: Actor, date: string): Promise<DailyNote> {
  const row = await findDailyNoteRow(db, {
    userId: personalOwner(actor, 'read'),
    date: pathDate(date),
  });
  if (!row) throw notFound('Daily note');
  return present(row);
}

export async function createDailyNote(
  db: Executor,
  actor: Actor,
  input: DailyNoteCreate,
): Promise<DailyNote> {
  const now = nowMs();
  const row = await insertDailyNote(db, {
    userId: personalOwner(actor, 'write'),
    date: input.date,
    content: input.content ?? null,
    createdAt: now,
    updatedAt: now,
  });
  if (!row) throw duplicate();
  return present(row);
}

export async function updateDailyNote(
  db: Executor,
  actor: Actor,
  date: string,
  patch: DailyNoteUpdate,
): Promise<DailyNote> {
  const existing = await findDailyNoteRow(db, {
    userId: personalOwner(actor, 'read'),
    date: pathDate(date),
  });
  if (!existing) throw notFound('Daily note');
  try {
    const row = await updateDailyNoteRow(db, existing.id, {
      ...(patch.date !== undefined ? { date: patch.date } : {}),
      ...(patch.content !== undefined ? { content: patch.content } : {}),
      updatedAt: nowMs(),
    });
    if (!row) throw notFound('Daily note');
    return present(row);
  } catch (err) {
    if (isUniqueViolation(err)) throw duplicate();
    throw err;
  }
}

export async function deleteDailyNote(db: Executor, actor: Actor, date: string): Promise<string> {
  const existing = await findDailyNoteRow(db, {
    userId: personalOwner(actor, 'read'),
    date: pathDate(date),
  });
  if (!existing) throw notFound('Daily note');
  await deleteDailyNoteRow(db, existing.id);
  return existing.id;
}
