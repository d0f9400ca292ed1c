import type { Executor } from '../../db/database.ts';
import { notFound } from '../../http/errors.ts';
import { assertCategoryFor } from '../categories/categories.service.ts';
import {
  type Actor,
  idOrNoMatch,
  invalidFields,
  invalidReference,
  isUuid,
  nowMs,
  organisationForWrite,
  organisationOfWorkspace,
  pathId,
  visibleWorkspaceIds,
  workspaceKey,
  workspacesForFilter,
} from '../workspaces/workspace.service.ts';
import {
  deleteRoutineBlockRow,
  findRoutineBlockRow,
  insertRoutineBlock,
  listRoutineBlockRows,
  updateRoutineBlockRow,
} from './routine-blocks.repository.ts';
import { dayOfWeekErrors, dayOfWeekOf, timeErrors } from './routine-blocks.rules.ts';
import type {
  RoutineBlock,
  RoutineBlockCreate,
  RoutineBlockListQuery,
  RoutineBlockUpdate,
} from './routine-blocks.schemas.ts';
import type { RoutineBlockRow, routineBlocks } from './routine-blocks.table.ts';

function present(r: RoutineBlockRow): RoutineBlock {
  return {
    _id: r.id,
    userId: r.userId,
    organisationId: r.organisationId,
    templateId: r.templateId,
    // An override's day is its date's (derived, not stored).
    dayOfWeek: r.dayOfWeek ?? (r.date ? dayOfWeekOf(r.date) : null),
    date: r.date,
    startTime: r.startTime,
    endTime: r.endTime,
    name: r.name,
    categoryId: r.categoryId,
    content: r.content,
    blockType: r.blockType,
    color: r.color,
    updatedAt: r.updatedAt,
  };
}

export async function listRoutineBlocks(
  db: Executor,
  actor: Actor,
  query: RoutineBlockListQuery,
): Promise<RoutineBlock[]> {
  const workspaceIds = await workspacesForFilter(db, actor, query.organisationId);
  const rows = await listRoutineBlockRows(db, {
    workspaceIds,
    date: query.date,
    templateId: query.templateId === undefined ? undefined : idOrNoMatch(query.templateId),
    categoryId: query.categoryId === undefined ? undefined : idOrNoMatch(query.categoryId),
    limit: query.limit,
    offset: query.offset,
  });
  return rows.map(present);
}

export async function getRoutineBlock(
  db: Executor,
  actor: Actor,
  id: string,
): Promise<RoutineBlock> {
  const row = await findRoutineBlockRow(db, {
    id: pathId(id, 'Routine block'),
    workspaceIds: visibleWorkspaceIds(actor),
  });
  if (!row) throw notFound('Routine block');
  return present(row);
}

/** Tasks may only be planned into `routine` blocks of their own workspace. */
export async function assertRoutineBlockForTask(
  db: Executor,
  input: { routineBlockId: string; workspaceId: string },
): Promise<void> {
  const block = isUuid(input.routineBlockId)
    ? await findRoutineBlockRow(db, { id: input.routineBlockId, workspaceIds: [input.workspaceId] })
    : undefined;
  if (!block)
    throw invalidReference('routineBlockId', 'routine block not found in the task’s workspace');
  let blockType = block.blockType;
  if (blockType === null && block.templateId) {
    const template = await findRoutineBlockRow(db, {
      id: block.templateId,
      workspaceIds: [input.workspaceId],
    });
    blockType = template?.blockType ?? null;
  }
  if (blockType === 'schedule') {
    throw invalidReference('routineBlockId', 'schedule blocks cannot take tasks');
  }
}

type Values = Omit<typeof routineBlocks.$inferInsert, 'id' | 'userId' | 'createdAt' | 'updatedAt'>;

/**
 * The final state of a block, checked: a template has `dayOfWeek` (and no date or template);
 * an override has `date` and a visible template (and takes the template's workspace). Effective
 * times (override ?? template) sit on the 15-minute grid and last at least 15 minutes.
 */
