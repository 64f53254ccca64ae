-- crm schema snapshot of migrations: 0001_initial 0002_plugins_and_deal_index 0003_idempotency_request_hash 0004_marketplace 0005_shipments 0006_jobs 0007_notifications 0008_member_phone_extension 0009_oauth_clients 0010_surveys 0011_analytics_settings 0012_customer_figures 0013_persisted_queries 0014_api_keys 0015_oauth_authorization_code 0016_campaigns 0017_click_tracking 0018_partner_access_installations_and_audit_actors 0019_partner_webhooks 0020_webhook_endpoint_include_pii 0021_custom_roles 0022_imports 0023_email_channel 0024_exports 0025_duplicates_bulk 0026_search 0027_conversations 0028_webchat 0029_selfservice_bot 0030_attachments 0031_payments 0032_inbound_email 0033_custom_fields 0034_search_custom_fields 0035_channel_routes 0036_user_locale 0037_cash_on_delivery 0038_catalog 0039_fiscal_receipts 0040_shipment_registered 0041_price_history 0042_outbox_undispatched_index
CREATE TABLE "account" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "name" VARCHAR(300) NOT NULL,
    "phones" JSON NOT NULL,
    "emails" JSON NOT NULL,
    "addresses" JSON NOT NULL,
    "tags" JSON NOT NULL,
    "source" VARCHAR(64),
    "custom_fields" JSON NOT NULL,
    "version" INT NOT NULL,
    "deleted_at" TIMESTAMP,
    "merged_into_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "owner_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE TABLE "account_identifier" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "value" VARCHAR(254) NOT NULL,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "acquisition_cost" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "source" VARCHAR(64) NOT NULL,
    "month" DATE NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_acquisition_organiz_ff02f1" UNIQUE ("organization_id", "source", "month", "currency")
);
CREATE TABLE "activity" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "subject" VARCHAR(300) NOT NULL,
    "body" TEXT NOT NULL,
    "data" JSON NOT NULL,
    "occurred_at" TIMESTAMP NOT NULL,
    "due_at" TIMESTAMP,
    "done_at" TIMESTAMP,
    "version" INT NOT NULL,
    "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE CASCADE,
    "actor_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "deal_id" CHAR(36) REFERENCES "deal" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) REFERENCES "order" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "ticket_id" CHAR(36) REFERENCES "ticket" ("id") ON DELETE SET NULL
);
CREATE TABLE "analytics_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "lost_after_days" INT NOT NULL,
    "ltv_formula" VARCHAR(32) NOT NULL,
    "gross_margin_percent" VARCHAR(40) NOT NULL,
    "lifetime_years" VARCHAR(40) NOT NULL,
    "discount_rate_percent" VARCHAR(40) NOT NULL,
    "npv_years" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_analytics_s_organiz_859923" UNIQUE ("organization_id")
);
CREATE TABLE "api_key" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "prefix" VARCHAR(24) NOT NULL,
    "key_hash" VARCHAR(64) NOT NULL UNIQUE,
    "role" VARCHAR(32) NOT NULL,
    "expires_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "last_used_at" TIMESTAMP,
    "created_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "attachment" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "object_type" VARCHAR(32) NOT NULL,
    "object_id" CHAR(36) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "content_type" VARCHAR(128) NOT NULL,
    "size_bytes" BIGINT NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "storage" VARCHAR(8) NOT NULL,
    "storage_key" VARCHAR(255) NOT NULL,
    "deleted_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "uploaded_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE TABLE "audit_entry" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "actor_kind" VARCHAR(16) NOT NULL,
    "actor_id" VARCHAR(64),
    "action" VARCHAR(64) NOT NULL,
    "entity_type" VARCHAR(32) NOT NULL,
    "entity_id" CHAR(36) NOT NULL,
    "changes" JSON NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
, "actor_via" VARCHAR(64));
CREATE TABLE "auth_token" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "expires_at" TIMESTAMP NOT NULL,
    "revoked_at" TIMESTAMP,
    "user_id" CHAR(36) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);
