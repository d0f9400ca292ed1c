DROP INDEX "organisations_clerk_id_key";--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "source" text DEFAULT 'clerk' NOT NULL;--> statement-breakpoint
ALTER TABLE "organisations" ADD COLUMN "created_by" uuid;--> statement-breakpoint
ALTER TABLE "organisations" ADD CONSTRAINT "organisations_created_by_users_id_fk" FOREIGN KEY ("created_by") REFERENCES "public"."users"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "organisations_api_id_key" ON "organisations" USING btree ("created_by","clerk_id") WHERE "organisations"."source" = 'api';--> statement-breakpoint
CREATE UNIQUE INDEX "organisations_clerk_id_key" ON "organisations" USING btree ("clerk_id") WHERE "organisations"."source" = 'clerk';--> statement-breakpoint
-- Organisations made through the public API before this migration: no Clerk event ever touched
-- the row or any of its memberships (a Clerk webhook or a verified session always stamps one).
-- They move to the API namespace, so a later Clerk organisation with the same id gets its own row.
UPDATE "organisations" AS o SET "source" = 'api', "created_by" = (
  SELECT m."user_id" FROM "memberships" m
  WHERE m."organisation_id" = o."id" AND m."role" = 'org:admin'
  ORDER BY m."created_at" LIMIT 1
)
WHERE o."clerk_event_at" IS NULL AND EXISTS (
  SELECT 1 FROM "memberships" m WHERE m."organisation_id" = o."id"
) AND NOT EXISTS (
  SELECT 1 FROM "memberships" m
  WHERE m."organisation_id" = o."id" AND (m."clerk_event_at" IS NOT NULL OR m."clerk_id" IS NOT NULL)
);
