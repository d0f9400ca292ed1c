ALTER TABLE "linear_sync_outbox" ADD COLUMN "provider" text DEFAULT 'linear' NOT NULL;--> statement-breakpoint
ALTER TABLE "linear_sync_outbox" DROP CONSTRAINT "linear_sync_outbox_pkey";--> statement-breakpoint
ALTER TABLE "linear_sync_outbox" ADD CONSTRAINT "linear_sync_outbox_pkey" PRIMARY KEY("task_id","provider");--> statement-breakpoint
ALTER TABLE "automations" ADD COLUMN "sync" text DEFAULT 'from_provider' NOT NULL;--> statement-breakpoint
ALTER TABLE "automations" ADD COLUMN "write_back" jsonb;--> statement-breakpoint
ALTER TABLE "automation_external_items" ADD COLUMN "automation_id" uuid;--> statement-breakpoint
ALTER TABLE "automation_external_items" ADD CONSTRAINT "automation_external_items_automation_id_automations_id_fk" FOREIGN KEY ("automation_id") REFERENCES "public"."automations"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
-- The outbox is shared by the providers (one row per task and provider). One upsert for all:
-- a row is due 150 ms after the task's last change (a burst of edits becomes one push), but
-- never later than 800 ms after its first change.
CREATE OR REPLACE FUNCTION monoid_outbox_upsert(p_provider text, p_task uuid, p_fields text[], p_changed bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO linear_sync_outbox AS o (task_id, provider, fields, changed_at, next_attempt_at)
  VALUES (p_task, p_provider, p_fields, p_changed, now() + interval '150 milliseconds')
  ON CONFLICT (task_id, provider) DO UPDATE SET
    fields = ARRAY(SELECT DISTINCT unnest(o.fields || EXCLUDED.fields)),
    changed_at = greatest(o.changed_at, EXCLUDED.changed_at),
    revision = o.revision + 1,
    state = 'pending',
    attempts = CASE WHEN o.state = 'failed' THEN 0 ELSE o.attempts END,
    next_attempt_at = CASE
      WHEN o.state = 'failed' THEN now()
      ELSE least(now() + interval '150 milliseconds', o.created_at + interval '800 milliseconds')
    END,
    last_error = CASE WHEN o.state = 'failed' THEN NULL ELSE o.last_error END;
  PERFORM pg_notify('inbox_events', '');
END
$$;
--> statement-breakpoint
-- Linear: tasks linked to an issue through a `two_way` team link (title, notes, bucket, due
-- date, assignee). Notion: tasks made from a page by a `two_way` rule (title, bucket, due and
-- do dates; the rule's write-back mapping decides which reach the page). Each provider's own
-- sync writes with `monoid.sync_origin` = its id and is not pushed back to it.
CREATE OR REPLACE FUNCTION monoid_sync_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  origin text := coalesce(current_setting('monoid.sync_origin', true), '');
  changed text[] := '{}';
BEGIN
  IF NEW.title IS DISTINCT FROM OLD.title THEN changed := changed || 'title'::text; END IF;
  IF NEW.notes IS DISTINCT FROM OLD.notes THEN changed := changed || 'notes'::text; END IF;
  IF NEW.bucket IS DISTINCT FROM OLD.bucket THEN changed := changed || 'bucket'::text; END IF;
  IF NEW.due_date IS DISTINCT FROM OLD.due_date THEN changed := changed || 'due_date'::text; END IF;
  IF NEW.do_date IS DISTINCT FROM OLD.do_date THEN changed := changed || 'do_date'::text; END IF;
  IF NEW.assignee_id IS DISTINCT FROM OLD.assignee_id THEN changed := changed || 'assignee_id'::text; END IF;
  IF cardinality(changed) = 0 THEN
    RETURN NULL;
  END IF;
  IF origin <> 'linear' AND changed && ARRAY['title','notes','bucket','due_date','assignee_id'] AND EXISTS (
    SELECT 1 FROM external_links l
    JOIN linear_team_links tl ON tl.container_id = l.container_id AND tl.sync = 'two_way'
    WHERE l.entity_type = 'task' AND l.entity_id = NEW.id AND l.provider = 'linear'
  ) THEN
    PERFORM monoid_outbox_upsert('linear', NEW.id,
      ARRAY(SELECT unnest(changed) INTERSECT SELECT unnest(ARRAY['title','notes','bucket','due_date','assignee_id'])),
      NEW.updated_at);
  END IF;
  IF origin <> 'notion' AND changed && ARRAY['title','bucket','due_date','do_date'] AND EXISTS (
    SELECT 1 FROM automation_external_items ei
    JOIN automations a ON a.id = ei.automation_id AND a.sync = 'two_way'
    WHERE ei.item_type = 'task' AND ei.item_id = NEW.id AND ei.provider = 'notion'
      AND ei.removed_at IS NULL
  ) THEN
    PERFORM monoid_outbox_upsert('notion', NEW.id,
      ARRAY(SELECT unnest(changed) INTERSECT SELECT unnest(ARRAY['title','bucket','due_date','do_date'])),
      NEW.updated_at);
  END IF;
  RETURN NULL;
END
$$;
--> statement-breakpoint
DROP TRIGGER tasks_linear_outbox ON tasks;--> statement-breakpoint
DROP FUNCTION monoid_linear_outbox();--> statement-breakpoint
CREATE TRIGGER tasks_sync_outbox AFTER UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION monoid_sync_outbox();