CREATE TABLE "bulk_job" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "object_type" VARCHAR(16) NOT NULL,
    "action" VARCHAR(16) NOT NULL,
    "params" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "total" INT NOT NULL,
    "succeeded" INT NOT NULL,
    "refused" INT NOT NULL,
    "locale" VARCHAR(8) NOT NULL,
    "finished_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "requested_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE TABLE "bulk_job_item" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "position" INT NOT NULL,
    "target_id" CHAR(36) NOT NULL,
    "expected_version" INT,
    "state" VARCHAR(16) NOT NULL,
    "code" VARCHAR(32),
    "message" TEXT NOT NULL,
    "field" VARCHAR(64),
    "job_id" CHAR(36) NOT NULL REFERENCES "bulk_job" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_bulk_job_it_job_id_e7a551" UNIQUE ("job_id", "position")
);
CREATE TABLE "campaign" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "enabled" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "segment_id" CHAR(36) REFERENCES "segment" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_campaign_organiz_e58c10" UNIQUE ("organization_id", "kind")
);
CREATE TABLE "campaign_message" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "occurrence" VARCHAR(64) NOT NULL,
    "variant" VARCHAR(16) NOT NULL,
    "notified" INT NOT NULL,
    "token_hash" VARCHAR(64)  UNIQUE,
    "sent_at" TIMESTAMP,
    "opted_out_at" TIMESTAMP,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "step_id" CHAR(36) NOT NULL REFERENCES "campaign_step" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_campaign_me_step_id_c700a7" UNIQUE ("step_id", "account_id", "occurrence")
);
CREATE TABLE "campaign_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "marketing_default_opt_in" INT NOT NULL,
    "frequency_cap_days" INT NOT NULL,
    "conversion_window_days" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_campaign_se_organiz_773aa5" UNIQUE ("organization_id")
);
CREATE TABLE "campaign_step" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "position" INT NOT NULL,
    "enabled" INT NOT NULL,
    "delay" INT NOT NULL,
    "offer_days" INT NOT NULL,
    "variants" JSON NOT NULL,
    "campaign_id" CHAR(36) NOT NULL REFERENCES "campaign" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_campaign_st_campaig_7ea1d7" UNIQUE ("campaign_id", "position")
);
CREATE TABLE "catalog_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "allow_backorders" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_catalog_set_organiz_cbcaa2" UNIQUE ("organization_id")
);
CREATE TABLE "channel_consent" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "opted_in" INT NOT NULL,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_channel_con_account_62685e" UNIQUE ("account_id", "channel")
);
CREATE TABLE "channel_route" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "trigger" VARCHAR(32) NOT NULL,
    "installation_id" CHAR(36) NOT NULL REFERENCES "plugin_installation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_channel_rou_organiz_589878" UNIQUE ("organization_id", "trigger", "channel")
);
CREATE TABLE "contact" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(300) NOT NULL,
    "position" VARCHAR(200),
    "phones" JSON NOT NULL,
    "emails" JSON NOT NULL,
    "version" INT NOT NULL,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "contact_identifier" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "value" VARCHAR(254) NOT NULL,
    "contact_id" CHAR(36) NOT NULL REFERENCES "contact" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "conversation" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "address" VARCHAR(128) NOT NULL,
    "display_name" VARCHAR(200) NOT NULL,
    "phone" VARCHAR(20),
    "status" VARCHAR(8) NOT NULL,
    "snoozed_until" TIMESTAMP,
    "unread_count" INT NOT NULL,
    "last_message_at" TIMESTAMP NOT NULL,
    "last_message_text" VARCHAR(200) NOT NULL,
    "first_response_due_at" TIMESTAMP,
    "first_response_at" TIMESTAMP,
    "version" INT NOT NULL,
    "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL,
    "assignee_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "deal_id" CHAR(36) REFERENCES "deal" ("id") ON DELETE SET NULL,
    "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "ticket_id" CHAR(36) REFERENCES "ticket" ("id") ON DELETE SET NULL, "account_confirmed" INT NOT NULL DEFAULT 0, "bot_state" VARCHAR(12) NOT NULL DEFAULT 'active', "handed_over_at" TIMESTAMP,
    CONSTRAINT "uid_conversatio_organiz_f9cddc" UNIQUE ("organization_id", "channel", "installation_id", "address")
);
CREATE TABLE "conversation_message" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "direction" VARCHAR(3) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "text" TEXT NOT NULL,
    "attachments" JSON NOT NULL,
    "state" VARCHAR(10) NOT NULL,
    "provider_message_id" VARCHAR(64),
    "ask_phone" INT NOT NULL,
    "error" TEXT NOT NULL,
    "attempts" INT NOT NULL,
    "sent_at" TIMESTAMP,
    "delivered_at" TIMESTAMP,
    "read_at" TIMESTAMP,
    "author_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "conversation_id" CHAR(36) NOT NULL REFERENCES "conversation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "bot" INT NOT NULL DEFAULT 0, "buttons" JSON NOT NULL DEFAULT '[]',
    CONSTRAINT "uid_conversatio_convers_2dbbc0" UNIQUE ("conversation_id", "direction", "provider_message_id")
);
CREATE TABLE "custom_field_definition" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "object_type" VARCHAR(16) NOT NULL,
    "key" VARCHAR(64) NOT NULL,
    "label_uk" VARCHAR(200) NOT NULL,
    "label_en" VARCHAR(200) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "choices" JSON NOT NULL,
    "required" INT NOT NULL,
    "position" INT NOT NULL,
    "archived" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_custom_fiel_organiz_218ec2" UNIQUE ("organization_id", "object_type", "key")
);
CREATE TABLE "custom_field_value" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "object_type" VARCHAR(16) NOT NULL,
    "object_id" CHAR(36) NOT NULL,
    "text_value" TEXT,
    "text_key" VARCHAR(255),
    "number_value" VARCHAR(40),
    "number_key" REAL,
    "currency" VARCHAR(3),
    "date_value" DATE,
    "bool_value" INT,
    "position" INT NOT NULL,
    "definition_id" CHAR(36) NOT NULL REFERENCES "custom_field_definition" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "custom_role" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(32) NOT NULL,
    "description" VARCHAR(500) NOT NULL,
    "permissions" JSON NOT NULL,
    "row_scope" VARCHAR(8) NOT NULL,
    "hidden_fields" JSON NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_custom_role_organiz_92bb62" UNIQUE ("organization_id", "name")
);
CREATE TABLE "customer_figures" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "first_order_at" TIMESTAMP,
    "last_order_at" TIMESTAMP,
    "order_count" INT NOT NULL,
    "revenue_cents" BIGINT NOT NULL,
    "by_currency" JSON NOT NULL,
    "rfm_recency" SMALLINT,
    "rfm_frequency" SMALLINT,
    "rfm_monetary" SMALLINT,
    "rfm_group" VARCHAR(24),
    "rfm_computed_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "account_id" CHAR(36) NOT NULL UNIQUE REFERENCES "account" ("id") ON DELETE CASCADE
);
CREATE TABLE "customer_marketing" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "birthday" DATE,
    "opted_in" INT,
    "consent_changed_at" TIMESTAMP,
    "last_message_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "account_id" CHAR(36) NOT NULL UNIQUE REFERENCES "account" ("id") ON DELETE CASCADE
);
CREATE TABLE "deal" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "expected_close_date" DATE,
    "source" VARCHAR(64),
    "lost_reason" TEXT,
    "closed_at" TIMESTAMP,
    "version" INT NOT NULL,
    "deleted_at" TIMESTAMP,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "contact_id" CHAR(36) REFERENCES "contact" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "owner_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "pipeline_id" CHAR(36) NOT NULL REFERENCES "pipeline" ("id") ON DELETE RESTRICT,
    "stage_id" CHAR(36) NOT NULL REFERENCES "stage" ("id") ON DELETE RESTRICT
