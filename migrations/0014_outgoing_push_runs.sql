ALTER TABLE "automation_runs" ALTER COLUMN "inbox_event_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "automation_runs" ADD COLUMN "direction" text DEFAULT 'incoming' NOT NULL;