ALTER TABLE "inbox_events" ADD COLUMN "dedupe_key" text;--> statement-breakpoint
-- Rows stored before this migration keep their delivery id as their key.
UPDATE "inbox_events" SET "dedupe_key" = "delivery_id";--> statement-breakpoint
ALTER TABLE "inbox_events" ALTER COLUMN "dedupe_key" SET NOT NULL;--> statement-breakpoint
DROP INDEX "inbox_events_delivery_key";--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_events_dedupe_key" ON "inbox_events" USING btree ("provider","connection_id","dedupe_key");