, "tags" JSON NOT NULL DEFAULT '[]');
CREATE TABLE "deal_stage_change" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "actor_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "deal_id" CHAR(36) NOT NULL REFERENCES "deal" ("id") ON DELETE CASCADE,
    "from_stage_id" CHAR(36) REFERENCES "stage" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "to_stage_id" CHAR(36) NOT NULL REFERENCES "stage" ("id") ON DELETE CASCADE
);
CREATE TABLE "delivery_status_rule" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "carrier" VARCHAR(64) NOT NULL,
    "carrier_status" VARCHAR(16) NOT NULL,
    "order_status" VARCHAR(48),
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_delivery_st_organiz_560625" UNIQUE ("organization_id", "carrier", "carrier_status")
);
CREATE TABLE "email_inbound_mailbox" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "issued_at" TIMESTAMP NOT NULL,
    "installation_id" CHAR(36) NOT NULL REFERENCES "plugin_installation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "email_thread_message" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "direction" VARCHAR(3) NOT NULL,
    "message_id_header" VARCHAR(255) NOT NULL,
    "subject" VARCHAR(300) NOT NULL,
    "thread_ids" TEXT NOT NULL,
    "automated" INT NOT NULL,
    "attachments" JSON NOT NULL,
    "conversation_id" CHAR(36) NOT NULL REFERENCES "conversation" ("id") ON DELETE CASCADE,
    "conversation_message_id" CHAR(36) NOT NULL REFERENCES "conversation_message" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "email_unsubscribe_link" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "address" VARCHAR(254) NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "used_at" TIMESTAMP,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE CASCADE,
    "notification_id" CHAR(36) REFERENCES "notification" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "export" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "list_name" VARCHAR(16) NOT NULL,
    "format" VARCHAR(8) NOT NULL,
    "filters" JSON NOT NULL,
    "language" VARCHAR(8) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "rows_done" INT NOT NULL,
    "rows_total" INT,
    "row_count" INT,
    "error" TEXT,
    "file_name" VARCHAR(128),
    "content_type" VARCHAR(128),
    "size_bytes" BIGINT,
    "finished_at" TIMESTAMP,
    "expires_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "requested_by_id" CHAR(36) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
);
CREATE TABLE "export_chunk" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "seq" INT NOT NULL,
    "data" BLOB NOT NULL,
    "export_id" CHAR(36) NOT NULL REFERENCES "export" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_export_chun_export__2332d1" UNIQUE ("export_id", "seq")
);
CREATE TABLE "fiscal_receipt" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "key" VARCHAR(64) NOT NULL UNIQUE,
    "provider" VARCHAR(64) NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "payment_type" VARCHAR(16) NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "provider_receipt_id" VARCHAR(64) NOT NULL,
    "fiscal_code" VARCHAR(64) NOT NULL,
    "fiscal_date" TIMESTAMP,
    "url" VARCHAR(500) NOT NULL,
    "error" VARCHAR(500) NOT NULL,
    "tries" INT NOT NULL,
    "sent_at" TIMESTAMP,
    "claimed_until" TIMESTAMP,
    "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "payment_id" CHAR(36) NOT NULL REFERENCES "payment" ("id") ON DELETE CASCADE,
    "refund_id" CHAR(36) REFERENCES "payment_refund" ("id") ON DELETE CASCADE,
    "sale_id" CHAR(36) REFERENCES "fiscal_receipt" ("id") ON DELETE SET NULL
);
CREATE TABLE "fiscal_shift_close" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "day" DATE NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "shift_id" VARCHAR(64) NOT NULL,
    "message" VARCHAR(500) NOT NULL,
    "installation_id" CHAR(36) NOT NULL REFERENCES "plugin_installation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_fiscal_shif_install_21329e" UNIQUE ("installation_id", "day")
);
CREATE TABLE "idempotency_key" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "operation" VARCHAR(64) NOT NULL,
    "key" VARCHAR(128) NOT NULL,
    "entity_id" CHAR(36) NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "request_hash" VARCHAR(64),
    CONSTRAINT "uid_idempotency_organiz_c6feaa" UNIQUE ("organization_id", "operation", "key")
);
CREATE TABLE "import_batch" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "system" VARCHAR(32) NOT NULL,
    "file_name" VARCHAR(255) NOT NULL,
    "file_format" VARCHAR(8) NOT NULL,
    "content" BLOB NOT NULL,
    "mapping" JSON NOT NULL,
    "dry_run" INT NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "rows_total" INT NOT NULL,
    "rows_done" INT NOT NULL,
    "next_group" INT NOT NULL,
    "ok_count" INT NOT NULL,
    "created_count" INT NOT NULL,
    "matched_count" INT NOT NULL,
    "failed_count" INT NOT NULL,
    "problems" JSON NOT NULL,
    "error" TEXT,
    "finished_at" TIMESTAMP,
    "undone_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "requested_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL
);
CREATE TABLE "import_record" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "system" VARCHAR(32) NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "external_id" VARCHAR(128) NOT NULL,
    "object_id" CHAR(36) NOT NULL,
    "created" INT NOT NULL,
    "batch_id" CHAR(36) NOT NULL REFERENCES "import_batch" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_import_reco_organiz_eaca8a" UNIQUE ("organization_id", "system", "kind", "external_id")
);
CREATE TABLE "job_run" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "job_id" VARCHAR(255) NOT NULL UNIQUE,
    "name" VARCHAR(128) NOT NULL,
    "kwargs" JSON NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "attempts" INT NOT NULL,
    "run_after" TIMESTAMP NOT NULL,
    "locked_until" TIMESTAMP,
    "last_error" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "finished_at" TIMESTAMP
);
CREATE TABLE "marketplace_order_link" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "external_id" VARCHAR(128) NOT NULL,
    "external_status" VARCHAR(64) NOT NULL,
    "external_changed_at" TIMESTAMP,
    "installation_id" CHAR(36) NOT NULL REFERENCES "plugin_installation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "order_id" CHAR(36) NOT NULL UNIQUE REFERENCES "order" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_marketplace_install_fa97fc" UNIQUE ("installation_id", "external_id")
);
CREATE TABLE "marketplace_push" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "plugin" VARCHAR(64) NOT NULL,
    "event_id" CHAR(36) NOT NULL,
    "crm_status" VARCHAR(48) NOT NULL,
    "marketplace_status" VARCHAR(64),
    "outcome" VARCHAR(16) NOT NULL,
    "error" TEXT,
    "error_code" VARCHAR(64),
    "attempts" INT NOT NULL,
    "last_attempt_at" TIMESTAMP,
    "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_marketplace_order_i_36ab53" UNIQUE ("order_id", "event_id")
);
CREATE TABLE "marketplace_sync_state" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "cursor" TEXT,
    "locked_until" TIMESTAMP,
    "last_started_at" TIMESTAMP,
    "last_finished_at" TIMESTAMP,
    "last_result" JSON NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "installation_id" CHAR(36) NOT NULL UNIQUE REFERENCES "plugin_installation" ("id") ON DELETE CASCADE
);
CREATE TABLE "membership" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "role" VARCHAR(32) NOT NULL,
    "is_active" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "team_id" CHAR(36) REFERENCES "team" ("id") ON DELETE SET NULL,
    "user_id" CHAR(36) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE, "phone_extension" VARCHAR(32),
    CONSTRAINT "uid_membership_organiz_5819f1" UNIQUE ("organization_id", "user_id")
);
CREATE TABLE "notification" ("id" CHAR(36) NOT NULL  PRIMARY KEY, "created_at" TIMESTAMP NOT NULL, "updated_at" TIMESTAMP NOT NULL, "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "order_id" CHAR(36) REFERENCES "order" ("id") ON DELETE CASCADE, "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL, "source_event_id" CHAR(36) NOT NULL, "trigger" VARCHAR(32) NOT NULL, "position" INT NOT NULL, "channel" VARCHAR(16) NOT NULL, "urgent" INT NOT NULL, "recipient" VARCHAR(254) NOT NULL, "locale" VARCHAR(8) NOT NULL, "text" TEXT NOT NULL, "state" VARCHAR(12) NOT NULL, "reason" TEXT NOT NULL, "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL, "provider_message_id" VARCHAR(128), "attempts" INT NOT NULL, "scheduled_for" TIMESTAMP NOT NULL, "sent_at" TIMESTAMP, "delivered_at" TIMESTAMP, "survey_id" CHAR(36) REFERENCES "survey" ("id") ON DELETE CASCADE);
CREATE TABLE "notification_rule" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "trigger" VARCHAR(32) NOT NULL,
    "channels" JSON NOT NULL,
    "urgent" INT NOT NULL,
    "enabled" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_notificatio_organiz_d36db7" UNIQUE ("organization_id", "trigger")
);
CREATE TABLE "notification_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "quiet_start" VARCHAR(5) NOT NULL,
    "quiet_end" VARCHAR(5) NOT NULL,
    "send_delay_seconds" INT NOT NULL,
    "support_phone" VARCHAR(20) NOT NULL,
    "support_email" VARCHAR(200) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "track_links" INT NOT NULL,
    CONSTRAINT "uid_notificatio_organiz_307a46" UNIQUE ("organization_id")
);
CREATE TABLE "notification_template" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "trigger" VARCHAR(32) NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "locale" VARCHAR(8) NOT NULL,
    "body" TEXT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_notificatio_organiz_427444" UNIQUE ("organization_id", "trigger", "channel", "locale")
);
CREATE TABLE "oauth_access_token" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" JSON NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "client_id" CHAR(36) NOT NULL REFERENCES "oauth_client" ("id") ON DELETE CASCADE
, "family" CHAR(36), "user_id" CHAR(36) REFERENCES "user" ("id") ON DELETE CASCADE, "installation_id" CHAR(36) REFERENCES "oauth_installation" ("id") ON DELETE CASCADE);
CREATE TABLE "oauth_authorization_code" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "code_hash" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" JSON NOT NULL,
    "redirect_uri" VARCHAR(2000) NOT NULL,
    "code_challenge" VARCHAR(128) NOT NULL,
    "family" CHAR(36) NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "client_id" CHAR(36) NOT NULL REFERENCES "oauth_client" ("id") ON DELETE CASCADE,
    "user_id" CHAR(36) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
, "install_into_id" CHAR(36) REFERENCES "organization" ("id") ON DELETE CASCADE);
CREATE TABLE "oauth_client" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "client_id" VARCHAR(64) NOT NULL UNIQUE,
    "secret_hash" VARCHAR(64) NOT NULL,
    "scopes" JSON NOT NULL,
    "revoked_at" TIMESTAMP,
    "last_used_at" TIMESTAMP,
    "created_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
, "redirect_uris" JSON NOT NULL, "installable" INT NOT NULL);
CREATE TABLE "oauth_installation" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "scopes" JSON NOT NULL,
    "revoked_at" TIMESTAMP,
    "client_id" CHAR(36) NOT NULL REFERENCES "oauth_client" ("id") ON DELETE CASCADE,
    "installed_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_oauth_insta_client__7cfd72" UNIQUE ("client_id", "organization_id")
);
CREATE TABLE "oauth_refresh_token" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "scopes" JSON NOT NULL,
    "family" CHAR(36) NOT NULL,
    "expires_at" TIMESTAMP NOT NULL,
    "used_at" TIMESTAMP,
    "revoked_at" TIMESTAMP,
    "client_id" CHAR(36) NOT NULL REFERENCES "oauth_client" ("id") ON DELETE CASCADE,
    "user_id" CHAR(36) NOT NULL REFERENCES "user" ("id") ON DELETE CASCADE
