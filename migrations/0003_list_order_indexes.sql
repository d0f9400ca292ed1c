DROP INDEX "categories_ws_order_idx";--> statement-breakpoint
DROP INDEX "categories_ws_type_idx";--> statement-breakpoint
DROP INDEX "containers_ws_order_idx";--> statement-breakpoint
DROP INDEX "daily_notes_user_order_idx";--> statement-breakpoint
DROP INDEX "labels_ws_order_idx";--> statement-breakpoint
DROP INDEX "labels_ws_type_idx";--> statement-breakpoint
DROP INDEX "projects_ws_order_idx";--> statement-breakpoint
DROP INDEX "projects_ws_status_idx";--> statement-breakpoint
DROP INDEX "projects_container_idx";--> statement-breakpoint
DROP INDEX "projects_category_idx";--> statement-breakpoint
DROP INDEX "reviews_user_order_idx";--> statement-breakpoint
DROP INDEX "reviews_user_type_idx";--> statement-breakpoint
DROP INDEX "routine_blocks_ws_order_idx";--> statement-breakpoint
DROP INDEX "tasks_ws_order_idx";--> statement-breakpoint
DROP INDEX "tasks_ws_bucket_idx";--> statement-breakpoint
DROP INDEX "tasks_ws_triage_idx";--> statement-breakpoint
DROP INDEX "tasks_project_idx";--> statement-breakpoint
DROP INDEX "tasks_container_idx";--> statement-breakpoint
DROP INDEX "tasks_category_idx";--> statement-breakpoint
DROP INDEX "tasks_assignee_idx";--> statement-breakpoint
DROP INDEX "tasks_routine_block_idx";--> statement-breakpoint
CREATE INDEX "categories_ws_order_idx" ON "categories" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "categories_ws_type_idx" ON "categories" USING btree ("workspace_id","entity_type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "containers_ws_order_idx" ON "containers" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "daily_notes_user_order_idx" ON "daily_notes" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "labels_ws_order_idx" ON "labels" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "labels_ws_type_idx" ON "labels" USING btree ("workspace_id","entity_type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_ws_order_idx" ON "projects" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_ws_status_idx" ON "projects" USING btree ("workspace_id","status","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_container_idx" ON "projects" USING btree ("container_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "projects_category_idx" ON "projects" USING btree ("category_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "reviews_user_order_idx" ON "reviews" USING btree ("user_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "reviews_user_type_idx" ON "reviews" USING btree ("user_id","type","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "routine_blocks_ws_order_idx" ON "routine_blocks" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_order_idx" ON "tasks" USING btree ("workspace_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_bucket_idx" ON "tasks" USING btree ("workspace_id","bucket","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_ws_triage_idx" ON "tasks" USING btree ("workspace_id","inbox_triage","updated_at" DESC NULLS FIRST,"id") WHERE "tasks"."inbox_triage" is not null;--> statement-breakpoint
CREATE INDEX "tasks_project_idx" ON "tasks" USING btree ("project_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_container_idx" ON "tasks" USING btree ("container_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_category_idx" ON "tasks" USING btree ("category_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_assignee_idx" ON "tasks" USING btree ("assignee_id","updated_at" DESC NULLS FIRST,"id");--> statement-breakpoint
CREATE INDEX "tasks_routine_block_idx" ON "tasks" USING btree ("routine_block_id","updated_at" DESC NULLS FIRST,"id");