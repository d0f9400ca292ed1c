CREATE TABLE "job_leases" (
	"name" text PRIMARY KEY NOT NULL,
	"locked_by" text,
	"locked_until" timestamp (3) with time zone,
	"next_run_at" timestamp (3) with time zone NOT NULL
);
--> statement-breakpoint
ALTER TABLE "linear_team_links" ADD COLUMN "backfilled_at" timestamp with time zone;--> statement-breakpoint
-- Links whose backfill already finished are backfilled: retention may now delete that row.
UPDATE "linear_team_links" l SET "backfilled_at" = b."finished_at"
FROM "linear_backfills" b WHERE b."link_id" = l."id" AND b."status" = 'done';