, "granted_at" TIMESTAMP);
CREATE TABLE "object_tag" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "object_type" VARCHAR(16) NOT NULL,
    "object_id" CHAR(36) NOT NULL,
    "tag" VARCHAR(64) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "order" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "number" INT NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "subtotal" VARCHAR(40) NOT NULL,
    "discount_total" VARCHAR(40) NOT NULL,
    "total" VARCHAR(40) NOT NULL,
    "payment_status" VARCHAR(16) NOT NULL,
    "source" VARCHAR(32) NOT NULL,
    "external_id" VARCHAR(128),
    "comment" TEXT,
    "delivery_method" VARCHAR(32),
    "recipient_name" VARCHAR(300),
    "recipient_phone" VARCHAR(20),
    "delivery_city" VARCHAR(200),
    "delivery_branch" VARCHAR(200),
    "delivery_address" VARCHAR(500),
    "waybill_number" VARCHAR(64),
    "version" INT NOT NULL,
    "deleted_at" TIMESTAMP,
    "account_id" CHAR(36) NOT NULL REFERENCES "account" ("id") ON DELETE RESTRICT,
    "manager_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "status_id" CHAR(36) NOT NULL REFERENCES "order_status" ("id") ON DELETE RESTRICT, "tags" JSON NOT NULL DEFAULT '[]',
    CONSTRAINT "uid_order_organiz_afc4ce" UNIQUE ("organization_id", "number"),
    CONSTRAINT "uid_order_organiz_37938b" UNIQUE ("organization_id", "source", "external_id")
);
CREATE TABLE "order_item" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "position" INT NOT NULL,
    "sku" VARCHAR(64) NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "quantity" VARCHAR(40) NOT NULL,
    "unit_price" VARCHAR(40) NOT NULL,
    "discount" VARCHAR(40) NOT NULL,
    "total" VARCHAR(40) NOT NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
, "unit_cost" VARCHAR(40), "variant_id" CHAR(36) REFERENCES "product_variant" ("id") ON DELETE SET NULL);
CREATE TABLE "order_status" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "code" VARCHAR(48) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "group" VARCHAR(16) NOT NULL,
    "position" INT NOT NULL,
    "is_initial" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_order_statu_organiz_35a29a" UNIQUE ("organization_id", "code")
);
CREATE TABLE "order_status_change" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "reason" TEXT,
    "actor_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "from_status_id" CHAR(36) REFERENCES "order_status" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "to_status_id" CHAR(36) NOT NULL REFERENCES "order_status" ("id") ON DELETE CASCADE
);
CREATE TABLE "order_status_transition" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "from_status_id" CHAR(36) NOT NULL REFERENCES "order_status" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "to_status_id" CHAR(36) NOT NULL REFERENCES "order_status" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_order_statu_from_st_cd187f" UNIQUE ("from_status_id", "to_status_id")
);
CREATE TABLE "organization" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "slug" VARCHAR(64) NOT NULL UNIQUE,
    "currency" VARCHAR(3) NOT NULL,
    "locale" VARCHAR(8) NOT NULL,
    "timezone" VARCHAR(64) NOT NULL
, "rate_limit_per_minute" INT, "duplicate_policy" VARCHAR(8) NOT NULL DEFAULT 'warn');
CREATE TABLE "outbox_event" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "topic" VARCHAR(64) NOT NULL,
    "payload" JSON NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "dispatched_at" TIMESTAMP,
    "attempts" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "payment" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "provider" VARCHAR(64) NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "status" VARCHAR(24) NOT NULL,
    "provider_payment_id" VARCHAR(128),
    "provider_status" VARCHAR(32) NOT NULL,
    "fee" VARCHAR(40),
    "refunded_amount" VARCHAR(40) NOT NULL,
    "checkout_url" VARCHAR(2000),
    "error" VARCHAR(500) NOT NULL,
    "paid_at" TIMESTAMP,
    "provider_changed_at" TIMESTAMP,
    "version" INT NOT NULL,
    "created_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "payment_refund" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "provider_refund_id" VARCHAR(128) NOT NULL,
    "error" VARCHAR(500) NOT NULL,
    "actor_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "payment_id" CHAR(36) NOT NULL REFERENCES "payment" ("id") ON DELETE CASCADE
);
CREATE TABLE "payment_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "paid_order_status" VARCHAR(48),
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_payment_set_organiz_f2f94e" UNIQUE ("organization_id")
);
CREATE TABLE "persisted_query" (
    "sha256" VARCHAR(64) NOT NULL  PRIMARY KEY,
    "query" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL
);
CREATE TABLE "pipeline" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "position" INT NOT NULL,
    "is_default" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "plugin_installation" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "plugin" VARCHAR(64) NOT NULL,
    "label" VARCHAR(64) NOT NULL,
    "enabled" INT NOT NULL,
    "config" JSON NOT NULL,
    "secrets" TEXT NOT NULL,
    "secret_fields" JSON NOT NULL,
    "webhook_token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "webhook_token_issued_at" TIMESTAMP NOT NULL,
    "allowed_ips" JSON NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_plugin_inst_organiz_14e9f4" UNIQUE ("organization_id", "plugin", "label")
);
CREATE TABLE "plugin_webhook_delivery" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "dedupe_key" VARCHAR(200) NOT NULL,
    "path" VARCHAR(200) NOT NULL,
    "event_count" INT NOT NULL,
    "result" JSON NOT NULL,
    "attempts" INT NOT NULL,
    "last_received_at" TIMESTAMP NOT NULL,
    "installation_id" CHAR(36) NOT NULL REFERENCES "plugin_installation" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_plugin_webh_install_38e272" UNIQUE ("installation_id", "dedupe_key")
);
CREATE TABLE "price_change" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "old_price" VARCHAR(40),
    "new_price" VARCHAR(40),
    "old_cost" VARCHAR(40),
    "new_cost" VARCHAR(40),
    "price_changed" INT NOT NULL,
    "source" VARCHAR(16) NOT NULL,
    "changed_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "variant_id" CHAR(36) NOT NULL REFERENCES "product_variant" ("id") ON DELETE CASCADE
);
CREATE TABLE "product" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "title" VARCHAR(300) NOT NULL,
    "description" TEXT NOT NULL,
    "photos" JSON NOT NULL DEFAULT '[]',
    "is_active" INT NOT NULL,
    "version" INT NOT NULL,
    "category_id" CHAR(36) REFERENCES "product_category" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "product_category" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "position" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "parent_id" CHAR(36) REFERENCES "product_category" ("id") ON DELETE SET NULL
);
CREATE TABLE "product_variant" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "sku" VARCHAR(64) NOT NULL,
    "barcode" VARCHAR(64),
    "title" VARCHAR(300) NOT NULL,
    "price" VARCHAR(40) NOT NULL,
    "currency" VARCHAR(3) NOT NULL,
    "cost" VARCHAR(40),
    "weight_grams" INT,
    "length_mm" INT,
    "width_mm" INT,
    "height_mm" INT,
    "photos" JSON NOT NULL DEFAULT '[]',
    "is_active" INT NOT NULL,
    "low_stock_threshold" VARCHAR(40),
    "position" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "product_id" CHAR(36) NOT NULL REFERENCES "product" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_product_var_organiz_889e9d" UNIQUE ("organization_id", "sku")
);
CREATE TABLE "rfm_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "rfm_window_days" INT NOT NULL,
    "rfm_nightly_on" DATE,
    "rfm_computed_at" TIMESTAMP,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_rfm_setting_organiz_114cb6" UNIQUE ("organization_id")
);
CREATE TABLE "search_term" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "object_id" CHAR(36) NOT NULL,
    "field" VARCHAR(16) NOT NULL,
    "value" VARCHAR(300) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
