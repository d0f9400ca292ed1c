CREATE TABLE "inbox_events" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"delivery_id" text NOT NULL,
	"connection_id" uuid NOT NULL,
	"event_type" text NOT NULL,
	"entity_type" text,
	"entity_id" text,
	"team_id" text,
	"occurred_at" timestamp with time zone,
	"payload" jsonb NOT NULL,
	"received_at" timestamp with time zone DEFAULT now() NOT NULL,
	"state" text DEFAULT 'pending' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"next_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"locked_until" timestamp with time zone,
	"locked_by" text,
	"last_error" text,
	"processed_at" timestamp with time zone
);
--> statement-breakpoint
CREATE TABLE "integration_connections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"organisation_id" uuid,
	"user_id" uuid,
	"connected_by_user_id" uuid,
	"auth_type" text NOT NULL,
	"access_token_enc" text NOT NULL,
	"refresh_token_enc" text,
	"token_expires_at" timestamp with time zone,
	"scopes" text,
	"external_workspace_id" text,
	"external_workspace_name" text,
	"status" text DEFAULT 'active' NOT NULL,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"last_reconciled_at" timestamp with time zone,
	"notion_verification_token_enc" text,
	"notion_verified_at" timestamp with time zone,
	"notion_pending_token_enc" text,
	"notion_pending_received_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "integration_connections_one_workspace" CHECK (("integration_connections"."organisation_id" is null) <> ("integration_connections"."user_id" is null))
);
--> statement-breakpoint
CREATE TABLE "integration_oauth_states" (
	"state_hash" text PRIMARY KEY NOT NULL,
	"provider" text NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"expires_at" timestamp with time zone NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linear_team_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"container_id" uuid NOT NULL,
	"connection_id" uuid NOT NULL,
	"team_id" text NOT NULL,
	"team_name" text,
	"created_by_user_id" uuid,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linear_webhook_needs" (
	"registration_id" uuid NOT NULL,
	"reason" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "linear_webhook_registrations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"connection_id" uuid NOT NULL,
	"team_id" text NOT NULL,
	"provider_webhook_id" text,
	"secret_enc" text NOT NULL,
	"status" text DEFAULT 'missing' NOT NULL,
	"last_error" text,
	"last_error_at" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "inbox_events" ADD CONSTRAINT "inbox_events_connection_id_integration_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."integration_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_connections" ADD CONSTRAINT "integration_connections_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_connections" ADD CONSTRAINT "integration_connections_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_connections" ADD CONSTRAINT "integration_connections_connected_by_user_id_users_id_fk" FOREIGN KEY ("connected_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_oauth_states" ADD CONSTRAINT "integration_oauth_states_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "integration_oauth_states" ADD CONSTRAINT "integration_oauth_states_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_team_links" ADD CONSTRAINT "linear_team_links_connection_id_integration_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."integration_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_team_links" ADD CONSTRAINT "linear_team_links_created_by_user_id_users_id_fk" FOREIGN KEY ("created_by_user_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_webhook_needs" ADD CONSTRAINT "linear_webhook_needs_registration_id_linear_webhook_registrations_id_fk" FOREIGN KEY ("registration_id") REFERENCES "public"."linear_webhook_registrations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "linear_webhook_registrations" ADD CONSTRAINT "linear_webhook_registrations_connection_id_integration_connections_id_fk" FOREIGN KEY ("connection_id") REFERENCES "public"."integration_connections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "inbox_events_delivery_key" ON "inbox_events" USING btree ("provider","connection_id","delivery_id");--> statement-breakpoint
CREATE INDEX "inbox_events_due_idx" ON "inbox_events" USING btree ("next_attempt_at") WHERE "inbox_events"."state" = 'pending';--> statement-breakpoint
CREATE INDEX "inbox_events_lease_idx" ON "inbox_events" USING btree ("locked_until") WHERE "inbox_events"."state" = 'processing';--> statement-breakpoint
CREATE INDEX "inbox_events_connection_idx" ON "inbox_events" USING btree ("connection_id","received_at");--> statement-breakpoint
CREATE UNIQUE INDEX "integration_connections_org_provider_key" ON "integration_connections" USING btree ("provider","organisation_id") WHERE "integration_connections"."organisation_id" is not null;--> statement-breakpoint
CREATE UNIQUE INDEX "integration_connections_user_provider_key" ON "integration_connections" USING btree ("provider","user_id") WHERE "integration_connections"."user_id" is not null;--> statement-breakpoint
CREATE INDEX "integration_connections_external_ws_idx" ON "integration_connections" USING btree ("provider","external_workspace_id");--> statement-breakpoint
CREATE INDEX "integration_oauth_states_expires_idx" ON "integration_oauth_states" USING btree ("expires_at");--> statement-breakpoint
CREATE UNIQUE INDEX "linear_team_links_container_key" ON "linear_team_links" USING btree ("container_id");--> statement-breakpoint
CREATE INDEX "linear_team_links_conn_team_idx" ON "linear_team_links" USING btree ("connection_id","team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "linear_webhook_needs_key" ON "linear_webhook_needs" USING btree ("registration_id","reason");--> statement-breakpoint
CREATE UNIQUE INDEX "linear_webhook_registrations_conn_team_key" ON "linear_webhook_registrations" USING btree ("connection_id","team_id");--> statement-breakpoint
CREATE UNIQUE INDEX "linear_webhook_registrations_provider_id_key" ON "linear_webhook_registrations" USING btree ("provider_webhook_id") WHERE "linear_webhook_registrations"."provider_webhook_id" is not null;