async function resolveBlock(
  tx: Executor,
  actor: Actor,
  existing: RoutineBlockRow | undefined,
  body: RoutineBlockCreate | RoutineBlockUpdate,
): Promise<Values> {
  const pick = <K extends keyof RoutineBlockUpdate & keyof RoutineBlockRow>(key: K) =>
    (body[key] !== undefined ? body[key] : existing?.[key]) ?? null;
  const templateIdRaw = pick('templateId') as string | null;
  const date = pick('date') as string | null;
  // Override fields win: a body with `date` or `templateId` describes an override, placed by
  // its date; a `dayOfWeek` sent along must agree with that date and is not stored.
  const isOverride = date !== null || templateIdRaw !== null;
  const dayOfWeek = isOverride ? null : (pick('dayOfWeek') as number | null);
  const explicitOrg =
    'organisationId' in body
      ? await organisationForWrite(tx, actor, body.organisationId)
      : undefined;

  let workspaceId = existing?.workspaceId ?? workspaceKey(actor, explicitOrg ?? null);
  let template: RoutineBlockRow | undefined;
  if (!isOverride) {
    if (dayOfWeek === null) {
      throw invalidReference(
        'dayOfWeek',
        'a block needs dayOfWeek (template) or date and templateId (override)',
      );
    }
  } else {
    if (date === null || templateIdRaw === null) {
      throw invalidFields([
        {
          path: date === null ? 'date' : 'templateId',
          message: 'a block needs dayOfWeek (template) or date and templateId (override)',
        },
      ]);
    }
    const contradiction = dayOfWeekErrors(body.dayOfWeek, date);
    if (contradiction.length > 0) throw invalidFields(contradiction);
    template = isUuid(templateIdRaw)
      ? await findRoutineBlockRow(tx, {
          id: templateIdRaw.toLowerCase(),
          workspaceIds: visibleWorkspaceIds(actor),
        })
      : undefined;
    if (!template || template.dayOfWeek === null || template.id === existing?.id) {
      throw invalidReference('templateId', 'template block not found');
    }
    if (explicitOrg !== undefined && workspaceKey(actor, explicitOrg) !== template.workspaceId) {
      throw invalidReference('organisationId', 'does not match the template’s workspace');
    }
    if (existing && existing.workspaceId !== template.workspaceId) {
      throw invalidReference('templateId', 'template must be in the block’s workspace');
    }
    workspaceId = template.workspaceId;
  }

  const startTime = pick('startTime') as string | null;
  const endTime = pick('endTime') as string | null;
  const effectiveStart = startTime ?? template?.startTime ?? null;
  const effectiveEnd = endTime ?? template?.endTime ?? null;
  if (!template && (startTime === null || endTime === null)) {
    throw invalidFields([
      {
        path: startTime === null ? 'startTime' : 'endTime',
        message: 'is required for a template block',
      },
    ]);
  }
  const errors = timeErrors(effectiveStart, effectiveEnd);
  if (errors.length > 0) throw invalidFields(errors);

  const categoryId = (pick('categoryId') as string | null)?.toLowerCase() ?? null;
  if (categoryId && (body.categoryId !== undefined || !existing)) {
    await assertCategoryFor(tx, {
      categoryId,
      workspaceId,
      entityTypes: ['routine_block', 'routine_template'],
    });
  }
  const blockType = pick('blockType') as RoutineBlockRow['blockType'];
  return {
    organisationId:
      existing && existing.workspaceId === workspaceId
        ? existing.organisationId
        : organisationOfWorkspace(actor, workspaceId),
    workspaceId,
    templateId: template?.id ?? null,
    dayOfWeek,
    date,
    startTime,
    endTime,
    name: pick('name') as string | null,
    categoryId,
    content: pick('content') as string | null,
    // A template is `routine` unless said otherwise; an override inherits (null).
    blockType: template ? blockType : (blockType ?? 'routine'),
    color: pick('color') as string | null,
  };
}

export async function createRoutineBlock(
  db: Executor,
  actor: Actor,
  input: RoutineBlockCreate,
): Promise<RoutineBlock> {
  return db.transaction(async (tx) => {
    const values = await resolveBlock(tx, actor, undefined, input);
    const now = nowMs();
    const row = await insertRoutineBlock(tx, {
      ...values,
      userId: actor.userId,
      createdAt: now,
      updatedAt: now,
    });
    return present(row);
  });
}

export async function updateRoutineBlock(
  db: Executor,
  actor: Actor,
  id: string,
  patch: RoutineBlockUpdate,
): Promise<RoutineBlock> {
  const blockId = pathId(id, 'Routine block');
  return db.transaction(async (tx) => {
    const existing = await findRoutineBlockRow(tx, {
      id: blockId,
      workspaceIds: visibleWorkspaceIds(actor),
      forUpdate: true,
    });
    if (!existing) throw notFound('Routine block');
    const values = await resolveBlock(tx, actor, existing, patch);
    const row = await updateRoutineBlockRow(tx, blockId, { ...values, updatedAt: nowMs() });
    if (!row) throw notFound('Routine block');
    return present(row);
  });
}

/** Deletes a block (a template's overrides go with it; tasks keep `routineBlockId: null`). */
export async function deleteRoutineBlock(db: Executor, actor: Actor, id: string): Promise<void> {
  const blockId = pathId(id, 'Routine block');
  const existing = await findRoutineBlockRow(db, {
    id: blockId,
    workspaceIds: visibleWorkspaceIds(actor),
  });
  if (!existing) throw notFound('Routine block');
  await deleteRoutineBlockRow(db, blockId);
}