, "definition_id" CHAR(36));
CREATE TABLE "segment" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "description" TEXT NOT NULL,
    "rules" JSON NOT NULL,
    "version" INT NOT NULL,
    "created_by_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_segment_organiz_d98756" UNIQUE ("organization_id", "name")
);
CREATE TABLE "selfservice_bot_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "enabled" INT NOT NULL,
    "order_phrases" JSON NOT NULL,
    "handover_phrases" JSON NOT NULL,
    "template_uk" TEXT NOT NULL,
    "template_en" TEXT NOT NULL,
    "hours_from" VARCHAR(5),
    "hours_to" VARCHAR(5),
    "max_orders" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_selfservice_organiz_30088f" UNIQUE ("organization_id")
);
CREATE TABLE "selfservice_bot_turn" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "outcome" VARCHAR(16) NOT NULL,
    "language" VARCHAR(2) NOT NULL,
    "conversation_id" CHAR(36) NOT NULL REFERENCES "conversation" ("id") ON DELETE CASCADE,
    "message_id" CHAR(36) NOT NULL REFERENCES "conversation_message" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "reply_id" CHAR(36) REFERENCES "conversation_message" ("id") ON DELETE SET NULL,
    CONSTRAINT "uid_selfservice_message_902e20" UNIQUE ("message_id")
);
CREATE TABLE "sequence" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(32) NOT NULL,
    "value" BIGINT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_sequence_organiz_911009" UNIQUE ("organization_id", "name")
);
CREATE TABLE "shipment" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "carrier" VARCHAR(64) NOT NULL,
    "waybill_number" VARCHAR(64) NOT NULL,
    "provider_ref" VARCHAR(64),
    "carrier_status" VARCHAR(16),
    "carrier_status_text" VARCHAR(500) NOT NULL,
    "status" VARCHAR(24) NOT NULL,
    "status_changed_at" TIMESTAMP,
    "estimated_delivery" DATE,
    "cost" VARCHAR(40),
    "currency" VARCHAR(3),
    "last_tracked_at" TIMESTAMP,
    "tracking_error" TEXT,
    "rule_applied_for" VARCHAR(16),
    "closed" INT NOT NULL,
    "cancelled_at" TIMESTAMP,
    "version" INT NOT NULL,
    "installation_id" CHAR(36) REFERENCES "plugin_installation" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "cash_on_delivery" VARCHAR(40), "cash_on_delivery_paid_at" TIMESTAMP, "registered" INT NOT NULL,
    CONSTRAINT "uid_shipment_organiz_7f37b7" UNIQUE ("organization_id", "carrier", "waybill_number")
);
CREATE TABLE "sla_policy" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "priority" VARCHAR(8) NOT NULL,
    "first_response_minutes" INT NOT NULL,
    "resolution_minutes" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_sla_policy_organiz_fe68f8" UNIQUE ("organization_id", "priority")
);
CREATE TABLE "stage" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "position" INT NOT NULL,
    "probability" INT NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "pipeline_id" CHAR(36) NOT NULL REFERENCES "pipeline" ("id") ON DELETE CASCADE
);
CREATE TABLE "stock_level" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "on_hand" VARCHAR(40) NOT NULL,
    "reserved" VARCHAR(40) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "variant_id" CHAR(36) NOT NULL REFERENCES "product_variant" ("id") ON DELETE CASCADE,
    "warehouse_id" CHAR(36) NOT NULL REFERENCES "warehouse" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_stock_level_variant_296427" UNIQUE ("variant_id", "warehouse_id")
);
CREATE TABLE "stock_movement" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(16) NOT NULL,
    "on_hand_delta" VARCHAR(40) NOT NULL,
    "reserved_delta" VARCHAR(40) NOT NULL,
    "on_hand_after" VARCHAR(40) NOT NULL,
    "reserved_after" VARCHAR(40) NOT NULL,
    "reason" VARCHAR(500) NOT NULL,
    "actor_kind" VARCHAR(16) NOT NULL,
    "actor_id" VARCHAR(64),
    "order_id" CHAR(36) REFERENCES "order" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "variant_id" CHAR(36) NOT NULL REFERENCES "product_variant" ("id") ON DELETE CASCADE,
    "warehouse_id" CHAR(36) NOT NULL REFERENCES "warehouse" ("id") ON DELETE CASCADE
);
CREATE TABLE "stock_reservation" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "quantity" VARCHAR(40) NOT NULL,
    "state" VARCHAR(16) NOT NULL,
    "order_id" CHAR(36) NOT NULL REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "variant_id" CHAR(36) NOT NULL REFERENCES "product_variant" ("id") ON DELETE CASCADE,
    "warehouse_id" CHAR(36) NOT NULL REFERENCES "warehouse" ("id") ON DELETE CASCADE
);
CREATE TABLE "survey" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "kind" VARCHAR(8) NOT NULL,
    "due_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64)  UNIQUE,
    "channel" VARCHAR(16) NOT NULL,
    "sent_at" TIMESTAMP,
    "expires_at" TIMESTAMP,
    "nps" INT,
    "csat" INT,
    "ces" INT,
    "comment" TEXT NOT NULL,
    "answered_at" TIMESTAMP,
    "answered_on" DATE,
    "locale" VARCHAR(8) NOT NULL,
    "detractor" INT NOT NULL,
    "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL,
    "follow_up_id" CHAR(36) REFERENCES "activity" ("id") ON DELETE SET NULL,
    "order_id" CHAR(36) REFERENCES "order" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "ticket_id" CHAR(36) REFERENCES "ticket" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_survey_order_i_35a5ac" UNIQUE ("order_id"),
    CONSTRAINT "uid_survey_ticket__54a9a8" UNIQUE ("ticket_id")
);
CREATE TABLE "survey_settings" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "nps_enabled" INT NOT NULL,
    "nps_status" VARCHAR(48) NOT NULL,
    "nps_delay_days" INT NOT NULL,
    "support_enabled" INT NOT NULL,
    "support_delay_minutes" INT NOT NULL,
    "link_days" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_survey_sett_organiz_3ffca2" UNIQUE ("organization_id")
);
CREATE TABLE "team" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_team_organiz_e46d03" UNIQUE ("organization_id", "name")
);
CREATE TABLE "ticket" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "number" INT NOT NULL,
    "subject" VARCHAR(300) NOT NULL,
    "description" TEXT NOT NULL,
    "channel" VARCHAR(16) NOT NULL,
    "priority" VARCHAR(8) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "first_response_due_at" TIMESTAMP,
    "resolution_due_at" TIMESTAMP,
    "first_response_at" TIMESTAMP,
    "resolved_at" TIMESTAMP,
    "version" INT NOT NULL,
    "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL,
    "assignee_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "contact_id" CHAR(36) REFERENCES "contact" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE, "tags" JSON NOT NULL DEFAULT '[]',
    CONSTRAINT "uid_ticket_organiz_61a4b9" UNIQUE ("organization_id", "number")
);
CREATE TABLE "ticket_comment" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "body" TEXT NOT NULL,
    "is_public" INT NOT NULL,
    "author_id" CHAR(36) REFERENCES "user" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "ticket_id" CHAR(36) NOT NULL REFERENCES "ticket" ("id") ON DELETE CASCADE
);
CREATE TABLE "tortoise_migrations" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "app" VARCHAR(255) NOT NULL,
    "name" VARCHAR(255) NOT NULL,
    "applied_at" TIMESTAMP NOT NULL,
    CONSTRAINT "uid_tortoise_mi_app_3803a5" UNIQUE ("app", "name")
);
CREATE TABLE "tracked_link" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "url" TEXT NOT NULL,
    "first_clicked_at" TIMESTAMP,
    "clicks" INT NOT NULL,
    "account_id" CHAR(36) REFERENCES "account" ("id") ON DELETE SET NULL,
    "campaign_message_id" CHAR(36) REFERENCES "campaign_message" ("id") ON DELETE CASCADE,
    "notification_id" CHAR(36) NOT NULL REFERENCES "notification" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
);
CREATE TABLE "undeliverable_email" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "address" VARCHAR(254) NOT NULL,
    "status" VARCHAR(16) NOT NULL,
    "diagnostic" VARCHAR(500) NOT NULL,
    "source" VARCHAR(8) NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_undeliverab_organiz_312b41" UNIQUE ("organization_id", "address")
);
CREATE TABLE "user" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "email" VARCHAR(254) NOT NULL UNIQUE,
    "password_hash" VARCHAR(255) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "is_active" INT NOT NULL
