CREATE TABLE "clerk_webhook_deliveries" (
	"svix_id" text PRIMARY KEY NOT NULL,
	"event_type" text NOT NULL,
	"event_at" bigint NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "clerk_webhook_deliveries_received_at_idx" ON "clerk_webhook_deliveries" USING btree ("received_at");