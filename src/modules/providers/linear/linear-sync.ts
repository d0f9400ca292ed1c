import {
  createLinked,
  type Effect,
  type EffectChange,
  type EffectContext,
  keyFor,
  recordExternalItem,
} from '../../automations/automation.effects.ts';
import type { ExternalRef } from '../../automations/automation.event.ts';
import {
  findExternalItemForUpdate,
  upsertExternalItem,
} from '../../automations/automations.repository.ts';
import { withSyncOrigin, yieldToLocalChanges } from './linear-outbox.repository.ts';
import type { SyncPlan } from './linear-sync.mapping.ts';

export interface SyncResult {
  effects: Effect[];
  /** Set when the event was older than what is stored and was ignored. */
  stale: boolean;
}

/**
 * The Linear sync for one linked container. Stale events (older than the stored version)
 * are ignored; a removal before the item exists leaves a tombstone so that a late create
 * does not resurrect it. A removed issue cancels its task (see docs/automations.md).
 */
export async function applyLinearSync(
  ctx: EffectContext,
  input: { plan: SyncPlan; containerId: string; ref: ExternalRef; organisationId: string | null },
): Promise<SyncResult> {
  if (input.plan.kind === 'none') return { effects: [], stale: false };
  // The sync's own writes are not pushed back to Linear (the outbox trigger skips them).
  return ctx.dryRun
    ? applySync(ctx, input)
    : withSyncOrigin(ctx.db, (db) => applySync({ ...ctx, db }, input));
}

export async function applySync(
  ctx: EffectContext,
  input: { plan: SyncPlan; containerId: string; ref: ExternalRef; organisationId: string | null },
): Promise<SyncResult> {
  const { plan, containerId } = input;
  const effects: Effect[] = [];
  if (plan.kind === 'none') return { effects, stale: false };
  const itemType = plan.kind === 'upsert_task' || plan.kind === 'remove_task' ? 'task' : 'project';
  const action = `sync.${plan.kind}`;
  const key = keyFor(ctx, input.ref, itemType, containerId);
  const existing = await findExternalItemForUpdate(ctx.db, key);
  // Older than what is stored, or the echo of the server's own push (two-way sync).
  if (
    existing &&
    (ctx.versionAt < existing.versionAt || ctx.versionAt === existing.pushedVersionAt)
  )
    return { effects, stale: true };
  const existingId = existing?.itemId ?? null;

  if (plan.kind === 'remove_task' || plan.kind === 'remove_project') {
    if (existingId) {
      if (ctx.dryRun)
        effects.push({ action, itemType, itemId: existingId, change: 'would_cancel' });
      else {
        const ok =
          itemType === 'task'
            ? await ctx.store.updateTask(ctx.db, ctx.workspace, ctx.actingUserId, existingId, {
                bucket: 'cancelled',
              })
            : await ctx.store.updateProject(ctx.db, ctx.workspace, ctx.actingUserId, existingId, {
                status: 'cancelled',
              });
        effects.push({
          action,
          itemType,
          itemId: existingId,
          change: ok ? 'cancelled' : 'not_found',
        });
      }
    }
    if (!ctx.dryRun)
      await upsertExternalItem(ctx.db, {
        ...key,
        itemId: existingId,
        versionAt: ctx.versionAt,
        removed: true,
      });
    return { effects, stale: false };
  }
  // From here on: create or update. An event newer than a tombstone means the issue was
  // restored, so it syncs again.

  // Linear is the source of truth: an item deleted in MONOid while its Linear item lives is
  // recreated (its update finds nothing), and every update rewrites the synced fields.
  const upsert = async (
    update: (id: string) => Promise<boolean>,
    create: () => Promise<string>,
  ) => {
    const updated = existingId !== null && (await update(existingId));
    if (existingId && updated) {
      await recordExternalItem(ctx, key, existingId);
      return { id: existingId, change: 'updated' as EffectChange };
    }
    const id = await createLinked(ctx, {
      key,
      ref: { ...input.ref, title: plan.fields.title },
      itemType,
      linkContainerId: containerId,
      create,
    });
    return { id, change: 'created' as EffectChange };
  };
  const described = (): SyncResult => {
    effects.push({
      action,
      itemType,
      itemId: existingId,
      change: existingId ? 'would_update' : 'would_create',
      detail: plan.fields.title,
    });
    return { effects, stale: false };
  };

  if (plan.kind === 'upsert_project') {
    const f = plan.fields;
    if (ctx.dryRun) return described();
    const fields = { title: f.title, description: f.description, status: f.status };
    const { id, change } = await upsert(
      (existing) =>
        ctx.store.updateProject(ctx.db, ctx.workspace, ctx.actingUserId, existing, fields),
      () =>
        ctx.store.createProject(ctx.db, ctx.workspace, ctx.actingUserId, {
          ...fields,
          containerId,
        }),
    );
    effects.push({ action, itemType, itemId: id, change, detail: f.title });
    return { effects, stale: false };
  }

  const f = plan.fields;
  let projectId: string | null = null;
  if (f.linearProjectId) {
    const project = await findExternalItemForUpdate(ctx.db, {
      ...key,
      externalId: f.linearProjectId,
      itemType: 'project',
    });
    projectId = project?.removedAt ? null : (project?.itemId ?? null);
  }
  const assigneeId =
    input.organisationId && f.assigneeEmail
      ? await ctx.store.findMemberByEmail(ctx.db, input.organisationId, f.assigneeEmail)
      : null;
  if (ctx.dryRun) return described();
  const synced = {
    title: f.title,
    notes: f.notes,
    bucket: f.bucket,
    dueDate: f.dueDate,
    projectId,
    assigneeId,
  };
  // Two-way links: fields changed in MONOid after this Linear version and not pushed yet keep
  // MONOid's value (last writer wins, by time); an older local change yields to Linear's.
  const fields = existingId
    ? await yieldToLocalChanges(ctx.db, existingId, ctx.versionAt, synced)
    : synced;
  const { id, change } = await upsert(
    (existing) => ctx.store.updateTask(ctx.db, ctx.workspace, ctx.actingUserId, existing, fields),
    () =>
      ctx.store.createTask(ctx.db, ctx.workspace, ctx.actingUserId, {
        ...synced,
        doDate: null,
        containerId,
      }),
  );
  effects.push({ action, itemType, itemId: id, change, detail: f.title });
  return { effects, stale: false };
}