, "locale" VARCHAR(8));
CREATE TABLE "warehouse" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "code" VARCHAR(32) NOT NULL,
    "position" INT NOT NULL,
    "is_active" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_warehouse_organiz_d2ad55" UNIQUE ("organization_id", "code")
);
CREATE TABLE "webchat_visitor" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "token_hash" VARCHAR(64) NOT NULL UNIQUE,
    "name" VARCHAR(120) NOT NULL,
    "conversation_id" CHAR(36) REFERENCES "conversation" ("id") ON DELETE SET NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    "widget_id" CHAR(36) NOT NULL REFERENCES "webchat_widget" ("id") ON DELETE CASCADE
);
CREATE TABLE "webchat_widget" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "key" VARCHAR(32) NOT NULL UNIQUE,
    "enabled" INT NOT NULL,
    "title" VARCHAR(120) NOT NULL,
    "greeting" VARCHAR(500) NOT NULL,
    "allowed_origins" JSON NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_webchat_wid_organiz_509f2b" UNIQUE ("organization_id")
);
CREATE TABLE "webhook_attempt" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "attempted_at" TIMESTAMP NOT NULL,
    "status_code" INT,
    "duration_ms" INT NOT NULL,
    "response_excerpt" TEXT NOT NULL,
    "error" VARCHAR(300) NOT NULL,
    "trigger" VARCHAR(12) NOT NULL,
    "message_id" CHAR(36) NOT NULL REFERENCES "webhook_message" ("id") ON DELETE CASCADE
);
CREATE TABLE "webhook_endpoint" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "url" VARCHAR(2000) NOT NULL,
    "description" VARCHAR(300) NOT NULL,
    "event_types" JSON NOT NULL,
    "filters" JSON NOT NULL,
    "secrets" TEXT NOT NULL,
    "previous_expires_at" TIMESTAMP,
    "enabled" INT NOT NULL,
    "disabled_reason" VARCHAR(300) NOT NULL,
    "disabled_at" TIMESTAMP,
    "failure_streak" INT NOT NULL,
    "version" INT NOT NULL,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE
