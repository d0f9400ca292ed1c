ALTER TABLE "integration_connections" ADD COLUMN "notion_pending_from" text;--> statement-breakpoint
ALTER TABLE "integration_connections" ADD COLUMN "notion_verified_received_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "integration_connections" ADD COLUMN "notion_verified_from" text;