CREATE TABLE "linear_sync_outbox" (
	"task_id" uuid PRIMARY KEY NOT NULL,
	"fields" text[] NOT NULL,
	"changed_at" bigint NOT NULL,
	"revision" integer DEFAULT 1 NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "automation_external_items" ADD COLUMN "pushed_version_at" bigint;--> statement-breakpoint
ALTER TABLE "linear_team_links" ADD COLUMN "sync" text DEFAULT 'from_provider' NOT NULL;--> statement-breakpoint
ALTER TABLE "linear_team_links" ADD COLUMN "sync_reason" text;--> statement-breakpoint
ALTER TABLE "linear_sync_outbox" ADD CONSTRAINT "linear_sync_outbox_task_id_tasks_id_fk" FOREIGN KEY ("task_id") REFERENCES "public"."tasks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "linear_sync_outbox_due_idx" ON "linear_sync_outbox" USING btree ("next_attempt_at") WHERE "linear_sync_outbox"."state" = 'pending';--> statement-breakpoint
-- Two-way sync: a change to a task linked to a Linear issue through a `two_way` team link is
-- written to linear_sync_outbox in the transaction of the change (a transactional outbox).
-- The sync's own writes set `monoid.sync_origin` for their transaction and are skipped, so
-- nothing that came from Linear is pushed back to it.
CREATE OR REPLACE FUNCTION monoid_linear_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changed text[] := '{}';
BEGIN
  IF coalesce(current_setting('monoid.sync_origin', true), '') = 'linear' THEN
    RETURN NULL;
  END IF;
  IF NEW.title IS DISTINCT FROM OLD.title THEN changed := changed || 'title'::text; END IF;
  IF NEW.notes IS DISTINCT FROM OLD.notes THEN changed := changed || 'notes'::text; END IF;
  IF NEW.bucket IS DISTINCT FROM OLD.bucket THEN changed := changed || 'bucket'::text; END IF;
  IF NEW.due_date IS DISTINCT FROM OLD.due_date THEN changed := changed || 'due_date'::text; END IF;
  IF NEW.assignee_id IS DISTINCT FROM OLD.assignee_id THEN changed := changed || 'assignee_id'::text; END IF;
  IF cardinality(changed) = 0 THEN
    RETURN NULL;
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM external_links l
    JOIN linear_team_links tl ON tl.container_id = l.container_id AND tl.sync = 'two_way'
    WHERE l.entity_type = 'task' AND l.entity_id = NEW.id AND l.provider = 'linear'
  ) THEN
    RETURN NULL;
  END IF;
  -- Coalescing: a row is due 150 ms after the task's last change (a burst of edits becomes
  -- one push), but never later than 800 ms after its first change.
  INSERT INTO linear_sync_outbox AS o (task_id, fields, changed_at, next_attempt_at)
  VALUES (NEW.id, changed, NEW.updated_at, now() + interval '150 milliseconds')
  ON CONFLICT (task_id) DO UPDATE SET
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
  RETURN NULL;
END
$$;
--> statement-breakpoint
CREATE TRIGGER tasks_linear_outbox AFTER UPDATE ON tasks
  FOR EACH ROW EXECUTE FUNCTION monoid_linear_outbox();