, "include_pii" INT NOT NULL);
CREATE TABLE "webhook_message" (
    "id" CHAR(36) NOT NULL  PRIMARY KEY,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "event_id" CHAR(36) NOT NULL,
    "event_type" VARCHAR(64) NOT NULL,
    "payload" JSON NOT NULL,
    "status" VARCHAR(12) NOT NULL,
    "attempt_count" INT NOT NULL,
    "round_attempts" INT NOT NULL,
    "next_attempt_at" TIMESTAMP,
    "last_attempt_at" TIMESTAMP,
    "last_status_code" INT,
    "endpoint_id" CHAR(36) NOT NULL REFERENCES "webhook_endpoint" ("id") ON DELETE CASCADE,
    "organization_id" CHAR(36) NOT NULL REFERENCES "organization" ("id") ON DELETE CASCADE,
    CONSTRAINT "uid_webhook_mes_endpoin_91faa7" UNIQUE ("endpoint_id", "event_id")
);
CREATE VIRTUAL TABLE search_term_fts USING fts5(value, content='search_term', content_rowid='id', tokenize='trigram');
CREATE INDEX "idx_account_created_028865" ON "account" ("created_at");
CREATE INDEX "idx_account_ide_account_0cc877" ON "account_identifier" ("account_id");
CREATE INDEX "idx_account_ide_created_199fcc" ON "account_identifier" ("created_at");
CREATE INDEX "idx_account_ide_organiz_3cfc8e" ON "account_identifier" ("organization_id", "kind", "value");
CREATE INDEX "idx_account_name_d49e11" ON "account" ("name");
CREATE INDEX "idx_account_organiz_8f9288" ON "account" ("organization_id", "updated_at");
CREATE INDEX "idx_acquisition_created_a11dc5" ON "acquisition_cost" ("created_at");
CREATE INDEX "idx_activity_created_5a6493" ON "activity" ("created_at");
CREATE INDEX "idx_activity_occurre_cb5579" ON "activity" ("occurred_at");
CREATE INDEX "idx_activity_order_i_fb6081" ON "activity" ("order_id");
CREATE INDEX "idx_activity_organiz_b9fb7d" ON "activity" ("organization_id", "account_id", "occurred_at");
CREATE INDEX "idx_activity_organiz_de4b7b" ON "activity" ("organization_id", "updated_at");
CREATE INDEX "idx_analytics_s_created_012c89" ON "analytics_settings" ("created_at");
CREATE INDEX "idx_api_key_created_434c90" ON "api_key" ("created_at");
CREATE INDEX "idx_attachment_created_846439" ON "attachment" ("created_at");
CREATE INDEX "idx_attachment_deleted_ff589b" ON "attachment" ("deleted_at");
CREATE INDEX "idx_attachment_organiz_b34dd1" ON "attachment" ("organization_id", "object_type", "object_id");
CREATE INDEX "idx_audit_entry_created_817289" ON "audit_entry" ("created_at");
CREATE INDEX "idx_audit_entry_entity__4421ba" ON "audit_entry" ("entity_id");
CREATE INDEX "idx_auth_token_created_ba9a28" ON "auth_token" ("created_at");
CREATE INDEX "idx_bulk_job_created_38e833" ON "bulk_job" ("created_at");
CREATE INDEX "idx_bulk_job_it_created_0ee3e4" ON "bulk_job_item" ("created_at");
CREATE INDEX "idx_bulk_job_it_job_id_012d5d" ON "bulk_job_item" ("job_id", "state");
CREATE INDEX "idx_bulk_job_organiz_9f28e5" ON "bulk_job" ("organization_id", "created_at");
CREATE INDEX "idx_campaign_created_1d9882" ON "campaign" ("created_at");
CREATE INDEX "idx_campaign_me_created_f5ab20" ON "campaign_message" ("created_at");
CREATE INDEX "idx_campaign_se_created_ed2151" ON "campaign_settings" ("created_at");
CREATE INDEX "idx_campaign_st_created_8cefc3" ON "campaign_step" ("created_at");
CREATE INDEX "idx_catalog_set_created_720f52" ON "catalog_settings" ("created_at");
CREATE INDEX "idx_channel_con_created_4b9277" ON "channel_consent" ("created_at");
CREATE INDEX "idx_channel_rou_created_218757" ON "channel_route" ("created_at");
CREATE INDEX "idx_contact_account_63da3d" ON "contact" ("account_id", "name");
CREATE INDEX "idx_contact_created_edee29" ON "contact" ("created_at");
CREATE INDEX "idx_contact_ide_contact_e04231" ON "contact_identifier" ("contact_id");
CREATE INDEX "idx_contact_ide_created_8b6f5f" ON "contact_identifier" ("created_at");
CREATE INDEX "idx_contact_ide_organiz_3e3d21" ON "contact_identifier" ("organization_id", "kind", "value");
CREATE INDEX "idx_contact_organiz_fc9087" ON "contact" ("organization_id", "updated_at");
CREATE INDEX "idx_conversatio_account_680f13" ON "conversation" ("account_id", "channel");
CREATE INDEX "idx_conversatio_convers_854a9d" ON "conversation_message" ("conversation_id", "created_at");
CREATE INDEX "idx_conversatio_created_7f8ebc" ON "conversation" ("created_at");
CREATE INDEX "idx_conversatio_created_bafbe7" ON "conversation_message" ("created_at");
CREATE INDEX "idx_conversatio_organiz_52311d" ON "conversation" ("organization_id", "last_message_at");
CREATE INDEX "idx_conversatio_status_a0192d" ON "conversation" ("status");
CREATE INDEX "idx_custom_fiel_created_90d2c3" ON "custom_field_definition" ("created_at");
CREATE INDEX "idx_custom_fiel_created_f2b41d" ON "custom_field_value" ("created_at");
CREATE INDEX "idx_custom_fiel_definit_eb24d0" ON "custom_field_value" ("definition_id", "text_key");
CREATE INDEX "idx_custom_fiel_definit_f5b02b" ON "custom_field_value" ("definition_id", "number_key");
CREATE INDEX "idx_custom_fiel_object__ffac48" ON "custom_field_value" ("object_id", "definition_id");
CREATE INDEX "idx_custom_role_created_d5e10f" ON "custom_role" ("created_at");
CREATE INDEX "idx_customer_fi_created_b083a7" ON "customer_figures" ("created_at");
CREATE INDEX "idx_customer_fi_organiz_1eab31" ON "customer_figures" ("organization_id", "revenue_cents");
CREATE INDEX "idx_customer_fi_organiz_2a56af" ON "customer_figures" ("organization_id", "rfm_group");
CREATE INDEX "idx_customer_fi_organiz_470141" ON "customer_figures" ("organization_id", "last_order_at");
CREATE INDEX "idx_customer_fi_organiz_a9149d" ON "customer_figures" ("organization_id", "order_count");
CREATE INDEX "idx_customer_ma_created_01c13d" ON "customer_marketing" ("created_at");
CREATE INDEX "idx_deal_account_c55d5b" ON "deal" ("account_id", "created_at");
CREATE INDEX "idx_deal_created_7a13d0" ON "deal" ("created_at");
CREATE INDEX "idx_deal_organiz_0381e3" ON "deal" ("organization_id", "updated_at");
CREATE INDEX "idx_deal_organiz_20e3c5" ON "deal" ("organization_id", "created_at");
CREATE INDEX "idx_deal_stage__created_c8d9af" ON "deal_stage_change" ("created_at");
CREATE INDEX "idx_deal_stage__deal_id_866238" ON "deal_stage_change" ("deal_id", "created_at");
CREATE INDEX "idx_delivery_st_created_b52408" ON "delivery_status_rule" ("created_at");
CREATE INDEX "idx_email_inbou_created_a787bb" ON "email_inbound_mailbox" ("created_at");
CREATE INDEX "idx_email_threa_convers_acffc6" ON "email_thread_message" ("conversation_id", "created_at");
CREATE INDEX "idx_email_threa_created_5136cf" ON "email_thread_message" ("created_at");
CREATE INDEX "idx_email_threa_organiz_262002" ON "email_thread_message" ("organization_id", "message_id_header");
CREATE INDEX "idx_email_unsub_created_f7144c" ON "email_unsubscribe_link" ("created_at");
CREATE INDEX "idx_export_created_5670b3" ON "export" ("created_at");
CREATE INDEX "idx_export_expires_c4e292" ON "export" ("expires_at");
CREATE INDEX "idx_fiscal_rece_created_100c9c" ON "fiscal_receipt" ("created_at");
CREATE INDEX "idx_fiscal_rece_payment_bab42c" ON "fiscal_receipt" ("payment_id", "created_at");
CREATE INDEX "idx_fiscal_rece_status_71284f" ON "fiscal_receipt" ("status", "created_at");
CREATE INDEX "idx_fiscal_shif_created_19fc53" ON "fiscal_shift_close" ("created_at");
CREATE INDEX "idx_import_batc_created_770ce1" ON "import_batch" ("created_at");
CREATE INDEX "idx_import_reco_created_fdb9c4" ON "import_record" ("created_at");
CREATE INDEX "idx_job_run_name_9b8ee9" ON "job_run" ("name");
CREATE INDEX "idx_job_run_run_aft_9c84f2" ON "job_run" ("run_after");
CREATE INDEX "idx_job_run_state_01a467" ON "job_run" ("state");
CREATE INDEX "idx_marketplace_created_239756" ON "marketplace_sync_state" ("created_at");
CREATE INDEX "idx_marketplace_created_7e0df6" ON "marketplace_order_link" ("created_at");
CREATE INDEX "idx_marketplace_created_eb2456" ON "marketplace_push" ("created_at");
CREATE INDEX "idx_marketplace_organiz_3afea5" ON "marketplace_push" ("organization_id", "created_at");
CREATE INDEX "idx_membership_created_3ded61" ON "membership" ("created_at");
CREATE INDEX "idx_notificatio_created_00143a" ON "notification_template" ("created_at");
CREATE INDEX "idx_notificatio_created_0db009" ON "notification" ("created_at");
CREATE INDEX "idx_notificatio_created_a27eff" ON "notification_rule" ("created_at");
CREATE INDEX "idx_notificatio_created_fa0f8f" ON "notification_settings" ("created_at");
CREATE INDEX "idx_notificatio_provide_7556dd" ON "notification" ("provider_message_id");
CREATE INDEX "idx_notificatio_state_8da97a" ON "notification" ("state");
CREATE INDEX "idx_oauth_acces_created_a2f89e" ON "oauth_access_token" ("created_at");
CREATE INDEX "idx_oauth_acces_expires_547528" ON "oauth_access_token" ("expires_at");
CREATE INDEX "idx_oauth_autho_created_70a58e" ON "oauth_authorization_code" ("created_at");
CREATE INDEX "idx_oauth_clien_created_1bca62" ON "oauth_client" ("created_at");
CREATE INDEX "idx_oauth_insta_created_4315ff" ON "oauth_installation" ("created_at");
CREATE INDEX "idx_oauth_refre_created_3d823b" ON "oauth_refresh_token" ("created_at");
CREATE INDEX "idx_oauth_refre_family_9c60f3" ON "oauth_refresh_token" ("family");
CREATE INDEX "idx_object_tag_created_8d068a" ON "object_tag" ("created_at");
CREATE INDEX "idx_object_tag_object__47b50f" ON "object_tag" ("object_id");
CREATE INDEX "idx_object_tag_organiz_a48cd2" ON "object_tag" ("organization_id", "object_type", "tag");
CREATE INDEX "idx_order_account_1e1d6e" ON "order" ("account_id", "created_at");
CREATE INDEX "idx_order_created_a653c8" ON "order" ("created_at");
CREATE INDEX "idx_order_item_created_14401b" ON "order_item" ("created_at");
CREATE INDEX "idx_order_item_order_i_913461" ON "order_item" ("order_id", "position");
CREATE INDEX "idx_order_organiz_d3257d" ON "order" ("organization_id", "updated_at");
CREATE INDEX "idx_order_organiz_ea5337" ON "order" ("organization_id", "created_at");
CREATE INDEX "idx_order_source_eb89a7" ON "order" ("source");
CREATE INDEX "idx_order_statu_created_009d4f" ON "order_status" ("created_at");
CREATE INDEX "idx_order_statu_created_6cec23" ON "order_status_transition" ("created_at");
CREATE INDEX "idx_order_statu_created_7d9479" ON "order_status_change" ("created_at");
CREATE INDEX "idx_order_statu_order_i_186e9a" ON "order_status_change" ("order_id", "created_at");
CREATE INDEX "idx_order_waybill_178d29" ON "order" ("waybill_number");
CREATE INDEX "idx_organizatio_created_b87ef1" ON "organization" ("created_at");
CREATE INDEX "idx_outbox_even_created_6111d4" ON "outbox_event" ("created_at");
CREATE INDEX "idx_outbox_even_topic_af0b55" ON "outbox_event" ("topic");
CREATE INDEX "idx_payment_created_d56029" ON "payment" ("created_at");
CREATE INDEX "idx_payment_install_9341a9" ON "payment" ("installation_id", "provider_payment_id");
CREATE INDEX "idx_payment_order_i_2ca386" ON "payment" ("order_id", "created_at");
CREATE INDEX "idx_payment_ref_created_792a92" ON "payment_refund" ("created_at");
CREATE INDEX "idx_payment_ref_payment_baea6a" ON "payment_refund" ("payment_id", "created_at");
CREATE INDEX "idx_payment_set_created_7925e5" ON "payment_settings" ("created_at");
CREATE INDEX "idx_persisted_q_created_966c92" ON "persisted_query" ("created_at");
CREATE INDEX "idx_pipeline_created_d4bbb6" ON "pipeline" ("created_at");
CREATE INDEX "idx_plugin_inst_created_88d706" ON "plugin_installation" ("created_at");
CREATE INDEX "idx_plugin_webh_created_a46744" ON "plugin_webhook_delivery" ("created_at");
CREATE INDEX "idx_plugin_webh_organiz_db81a7" ON "plugin_webhook_delivery" ("organization_id", "created_at");
CREATE INDEX "idx_price_chang_created_68d2c5" ON "price_change" ("created_at");
CREATE INDEX "idx_price_chang_organiz_9bd92b" ON "price_change" ("organization_id", "variant_id", "created_at");
CREATE INDEX "idx_product_cat_created_43719b" ON "product_category" ("created_at");
CREATE INDEX "idx_product_cat_organiz_f5a1ee" ON "product_category" ("organization_id", "parent_id");
CREATE INDEX "idx_product_created_9eb6f4" ON "product" ("created_at");
CREATE INDEX "idx_product_organiz_5c1d74" ON "product" ("organization_id", "updated_at");
CREATE INDEX "idx_product_organiz_f2a45f" ON "product" ("organization_id", "created_at");
CREATE INDEX "idx_product_var_barcode_46aa70" ON "product_variant" ("barcode");
CREATE INDEX "idx_product_var_created_612b70" ON "product_variant" ("created_at");
CREATE INDEX "idx_product_var_organiz_fdf2cd" ON "product_variant" ("organization_id", "created_at");
CREATE INDEX "idx_product_var_product_a784bc" ON "product_variant" ("product_id", "position");
CREATE INDEX "idx_rfm_setting_created_9c9370" ON "rfm_settings" ("created_at");
CREATE INDEX "idx_search_term_definit_6ce49c" ON "search_term" ("definition_id");
CREATE INDEX "idx_search_term_organiz_3681cd" ON "search_term" ("organization_id", "kind", "object_id");
CREATE INDEX "idx_search_term_organiz_a72d48" ON "search_term" ("organization_id", "value");
CREATE INDEX "idx_segment_created_9eb49b" ON "segment" ("created_at");
CREATE INDEX "idx_selfservice_convers_7f81dc" ON "selfservice_bot_turn" ("conversation_id", "created_at");
CREATE INDEX "idx_selfservice_created_1a6106" ON "selfservice_bot_settings" ("created_at");
CREATE INDEX "idx_selfservice_created_97f81e" ON "selfservice_bot_turn" ("created_at");
CREATE INDEX "idx_shipment_created_9c3e91" ON "shipment" ("created_at");
CREATE INDEX "idx_shipment_install_bf9a71" ON "shipment" ("installation_id", "closed");
CREATE INDEX "idx_shipment_order_i_1dcfad" ON "shipment" ("order_id", "created_at");
CREATE INDEX "idx_sla_policy_created_d0f547" ON "sla_policy" ("created_at");
CREATE INDEX "idx_stage_created_d41644" ON "stage" ("created_at");
CREATE INDEX "idx_stage_pipelin_31cb1a" ON "stage" ("pipeline_id", "position");
CREATE INDEX "idx_stock_level_created_d49c68" ON "stock_level" ("created_at");
CREATE INDEX "idx_stock_movem_created_cfacba" ON "stock_movement" ("created_at");
CREATE INDEX "idx_stock_movem_order_i_c10c82" ON "stock_movement" ("order_id", "created_at");
CREATE INDEX "idx_stock_movem_organiz_3d76c7" ON "stock_movement" ("organization_id", "created_at");
CREATE INDEX "idx_stock_movem_variant_24446e" ON "stock_movement" ("variant_id", "created_at");
CREATE INDEX "idx_stock_reser_created_681e7d" ON "stock_reservation" ("created_at");
CREATE INDEX "idx_stock_reser_order_i_8b65ad" ON "stock_reservation" ("order_id", "state");
CREATE INDEX "idx_stock_reser_variant_9a4837" ON "stock_reservation" ("variant_id", "state");
CREATE INDEX "idx_survey_answere_7e3cf4" ON "survey" ("answered_at");
CREATE INDEX "idx_survey_created_f9c277" ON "survey" ("created_at");
CREATE INDEX "idx_survey_organiz_b8fc56" ON "survey" ("organization_id", "answered_at");
CREATE INDEX "idx_survey_sett_created_e5b7e6" ON "survey_settings" ("created_at");
CREATE INDEX "idx_team_created_09b016" ON "team" ("created_at");
CREATE INDEX "idx_ticket_account_049b27" ON "ticket" ("account_id", "created_at");
CREATE INDEX "idx_ticket_comm_created_3db4a4" ON "ticket_comment" ("created_at");
CREATE INDEX "idx_ticket_comm_ticket__b416cd" ON "ticket_comment" ("ticket_id", "created_at");
CREATE INDEX "idx_ticket_created_ad5b9c" ON "ticket" ("created_at");
CREATE INDEX "idx_ticket_organiz_26542b" ON "ticket" ("organization_id", "updated_at");
CREATE INDEX "idx_ticket_status_f3afba" ON "ticket" ("status");
CREATE INDEX "idx_tracked_lin_campaig_9607e8" ON "tracked_link" ("campaign_message_id");
CREATE INDEX "idx_tracked_lin_created_896e92" ON "tracked_link" ("created_at");
CREATE INDEX "idx_tracked_lin_notific_320288" ON "tracked_link" ("notification_id");
CREATE INDEX "idx_undeliverab_created_37a920" ON "undeliverable_email" ("created_at");
CREATE INDEX "idx_user_created_b19d59" ON "user" ("created_at");
CREATE INDEX "idx_warehouse_created_ff91ff" ON "warehouse" ("created_at");
CREATE INDEX "idx_webchat_vis_created_6a1497" ON "webchat_visitor" ("created_at");
CREATE INDEX "idx_webchat_wid_created_e1acdc" ON "webchat_widget" ("created_at");
CREATE INDEX "idx_webhook_end_created_2dc576" ON "webhook_endpoint" ("created_at");
CREATE INDEX "idx_webhook_mes_created_8a62a9" ON "webhook_message" ("created_at");
CREATE INDEX "idx_webhook_mes_endpoin_6cfb00" ON "webhook_message" ("endpoint_id", "status", "created_at");
CREATE INDEX "idx_webhook_mes_status_78f018" ON "webhook_message" ("status", "next_attempt_at");
CREATE INDEX outbox_event_undispatched ON outbox_event (created_at, id) WHERE dispatched_at IS NULL;
CREATE UNIQUE INDEX "uid_membership_organiz_b24131" ON "membership" ("organization_id", "phone_extension");
CREATE UNIQUE INDEX "uid_notificatio_order_i_8969ab" ON "notification" ("order_id", "source_event_id", "position");
CREATE UNIQUE INDEX "uid_notificatio_survey__dbbfc4" ON "notification" ("survey_id", "position");
CREATE TRIGGER search_term_fts_delete AFTER DELETE ON search_term BEGIN INSERT INTO search_term_fts(search_term_fts, rowid, value) VALUES ('delete', old.id, old.value); END;
CREATE TRIGGER search_term_fts_insert AFTER INSERT ON search_term BEGIN INSERT INTO search_term_fts(rowid, value) VALUES (new.id, new.value); END;
CREATE TRIGGER search_term_fts_update AFTER UPDATE ON search_term BEGIN INSERT INTO search_term_fts(search_term_fts, rowid, value) VALUES ('delete', old.id, old.value); INSERT INTO search_term_fts(rowid, value) VALUES (new.id, new.value); END;
