CREATE TABLE "categories" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text NOT NULL,
	"color" text,
	"entity_type" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "containers" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text NOT NULL,
	"description" text
);
--> statement-breakpoint
CREATE TABLE "daily_notes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"date" date NOT NULL,
	"content" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "external_links" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"provider" text NOT NULL,
	"external_id" text NOT NULL,
	"url" text,
	"title" text,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"container_id" uuid,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	CONSTRAINT "external_links_item_container_key" UNIQUE NULLS NOT DISTINCT("provider","external_id","container_id")
);
--> statement-breakpoint
CREATE TABLE "idempotency_keys" (
	"api_key_id" uuid NOT NULL,
	"key" text NOT NULL,
	"request_hash" text NOT NULL,
	"state" text NOT NULL,
	"response_status" integer,
	"response_body" text,
	"response_type" text,
	"created_at" bigint NOT NULL,
	"expires_at" bigint NOT NULL,
	CONSTRAINT "idempotency_keys_api_key_id_key_pk" PRIMARY KEY("api_key_id","key")
);
--> statement-breakpoint
CREATE TABLE "labels" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"name" text NOT NULL,
	"color" text,
	"entity_type" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "projects" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"status" text DEFAULT 'active' NOT NULL,
	"container_id" uuid NOT NULL,
	"category_id" uuid,
	"label_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL
);
--> statement-breakpoint
CREATE TABLE "reviews" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"date" date NOT NULL,
	"type" text NOT NULL,
	"wake_time" text,
	"sleep_time" text,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL
);
--> statement-breakpoint
CREATE TABLE "routine_blocks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"template_id" uuid,
	"day_of_week" smallint,
	"date" date,
	"start_time" text,
	"end_time" text,
	"name" text,
	"category_id" uuid,
	"content" text,
	"block_type" text,
	"color" text
);
--> statement-breakpoint
CREATE TABLE "tasks" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"organisation_id" uuid,
	"workspace_id" uuid NOT NULL,
	"created_at" bigint NOT NULL,
	"updated_at" bigint NOT NULL,
	"title" text NOT NULL,
	"notes" text,
	"done_at" bigint,
	"project_id" uuid,
	"category_id" uuid,
	"container_id" uuid,
	"bucket" text DEFAULT 'new' NOT NULL,
	"inbox_triage" text,
	"routine_block_id" uuid,
	"assignee_id" uuid,
	"do_date" date,
	"do_end_date" date,
	"due_date" date,
	"scheduled_at" bigint,
	"label_ids" uuid[] DEFAULT '{}'::uuid[] NOT NULL
);
--> statement-breakpoint
ALTER TABLE "categories" ADD CONSTRAINT "categories_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "categories" ADD CONSTRAINT "categories_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "containers" ADD CONSTRAINT "containers_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "containers" ADD CONSTRAINT "containers_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "daily_notes" ADD CONSTRAINT "daily_notes_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "labels" ADD CONSTRAINT "labels_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_container_id_containers_id_fk" FOREIGN KEY ("container_id") REFERENCES "public"."containers"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "projects" ADD CONSTRAINT "projects_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "reviews" ADD CONSTRAINT "reviews_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routine_blocks" ADD CONSTRAINT "routine_blocks_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routine_blocks" ADD CONSTRAINT "routine_blocks_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routine_blocks" ADD CONSTRAINT "routine_blocks_template_id_routine_blocks_id_fk" FOREIGN KEY ("template_id") REFERENCES "public"."routine_blocks"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "routine_blocks" ADD CONSTRAINT "routine_blocks_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_project_id_projects_id_fk" FOREIGN KEY ("project_id") REFERENCES "public"."projects"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_category_id_categories_id_fk" FOREIGN KEY ("category_id") REFERENCES "public"."categories"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_container_id_containers_id_fk" FOREIGN KEY ("container_id") REFERENCES "public"."containers"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_routine_block_id_routine_blocks_id_fk" FOREIGN KEY ("routine_block_id") REFERENCES "public"."routine_blocks"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "tasks" ADD CONSTRAINT "tasks_assignee_id_users_id_fk" FOREIGN KEY ("assignee_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "categories_ws_order_idx" ON "categories" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "categories_ws_type_idx" ON "categories" USING btree ("workspace_id","entity_type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "containers_ws_order_idx" ON "containers" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE UNIQUE INDEX "daily_notes_user_date_key" ON "daily_notes" USING btree ("user_id","date");--> statement-breakpoint
CREATE INDEX "daily_notes_user_order_idx" ON "daily_notes" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "external_links_entity_idx" ON "external_links" USING btree ("entity_type","entity_id","provider");--> statement-breakpoint
CREATE INDEX "labels_ws_order_idx" ON "labels" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "labels_ws_type_idx" ON "labels" USING btree ("workspace_id","entity_type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_ws_order_idx" ON "projects" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_ws_status_idx" ON "projects" USING btree ("workspace_id","status","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_container_idx" ON "projects" USING btree ("container_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_category_idx" ON "projects" USING btree ("category_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_ws_created_idx" ON "projects" USING btree ("workspace_id","created_at");--> statement-breakpoint
CREATE INDEX "projects_labels_idx" ON "projects" USING gin ("label_ids");--> statement-breakpoint
CREATE UNIQUE INDEX "reviews_user_date_type_key" ON "reviews" USING btree ("user_id","date","type");--> statement-breakpoint
CREATE INDEX "reviews_user_order_idx" ON "reviews" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "reviews_user_type_idx" ON "reviews" USING btree ("user_id","type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "routine_blocks_ws_order_idx" ON "routine_blocks" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "routine_blocks_ws_date_idx" ON "routine_blocks" USING btree ("workspace_id","date");--> statement-breakpoint
CREATE INDEX "routine_blocks_template_idx" ON "routine_blocks" USING btree ("template_id");--> statement-breakpoint
CREATE INDEX "routine_blocks_category_idx" ON "routine_blocks" USING btree ("category_id");--> statement-breakpoint
CREATE INDEX "tasks_ws_order_idx" ON "tasks" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_bucket_idx" ON "tasks" USING btree ("workspace_id","bucket","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_triage_idx" ON "tasks" USING btree ("workspace_id","inbox_triage","updated_at" DESC NULLS FIRST,"id") WHERE "tasks"."inbox_triage" is not null;--> statement-breakpoint
CREATE INDEX "tasks_project_idx" ON "tasks" USING btree ("project_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_container_idx" ON "tasks" USING btree ("container_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_category_idx" ON "tasks" USING btree ("category_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_assignee_idx" ON "tasks" USING btree ("assignee_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_routine_block_idx" ON "tasks" USING btree ("routine_block_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_do_date_idx" ON "tasks" USING btree ("workspace_id","do_date");--> statement-breakpoint
CREATE INDEX "tasks_ws_do_end_date_idx" ON "tasks" USING btree ("workspace_id","do_end_date");--> statement-breakpoint
CREATE INDEX "tasks_ws_due_date_idx" ON "tasks" USING btree ("workspace_id","due_date");--> statement-breakpoint
CREATE INDEX "tasks_ws_scheduled_at_idx" ON "tasks" USING btree ("workspace_id","scheduled_at");