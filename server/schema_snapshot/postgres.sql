-- crm schema snapshot of migrations: 0001_initial 0002_plugins_and_deal_index 0003_idempotency_request_hash 0004_marketplace 0005_shipments 0006_jobs 0007_notifications 0008_member_phone_extension 0009_oauth_clients 0010_surveys 0011_analytics_settings 0012_customer_figures 0013_persisted_queries 0014_api_keys 0015_oauth_authorization_code 0016_campaigns 0017_click_tracking 0018_partner_access_installations_and_audit_actors 0019_partner_webhooks 0020_webhook_endpoint_include_pii 0021_custom_roles 0022_imports 0023_email_channel 0024_exports 0025_duplicates_bulk 0026_search 0027_conversations 0028_webchat 0029_selfservice_bot 0030_attachments 0031_payments 0032_inbound_email 0033_custom_fields 0034_search_custom_fields 0035_channel_routes 0036_user_locale 0037_cash_on_delivery 0038_catalog 0039_fiscal_receipts 0040_shipment_registered 0041_price_history 0042_outbox_undispatched_index
--
-- PostgreSQL database dump
--



SET LOCAL statement_timeout = 0;
SET LOCAL lock_timeout = 0;
SELECT pg_catalog.set_config('search_path', '', true);
SET LOCAL check_function_bodies = false;
SET LOCAL client_min_messages = warning;

--
-- Name: pg_trgm; Type: EXTENSION; Schema: -; Owner: -
--

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;


--
-- Name: EXTENSION pg_trgm; Type: COMMENT; Schema: -; Owner: -
--



SET LOCAL default_table_access_method = heap;

--
-- Name: account; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(16) NOT NULL,
    name character varying(300) NOT NULL,
    phones jsonb NOT NULL,
    emails jsonb NOT NULL,
    addresses jsonb NOT NULL,
    tags jsonb NOT NULL,
    source character varying(64),
    custom_fields jsonb NOT NULL,
    version integer NOT NULL,
    deleted_at timestamp with time zone,
    merged_into_id uuid,
    organization_id uuid NOT NULL,
    owner_id uuid
);


--
-- Name: TABLE account; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.account IS 'A customer: a company or a person. Phones are E.164, the first one is the primary.';


--
-- Name: account_identifier; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.account_identifier (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(8) NOT NULL,
    value character varying(254) NOT NULL,
    account_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE account_identifier; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.account_identifier IS 'Lookup index of the phones, e-mails and tags of accounts (kept by the accounts service),';


--
-- Name: acquisition_cost; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.acquisition_cost (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    source character varying(64) NOT NULL,
    month date NOT NULL,
    currency character varying(3) NOT NULL,
    amount numeric(14,2) NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE acquisition_cost; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.acquisition_cost IS 'Money spent to win customers from one acquisition source (Account.source) in one month.';


--
-- Name: activity; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.activity (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(16) NOT NULL,
    subject character varying(300) NOT NULL,
    body text NOT NULL,
    data jsonb NOT NULL,
    occurred_at timestamp with time zone NOT NULL,
    due_at timestamp with time zone,
    done_at timestamp with time zone,
    version integer NOT NULL,
    account_id uuid,
    actor_id uuid,
    deal_id uuid,
    order_id uuid,
    organization_id uuid NOT NULL,
    ticket_id uuid
);


--
-- Name: TABLE activity; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.activity IS 'A timeline item of an account, optionally about a deal, an order or a ticket.';


--
-- Name: analytics_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.analytics_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    lost_after_days integer NOT NULL,
    ltv_formula character varying(32) NOT NULL,
    gross_margin_percent numeric(5,2) NOT NULL,
    lifetime_years numeric(6,2) NOT NULL,
    discount_rate_percent numeric(5,2) NOT NULL,
    npv_years integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE analytics_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.analytics_settings IS 'One row per organization (no row: the defaults below).';


--
-- Name: api_key; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.api_key (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    prefix character varying(24) NOT NULL,
    key_hash character varying(64) NOT NULL,
    role character varying(32) NOT NULL,
    expires_at timestamp with time zone,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_by_id uuid,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE api_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.api_key IS 'A long-lived key a simple integration sends as ``Authorization: Bearer crm_live_...``: it acts';


--
-- Name: attachment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.attachment (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    object_type character varying(32) NOT NULL,
    object_id uuid NOT NULL,
    name character varying(255) NOT NULL,
    content_type character varying(128) NOT NULL,
    size_bytes bigint NOT NULL,
    sha256 character varying(64) NOT NULL,
    storage character varying(8) NOT NULL,
    storage_key character varying(255) NOT NULL,
    deleted_at timestamp with time zone,
    organization_id uuid NOT NULL,
    uploaded_by_id uuid
);


--
-- Name: TABLE attachment; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.attachment IS 'A file on one object: ``object_type`` (Account, Order, Deal, Ticket, ConversationMessage)';


--
-- Name: audit_entry; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.audit_entry (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    actor_kind character varying(16) NOT NULL,
    actor_id character varying(64),
    action character varying(64) NOT NULL,
    entity_type character varying(32) NOT NULL,
    entity_id uuid NOT NULL,
    changes jsonb NOT NULL,
    organization_id uuid NOT NULL,
    actor_via character varying(64)
);


--
-- Name: TABLE audit_entry; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.audit_entry IS 'Who changed what, when, with the before/after of each changed field.';


--
-- Name: auth_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.auth_token (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    revoked_at timestamp with time zone,
    user_id uuid NOT NULL
);


--
-- Name: TABLE auth_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.auth_token IS 'A bearer token. Only its SHA-256 is stored, the token itself is shown once at login.';


--
-- Name: bulk_job; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bulk_job (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    object_type character varying(16) NOT NULL,
    action character varying(16) NOT NULL,
    params jsonb NOT NULL,
    state character varying(16) NOT NULL,
    total integer NOT NULL,
    succeeded integer NOT NULL,
    refused integer NOT NULL,
    locale character varying(8) NOT NULL,
    finished_at timestamp with time zone,
    organization_id uuid NOT NULL,
    requested_by_id uuid
);


--
-- Name: TABLE bulk_job; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.bulk_job IS 'One bulk action (change status, assign, tag, delete) over many orders, deals, tickets or';


--
-- Name: bulk_job_item; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.bulk_job_item (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    "position" integer NOT NULL,
    target_id uuid NOT NULL,
    expected_version integer,
    state character varying(16) NOT NULL,
    code character varying(32),
    message text NOT NULL,
    field character varying(64),
    job_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE bulk_job_item; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.bulk_job_item IS 'One target of a bulk job and what happened to it. ``state`` changes in the same';


--
-- Name: campaign; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaign (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(16) NOT NULL,
    enabled boolean NOT NULL,
    organization_id uuid NOT NULL,
    segment_id uuid
);


--
-- Name: TABLE campaign; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.campaign IS 'One kind of campaign of an organization, on or off, optionally only for a segment.';


--
-- Name: campaign_message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaign_message (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    occurrence character varying(64) NOT NULL,
    variant character varying(16) NOT NULL,
    notified boolean NOT NULL,
    token_hash character varying(64),
    sent_at timestamp with time zone,
    opted_out_at timestamp with time zone,
    account_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    step_id uuid NOT NULL
);


--
-- Name: TABLE campaign_message; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.campaign_message IS 'One step for one customer on one occasion (the last order''s date, the birthday''s year, the';


--
-- Name: campaign_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaign_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    marketing_default_opt_in boolean NOT NULL,
    frequency_cap_days integer NOT NULL,
    conversion_window_days integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE campaign_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.campaign_settings IS 'Marketing rules of an organization. No row: the defaults below.';


--
-- Name: campaign_step; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.campaign_step (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    "position" integer NOT NULL,
    enabled boolean NOT NULL,
    delay integer NOT NULL,
    offer_days integer NOT NULL,
    variants jsonb NOT NULL,
    campaign_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE campaign_step; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.campaign_step IS 'A message of a campaign. ``delay`` means, for winback: months after the last order, for';


--
-- Name: catalog_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.catalog_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    allow_backorders boolean NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE catalog_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.catalog_settings IS 'The organization''s stock rule: may an order be confirmed with too little stock?';


--
-- Name: channel_consent; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_consent (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    channel character varying(16) NOT NULL,
    opted_in boolean NOT NULL,
    account_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE channel_consent; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.channel_consent IS 'A customer opting out of (or back into) a channel. No row: opted in to order messages.';


--
-- Name: channel_route; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.channel_route (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    channel character varying(16) NOT NULL,
    trigger character varying(32) NOT NULL,
    installation_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE channel_route; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.channel_route IS 'Which messaging installation sends a channel: the organization''s choice (trigger \"\") or one';


--
-- Name: contact; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contact (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(300) NOT NULL,
    "position" character varying(200),
    phones jsonb NOT NULL,
    emails jsonb NOT NULL,
    version integer NOT NULL,
    account_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE contact; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.contact IS 'A person at a company account.';


--
-- Name: contact_identifier; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.contact_identifier (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(8) NOT NULL,
    value character varying(254) NOT NULL,
    contact_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE contact_identifier; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.contact_identifier IS 'Lookup index of contacts'' phones and e-mails (kept by the accounts service), so the';


--
-- Name: conversation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversation (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    channel character varying(16) NOT NULL,
    address character varying(128) NOT NULL,
    display_name character varying(200) NOT NULL,
    phone character varying(20),
    status character varying(8) NOT NULL,
    snoozed_until timestamp with time zone,
    unread_count integer NOT NULL,
    last_message_at timestamp with time zone NOT NULL,
    last_message_text character varying(200) NOT NULL,
    first_response_due_at timestamp with time zone,
    first_response_at timestamp with time zone,
    version integer NOT NULL,
    account_id uuid,
    assignee_id uuid,
    deal_id uuid,
    installation_id uuid,
    organization_id uuid NOT NULL,
    ticket_id uuid,
    account_confirmed boolean DEFAULT false NOT NULL,
    bot_state character varying(12) DEFAULT 'active'::character varying NOT NULL,
    handed_over_at timestamp with time zone
);


--
-- Name: TABLE conversation; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.conversation IS 'A customer on one channel: a Telegram chat, a Viber user, an e-mail address...';


--
-- Name: conversation_message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.conversation_message (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    direction character varying(3) NOT NULL,
    kind character varying(16) NOT NULL,
    text text NOT NULL,
    attachments jsonb NOT NULL,
    state character varying(10) NOT NULL,
    provider_message_id character varying(64),
    ask_phone boolean NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL,
    sent_at timestamp with time zone,
    delivered_at timestamp with time zone,
    read_at timestamp with time zone,
    author_id uuid,
    conversation_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    bot boolean DEFAULT false NOT NULL,
    buttons jsonb DEFAULT '[]'::jsonb NOT NULL
);


--
-- Name: TABLE conversation_message; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.conversation_message IS 'One message of a conversation, from the customer (``in``) or an agent (``out``).';


--
-- Name: custom_field_definition; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.custom_field_definition (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    object_type character varying(16) NOT NULL,
    key character varying(64) NOT NULL,
    label_uk character varying(200) NOT NULL,
    label_en character varying(200) NOT NULL,
    kind character varying(16) NOT NULL,
    choices jsonb NOT NULL,
    required boolean NOT NULL,
    "position" integer NOT NULL,
    archived boolean NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE custom_field_definition; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.custom_field_definition IS 'One field an organization added to one object type. Archived fields keep their values';


--
-- Name: custom_field_value; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.custom_field_value (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    object_type character varying(16) NOT NULL,
    object_id uuid NOT NULL,
    text_value text,
    text_key character varying(255),
    number_value numeric(20,6),
    number_key double precision,
    currency character varying(3),
    date_value date,
    bool_value boolean,
    "position" integer NOT NULL,
    definition_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE custom_field_value; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.custom_field_value IS 'A value of one custom field of one record. A multi-choice value is one row per chosen value.';


--
-- Name: custom_role; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.custom_role (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(32) NOT NULL,
    description character varying(500) NOT NULL,
    permissions jsonb NOT NULL,
    row_scope character varying(8) NOT NULL,
    hidden_fields jsonb NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE custom_role; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.custom_role IS 'A role an owner or admin made for this organization from the permission catalogue';


--
-- Name: customer_figures; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customer_figures (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    first_order_at timestamp with time zone,
    last_order_at timestamp with time zone,
    order_count integer NOT NULL,
    revenue_cents bigint NOT NULL,
    by_currency jsonb NOT NULL,
    rfm_recency smallint,
    rfm_frequency smallint,
    rfm_monetary smallint,
    rfm_group character varying(24),
    rfm_computed_at timestamp with time zone,
    organization_id uuid NOT NULL,
    account_id uuid NOT NULL
);


--
-- Name: TABLE customer_figures; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.customer_figures IS 'One row per account: its order history summed up, so lists, filters and segments read';


--
-- Name: customer_marketing; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.customer_marketing (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    birthday date,
    opted_in boolean,
    consent_changed_at timestamp with time zone,
    last_message_at timestamp with time zone,
    organization_id uuid NOT NULL,
    account_id uuid NOT NULL
);


--
-- Name: TABLE customer_marketing; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.customer_marketing IS 'A customer''s marketing side: birthday, marketing consent (separate from the per-channel';


--
-- Name: deal; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deal (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    title character varying(300) NOT NULL,
    amount numeric(14,2) NOT NULL,
    currency character varying(3) NOT NULL,
    expected_close_date date,
    source character varying(64),
    lost_reason text,
    closed_at timestamp with time zone,
    version integer NOT NULL,
    deleted_at timestamp with time zone,
    account_id uuid NOT NULL,
    contact_id uuid,
    organization_id uuid NOT NULL,
    owner_id uuid,
    pipeline_id uuid NOT NULL,
    stage_id uuid NOT NULL,
    tags jsonb DEFAULT '[]'::jsonb NOT NULL
);


--
-- Name: deal_stage_change; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deal_stage_change (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    actor_id uuid,
    deal_id uuid NOT NULL,
    from_stage_id uuid,
    organization_id uuid NOT NULL,
    to_stage_id uuid NOT NULL
);


--
-- Name: delivery_status_rule; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.delivery_status_rule (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    carrier character varying(64) NOT NULL,
    carrier_status character varying(16) NOT NULL,
    order_status character varying(48),
    organization_id uuid NOT NULL
);


--
-- Name: TABLE delivery_status_rule; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.delivery_status_rule IS 'An organization override of which order status a carrier status code leads to';


--
-- Name: email_inbound_mailbox; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.email_inbound_mailbox (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    issued_at timestamp with time zone NOT NULL,
    installation_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE email_inbound_mailbox; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.email_inbound_mailbox IS 'The CRM''s own address for one e-mail plugin installation, ``in+<token>@<MAIL_IN_DOMAIN>``:';


--
-- Name: email_thread_message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.email_thread_message (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    direction character varying(3) NOT NULL,
    message_id_header character varying(255) NOT NULL,
    subject character varying(300) NOT NULL,
    thread_ids text NOT NULL,
    automated boolean NOT NULL,
    attachments jsonb NOT NULL,
    conversation_id uuid NOT NULL,
    conversation_message_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE email_thread_message; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.email_thread_message IS 'The e-mail side of one conversation message: its Message-ID, subject and References, so';


--
-- Name: email_unsubscribe_link; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.email_unsubscribe_link (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    address character varying(254) NOT NULL,
    token_hash character varying(64) NOT NULL,
    used_at timestamp with time zone,
    account_id uuid NOT NULL,
    notification_id uuid,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE email_unsubscribe_link; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.email_unsubscribe_link IS 'The ``List-Unsubscribe`` link of one sent e-mail (``/e/<token>``). Only the token''s';


--
-- Name: export; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.export (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    list_name character varying(16) NOT NULL,
    format character varying(8) NOT NULL,
    filters jsonb NOT NULL,
    language character varying(8) NOT NULL,
    status character varying(16) NOT NULL,
    rows_done integer NOT NULL,
    rows_total integer,
    row_count integer,
    error text,
    file_name character varying(128),
    content_type character varying(128),
    size_bytes bigint,
    finished_at timestamp with time zone,
    expires_at timestamp with time zone,
    organization_id uuid NOT NULL,
    requested_by_id uuid NOT NULL
);


--
-- Name: TABLE export; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.export IS 'One requested export: what, with which filters, by whom, and how far it got.';


--
-- Name: export_chunk; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.export_chunk (
    id bigint NOT NULL,
    seq integer NOT NULL,
    data bytea NOT NULL,
    export_id uuid NOT NULL
);


--
-- Name: TABLE export_chunk; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.export_chunk IS 'A piece of an export''s file, in order (``seq``).';


--
-- Name: export_chunk_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.export_chunk_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: export_chunk_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.export_chunk_id_seq OWNED BY public.export_chunk.id;


--
-- Name: fiscal_receipt; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.fiscal_receipt (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    key character varying(64) NOT NULL,
    provider character varying(64) NOT NULL,
    kind character varying(8) NOT NULL,
    status character varying(16) NOT NULL,
    payment_type character varying(16) NOT NULL,
    amount numeric(14,2) NOT NULL,
    currency character varying(3) NOT NULL,
    provider_receipt_id character varying(64) NOT NULL,
    fiscal_code character varying(64) NOT NULL,
    fiscal_date timestamp with time zone,
    url character varying(500) NOT NULL,
    error character varying(500) NOT NULL,
    tries integer NOT NULL,
    sent_at timestamp with time zone,
    claimed_until timestamp with time zone,
    installation_id uuid,
    organization_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    refund_id uuid,
    sale_id uuid
);


--
-- Name: TABLE fiscal_receipt; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.fiscal_receipt IS 'A sale or return receipt for a payment. Its ``id`` is the receipt id the provider gets';


--
-- Name: fiscal_shift_close; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.fiscal_shift_close (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    day date NOT NULL,
    status character varying(16) NOT NULL,
    shift_id character varying(64) NOT NULL,
    message character varying(500) NOT NULL,
    installation_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE fiscal_shift_close; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.fiscal_shift_close IS 'The daily close of a fiscal installation''s shift, on the organization''s local ``day``.';


--
-- Name: idempotency_key; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.idempotency_key (
    id integer NOT NULL,
    operation character varying(64) NOT NULL,
    key character varying(128) NOT NULL,
    entity_id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    organization_id uuid NOT NULL,
    request_hash character varying(64)
);


--
-- Name: TABLE idempotency_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.idempotency_key IS 'Remembers which object a creating mutation made for an idempotency key.';


--
-- Name: idempotency_key_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.idempotency_key_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: idempotency_key_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.idempotency_key_id_seq OWNED BY public.idempotency_key.id;


--
-- Name: import_batch; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_batch (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(16) NOT NULL,
    system character varying(32) NOT NULL,
    file_name character varying(255) NOT NULL,
    file_format character varying(8) NOT NULL,
    content bytea NOT NULL,
    mapping jsonb NOT NULL,
    dry_run boolean NOT NULL,
    status character varying(16) NOT NULL,
    rows_total integer NOT NULL,
    rows_done integer NOT NULL,
    next_group integer NOT NULL,
    ok_count integer NOT NULL,
    created_count integer NOT NULL,
    matched_count integer NOT NULL,
    failed_count integer NOT NULL,
    problems jsonb NOT NULL,
    error text,
    finished_at timestamp with time zone,
    undone_at timestamp with time zone,
    organization_id uuid NOT NULL,
    requested_by_id uuid
);


--
-- Name: TABLE import_batch; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.import_batch IS 'One file: its rows are read, checked and (unless a dry run) written by a background job.';


--
-- Name: import_record; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.import_record (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    system character varying(32) NOT NULL,
    kind character varying(16) NOT NULL,
    external_id character varying(128) NOT NULL,
    object_id uuid NOT NULL,
    created boolean NOT NULL,
    batch_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE import_record; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.import_record IS 'An object an import created or found, by the source system''s id: the second run of the';


--
-- Name: job_run; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.job_run (
    id integer NOT NULL,
    job_id character varying(255) NOT NULL,
    name character varying(128) NOT NULL,
    kwargs jsonb NOT NULL,
    state character varying(16) NOT NULL,
    attempts integer NOT NULL,
    run_after timestamp with time zone NOT NULL,
    locked_until timestamp with time zone,
    last_error text NOT NULL,
    created_at timestamp with time zone NOT NULL,
    finished_at timestamp with time zone
);


--
-- Name: TABLE job_run; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.job_run IS 'One job by its deterministic id. In process (no Redis) this table is the queue itself';


--
-- Name: job_run_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.job_run_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: job_run_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.job_run_id_seq OWNED BY public.job_run.id;


--
-- Name: marketplace_order_link; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.marketplace_order_link (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    external_id character varying(128) NOT NULL,
    external_status character varying(64) NOT NULL,
    external_changed_at timestamp with time zone,
    installation_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    order_id uuid NOT NULL
);


--
-- Name: TABLE marketplace_order_link; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.marketplace_order_link IS 'An order imported from a marketplace installation and the marketplace status last seen';


--
-- Name: marketplace_push; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.marketplace_push (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    plugin character varying(64) NOT NULL,
    event_id uuid NOT NULL,
    crm_status character varying(48) NOT NULL,
    marketplace_status character varying(64),
    outcome character varying(16) NOT NULL,
    error text,
    error_code character varying(64),
    attempts integer NOT NULL,
    last_attempt_at timestamp with time zone,
    installation_id uuid,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE marketplace_push; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.marketplace_push IS 'One status change of an order told to its marketplace, unique per order and outbox';


--
-- Name: marketplace_sync_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.marketplace_sync_state (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    cursor text,
    locked_until timestamp with time zone,
    last_started_at timestamp with time zone,
    last_finished_at timestamp with time zone,
    last_result jsonb NOT NULL,
    organization_id uuid NOT NULL,
    installation_id uuid NOT NULL
);


--
-- Name: TABLE marketplace_sync_state; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.marketplace_sync_state IS 'Where the order sync of one marketplace installation stands.';


--
-- Name: membership; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.membership (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    role character varying(32) NOT NULL,
    is_active boolean NOT NULL,
    organization_id uuid NOT NULL,
    team_id uuid,
    user_id uuid NOT NULL,
    phone_extension character varying(32)
);


--
-- Name: notification; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    source_event_id uuid NOT NULL,
    trigger character varying(32) NOT NULL,
    "position" integer NOT NULL,
    channel character varying(16) NOT NULL,
    urgent boolean NOT NULL,
    recipient character varying(254) NOT NULL,
    locale character varying(8) NOT NULL,
    text text NOT NULL,
    state character varying(12) NOT NULL,
    reason text NOT NULL,
    provider_message_id character varying(128),
    attempts integer NOT NULL,
    scheduled_for timestamp with time zone NOT NULL,
    sent_at timestamp with time zone,
    delivered_at timestamp with time zone,
    account_id uuid,
    installation_id uuid,
    order_id uuid,
    organization_id uuid NOT NULL,
    survey_id uuid
);


--
-- Name: TABLE notification; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.notification IS 'One message to one customer on one channel, from queued to delivered or failed.';


--
-- Name: notification_rule; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_rule (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    trigger character varying(32) NOT NULL,
    channels jsonb NOT NULL,
    urgent boolean NOT NULL,
    enabled boolean NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE notification_rule; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.notification_rule IS 'Which channels, in which order, tell a customer that an order reached a status.';


--
-- Name: notification_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    quiet_start character varying(5) NOT NULL,
    quiet_end character varying(5) NOT NULL,
    send_delay_seconds integer NOT NULL,
    support_phone character varying(20) NOT NULL,
    support_email character varying(200) NOT NULL,
    organization_id uuid NOT NULL,
    track_links boolean NOT NULL
);


--
-- Name: TABLE notification_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.notification_settings IS 'Quiet hours in the organization timezone, the debounce delay and the support contacts.';


--
-- Name: notification_template; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.notification_template (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    trigger character varying(32) NOT NULL,
    channel character varying(16) NOT NULL,
    locale character varying(8) NOT NULL,
    body text NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE notification_template; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.notification_template IS 'The text of one trigger on one channel in one language (a sandboxed Jinja template).';


--
-- Name: oauth_access_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_access_token (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    scopes jsonb NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    client_id uuid NOT NULL,
    family uuid,
    user_id uuid,
    installation_id uuid
);


--
-- Name: TABLE oauth_access_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_access_token IS 'An access token issued to a client (its SHA-256), with the scopes it carries.';


--
-- Name: oauth_authorization_code; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_authorization_code (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    code_hash character varying(64) NOT NULL,
    scopes jsonb NOT NULL,
    redirect_uri character varying(2000) NOT NULL,
    code_challenge character varying(128) NOT NULL,
    family uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    client_id uuid NOT NULL,
    user_id uuid NOT NULL,
    install_into_id uuid
);


--
-- Name: TABLE oauth_authorization_code; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_authorization_code IS 'A code from the consent page (its SHA-256): single use, one minute, bound to the';


--
-- Name: oauth_client; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_client (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    client_id character varying(64) NOT NULL,
    secret_hash character varying(64) NOT NULL,
    scopes jsonb NOT NULL,
    revoked_at timestamp with time zone,
    last_used_at timestamp with time zone,
    created_by_id uuid,
    organization_id uuid NOT NULL,
    redirect_uris jsonb NOT NULL,
    installable boolean NOT NULL
);


--
-- Name: TABLE oauth_client; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_client IS 'A partner application allowed to call the API of this organization with its own credentials.';


--
-- Name: oauth_installation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_installation (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    scopes jsonb NOT NULL,
    revoked_at timestamp with time zone,
    client_id uuid NOT NULL,
    installed_by_id uuid,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE oauth_installation; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_installation IS 'An installable app (``OAuthClient.installable``) let into this organization by one of its';


--
-- Name: oauth_refresh_token; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.oauth_refresh_token (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    scopes jsonb NOT NULL,
    family uuid NOT NULL,
    expires_at timestamp with time zone NOT NULL,
    used_at timestamp with time zone,
    revoked_at timestamp with time zone,
    client_id uuid NOT NULL,
    user_id uuid NOT NULL,
    granted_at timestamp with time zone
);


--
-- Name: TABLE oauth_refresh_token; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.oauth_refresh_token IS 'A refresh token (its SHA-256). Each use rotates it, and a used one presented again means it';


--
-- Name: object_tag; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.object_tag (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    object_type character varying(16) NOT NULL,
    object_id uuid NOT NULL,
    tag character varying(64) NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE object_tag; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.object_tag IS 'Lookup index of the tags of orders, deals and tickets (kept by their services, like';


--
-- Name: order; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."order" (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    number integer NOT NULL,
    currency character varying(3) NOT NULL,
    subtotal numeric(14,2) NOT NULL,
    discount_total numeric(14,2) NOT NULL,
    total numeric(14,2) NOT NULL,
    payment_status character varying(16) NOT NULL,
    source character varying(32) NOT NULL,
    external_id character varying(128),
    comment text,
    delivery_method character varying(32),
    recipient_name character varying(300),
    recipient_phone character varying(20),
    delivery_city character varying(200),
    delivery_branch character varying(200),
    delivery_address character varying(500),
    waybill_number character varying(64),
    version integer NOT NULL,
    deleted_at timestamp with time zone,
    account_id uuid NOT NULL,
    manager_id uuid,
    organization_id uuid NOT NULL,
    status_id uuid NOT NULL,
    tags jsonb DEFAULT '[]'::jsonb NOT NULL
);


--
-- Name: order_item; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_item (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    "position" integer NOT NULL,
    sku character varying(64) NOT NULL,
    title character varying(300) NOT NULL,
    quantity numeric(12,3) NOT NULL,
    unit_price numeric(14,2) NOT NULL,
    discount numeric(14,2) NOT NULL,
    total numeric(14,2) NOT NULL,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    unit_cost numeric(14,2),
    variant_id uuid
);


--
-- Name: order_status; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_status (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    code character varying(48) NOT NULL,
    name character varying(200) NOT NULL,
    "group" character varying(16) NOT NULL,
    "position" integer NOT NULL,
    is_initial boolean NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE order_status; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.order_status IS 'One of the configurable order statuses, in one of STATUS_GROUPS.';


--
-- Name: order_status_change; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_status_change (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    reason text,
    actor_id uuid,
    from_status_id uuid,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    to_status_id uuid NOT NULL
);


--
-- Name: order_status_transition; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.order_status_transition (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    from_status_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    to_status_id uuid NOT NULL
);


--
-- Name: organization; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.organization (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    slug character varying(64) NOT NULL,
    currency character varying(3) NOT NULL,
    locale character varying(8) NOT NULL,
    timezone character varying(64) NOT NULL,
    rate_limit_per_minute integer,
    duplicate_policy character varying(8) DEFAULT 'warn'::character varying NOT NULL
);


--
-- Name: TABLE organization; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.organization IS 'The tenant. Every other business row points at one.';


--
-- Name: outbox_event; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.outbox_event (
    id uuid NOT NULL,
    topic character varying(64) NOT NULL,
    payload jsonb NOT NULL,
    created_at timestamp with time zone NOT NULL,
    dispatched_at timestamp with time zone,
    attempts integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE outbox_event; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.outbox_event IS 'Domain events written in the same transaction as the change they describe.';


--
-- Name: payment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    provider character varying(64) NOT NULL,
    amount numeric(14,2) NOT NULL,
    currency character varying(3) NOT NULL,
    status character varying(24) NOT NULL,
    provider_payment_id character varying(128),
    provider_status character varying(32) NOT NULL,
    fee numeric(14,2),
    refunded_amount numeric(14,2) NOT NULL,
    checkout_url character varying(2000),
    error character varying(500) NOT NULL,
    paid_at timestamp with time zone,
    provider_changed_at timestamp with time zone,
    version integer NOT NULL,
    created_by_id uuid,
    installation_id uuid,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE payment; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.payment IS 'One attempt to take ``amount`` for an order through a payment plugin installation.';


--
-- Name: payment_refund; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_refund (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    amount numeric(14,2) NOT NULL,
    status character varying(16) NOT NULL,
    provider_refund_id character varying(128) NOT NULL,
    error character varying(500) NOT NULL,
    actor_id uuid,
    organization_id uuid NOT NULL,
    payment_id uuid NOT NULL
);


--
-- Name: TABLE payment_refund; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.payment_refund IS 'Money given back from a paid payment: all of it or a part.';


--
-- Name: payment_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.payment_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    paid_order_status character varying(48),
    organization_id uuid NOT NULL
);


--
-- Name: TABLE payment_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.payment_settings IS 'The organization''s rule: the order status a fully paid order moves to (None: stay).';


--
-- Name: persisted_query; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.persisted_query (
    sha256 character varying(64) NOT NULL,
    query text NOT NULL,
    created_at timestamp with time zone NOT NULL
);


--
-- Name: TABLE persisted_query; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.persisted_query IS 'A GraphQL document registered under its SHA-256, shared by every API process.';


--
-- Name: pipeline; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.pipeline (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    "position" integer NOT NULL,
    is_default boolean NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: plugin_installation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugin_installation (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    plugin character varying(64) NOT NULL,
    label character varying(64) NOT NULL,
    enabled boolean NOT NULL,
    config jsonb NOT NULL,
    secrets text NOT NULL,
    secret_fields jsonb NOT NULL,
    webhook_token_hash character varying(64) NOT NULL,
    webhook_token_issued_at timestamp with time zone NOT NULL,
    allowed_ips jsonb NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE plugin_installation; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.plugin_installation IS 'A plugin an organization installed: its settings, encrypted secrets and webhook token.';


--
-- Name: plugin_webhook_delivery; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.plugin_webhook_delivery (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    dedupe_key character varying(200) NOT NULL,
    path character varying(200) NOT NULL,
    event_count integer NOT NULL,
    result jsonb NOT NULL,
    attempts integer NOT NULL,
    last_received_at timestamp with time zone NOT NULL,
    installation_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE plugin_webhook_delivery; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.plugin_webhook_delivery IS 'One inbound webhook delivery, unique per installation and dedupe key.';


--
-- Name: price_change; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.price_change (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    currency character varying(3) NOT NULL,
    old_price numeric(14,2),
    new_price numeric(14,2),
    old_cost numeric(14,2),
    new_cost numeric(14,2),
    price_changed boolean NOT NULL,
    source character varying(16) NOT NULL,
    changed_by_id uuid,
    organization_id uuid NOT NULL,
    variant_id uuid NOT NULL
);


--
-- Name: TABLE price_change; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.price_change IS 'One change of a variant''s price or cost in one currency, kept for its price history.';


--
-- Name: product; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.product (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    title character varying(300) NOT NULL,
    description text NOT NULL,
    photos jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_active boolean NOT NULL,
    version integer NOT NULL,
    category_id uuid,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE product; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.product IS 'What the shop sells, as people name it, sold as one or more variants.';


--
-- Name: product_category; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.product_category (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    "position" integer NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL,
    parent_id uuid
);


--
-- Name: TABLE product_category; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.product_category IS 'A category, in a tree by its parent (null: a top-level category).';


--
-- Name: product_variant; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.product_variant (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    sku character varying(64) NOT NULL,
    barcode character varying(64),
    title character varying(300) NOT NULL,
    price numeric(14,2) NOT NULL,
    currency character varying(3) NOT NULL,
    cost numeric(14,2),
    weight_grams integer,
    length_mm integer,
    width_mm integer,
    height_mm integer,
    photos jsonb DEFAULT '[]'::jsonb NOT NULL,
    is_active boolean NOT NULL,
    low_stock_threshold numeric(12,3),
    "position" integer NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL,
    product_id uuid NOT NULL
);


--
-- Name: TABLE product_variant; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.product_variant IS 'A sellable unit: one SKU (unique per organization), its price, cost, size and stock.';


--
-- Name: rfm_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.rfm_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    rfm_window_days integer NOT NULL,
    rfm_nightly_on date,
    rfm_computed_at timestamp with time zone,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE rfm_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.rfm_settings IS 'An organization''s RFM settings (the window), and the day its nightly RFM run last happened.';


--
-- Name: search_term; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search_term (
    id integer NOT NULL,
    kind character varying(8) NOT NULL,
    object_id uuid NOT NULL,
    field character varying(16) NOT NULL,
    value character varying(300) NOT NULL,
    organization_id uuid NOT NULL,
    definition_id uuid
);


--
-- Name: TABLE search_term; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.search_term IS 'One searchable value of one record.';


--
-- Name: search_term_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.search_term_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: search_term_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.search_term_id_seq OWNED BY public.search_term.id;


--
-- Name: segment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.segment (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    description text NOT NULL,
    rules jsonb NOT NULL,
    version integer NOT NULL,
    created_by_id uuid,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE segment; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.segment IS 'Its members are computed when asked (a live list), never stored.';


--
-- Name: selfservice_bot_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.selfservice_bot_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    enabled boolean NOT NULL,
    order_phrases jsonb NOT NULL,
    handover_phrases jsonb NOT NULL,
    template_uk text NOT NULL,
    template_en text NOT NULL,
    hours_from character varying(5),
    hours_to character varying(5),
    max_orders integer NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE selfservice_bot_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.selfservice_bot_settings IS 'One organization''s self-service bot: on or off, extra phrases, its answer''s template per';


--
-- Name: selfservice_bot_turn; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.selfservice_bot_turn (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    outcome character varying(16) NOT NULL,
    language character varying(2) NOT NULL,
    conversation_id uuid NOT NULL,
    message_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    reply_id uuid
);


--
-- Name: TABLE selfservice_bot_turn; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.selfservice_bot_turn IS 'The bot''s turn on one customer message, at most one (the unique message decides races';


--
-- Name: sequence; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sequence (
    id integer NOT NULL,
    name character varying(32) NOT NULL,
    value bigint NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE sequence; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.sequence IS 'Human-facing counters per organization: order numbers, ticket numbers.';


--
-- Name: sequence_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.sequence_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: sequence_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.sequence_id_seq OWNED BY public.sequence.id;


--
-- Name: shipment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.shipment (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    carrier character varying(64) NOT NULL,
    waybill_number character varying(64) NOT NULL,
    provider_ref character varying(64),
    carrier_status character varying(16),
    carrier_status_text character varying(500) NOT NULL,
    status character varying(24) NOT NULL,
    status_changed_at timestamp with time zone,
    estimated_delivery date,
    cost numeric(14,2),
    currency character varying(3),
    last_tracked_at timestamp with time zone,
    tracking_error text,
    rule_applied_for character varying(16),
    closed boolean NOT NULL,
    cancelled_at timestamp with time zone,
    version integer NOT NULL,
    installation_id uuid,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    cash_on_delivery numeric(14,2),
    cash_on_delivery_paid_at timestamp with time zone,
    registered boolean NOT NULL
);


--
-- Name: TABLE shipment; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.shipment IS 'A carrier waybill for an order, with the last status the carrier reported';


--
-- Name: sla_policy; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.sla_policy (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    priority character varying(8) NOT NULL,
    first_response_minutes integer NOT NULL,
    resolution_minutes integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE sla_policy; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.sla_policy IS 'Per-priority targets, in minutes. Missing rows fall back to DEFAULT_SLA in the service.';


--
-- Name: stage; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stage (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    "position" integer NOT NULL,
    probability integer NOT NULL,
    kind character varying(8) NOT NULL,
    organization_id uuid NOT NULL,
    pipeline_id uuid NOT NULL
);


--
-- Name: stock_level; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stock_level (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    on_hand numeric(14,3) NOT NULL,
    reserved numeric(14,3) NOT NULL,
    organization_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    warehouse_id uuid NOT NULL
);


--
-- Name: TABLE stock_level; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.stock_level IS 'A variant''s stock in one warehouse. available = on_hand − reserved (not stored).';


--
-- Name: stock_movement; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stock_movement (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(16) NOT NULL,
    on_hand_delta numeric(14,3) NOT NULL,
    reserved_delta numeric(14,3) NOT NULL,
    on_hand_after numeric(14,3) NOT NULL,
    reserved_after numeric(14,3) NOT NULL,
    reason character varying(500) NOT NULL,
    actor_kind character varying(16) NOT NULL,
    actor_id character varying(64),
    order_id uuid,
    organization_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    warehouse_id uuid NOT NULL
);


--
-- Name: TABLE stock_movement; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.stock_movement IS 'One change of a stock level: an adjustment (receive, write_off, count) or an order''s';


--
-- Name: stock_reservation; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stock_reservation (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    quantity numeric(14,3) NOT NULL,
    state character varying(16) NOT NULL,
    order_id uuid NOT NULL,
    organization_id uuid NOT NULL,
    variant_id uuid NOT NULL,
    warehouse_id uuid NOT NULL
);


--
-- Name: TABLE stock_reservation; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.stock_reservation IS 'What an order holds of a variant in a warehouse: active (reserved), then';


--
-- Name: survey; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.survey (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    kind character varying(8) NOT NULL,
    due_at timestamp with time zone NOT NULL,
    token_hash character varying(64),
    channel character varying(16) NOT NULL,
    sent_at timestamp with time zone,
    expires_at timestamp with time zone,
    nps integer,
    csat integer,
    ces integer,
    comment text NOT NULL,
    answered_at timestamp with time zone,
    answered_on date,
    locale character varying(8) NOT NULL,
    detractor boolean NOT NULL,
    account_id uuid,
    follow_up_id uuid,
    order_id uuid,
    organization_id uuid NOT NULL,
    ticket_id uuid
);


--
-- Name: TABLE survey; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.survey IS 'One survey of one order or one ticket (the unique constraints make a second one';


--
-- Name: survey_settings; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.survey_settings (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    nps_enabled boolean NOT NULL,
    nps_status character varying(48) NOT NULL,
    nps_delay_days integer NOT NULL,
    support_enabled boolean NOT NULL,
    support_delay_minutes integer NOT NULL,
    link_days integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE survey_settings; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.survey_settings IS 'When surveys go out, per organization. No row: the defaults below.';


--
-- Name: team; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.team (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE team; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.team IS 'A group of users. A manager sees the records owned by the team.';


--
-- Name: ticket; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ticket (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    number integer NOT NULL,
    subject character varying(300) NOT NULL,
    description text NOT NULL,
    channel character varying(16) NOT NULL,
    priority character varying(8) NOT NULL,
    status character varying(16) NOT NULL,
    first_response_due_at timestamp with time zone,
    resolution_due_at timestamp with time zone,
    first_response_at timestamp with time zone,
    resolved_at timestamp with time zone,
    version integer NOT NULL,
    account_id uuid,
    assignee_id uuid,
    contact_id uuid,
    organization_id uuid NOT NULL,
    tags jsonb DEFAULT '[]'::jsonb NOT NULL
);


--
-- Name: ticket_comment; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.ticket_comment (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    body text NOT NULL,
    is_public boolean NOT NULL,
    author_id uuid,
    organization_id uuid NOT NULL,
    ticket_id uuid NOT NULL
);


--
-- Name: tortoise_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tortoise_migrations (
    id integer NOT NULL,
    app character varying(255) NOT NULL,
    name character varying(255) NOT NULL,
    applied_at timestamp with time zone NOT NULL
);


--
-- Name: tortoise_migrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.tortoise_migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: tortoise_migrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.tortoise_migrations_id_seq OWNED BY public.tortoise_migrations.id;


--
-- Name: tracked_link; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.tracked_link (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    url text NOT NULL,
    first_clicked_at timestamp with time zone,
    clicks integer NOT NULL,
    account_id uuid,
    campaign_message_id uuid,
    notification_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE tracked_link; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.tracked_link IS 'One address of one sent message: where it leads, when it was first opened, how often.';


--
-- Name: undeliverable_email; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.undeliverable_email (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    address character varying(254) NOT NULL,
    status character varying(16) NOT NULL,
    diagnostic character varying(500) NOT NULL,
    source character varying(8) NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE undeliverable_email; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.undeliverable_email IS 'An address a mail server refused permanently (a hard bounce: 5.x.x at RCPT or DATA, or a';


--
-- Name: user; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public."user" (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    email character varying(254) NOT NULL,
    password_hash character varying(255) NOT NULL,
    name character varying(200) NOT NULL,
    is_active boolean NOT NULL,
    locale character varying(8)
);


--
-- Name: warehouse; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.warehouse (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    name character varying(200) NOT NULL,
    code character varying(32) NOT NULL,
    "position" integer NOT NULL,
    is_active boolean NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE warehouse; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.warehouse IS 'A place stock is kept. Orders reserve from the first active warehouse (by position) that';


--
-- Name: webchat_visitor; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webchat_visitor (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    token_hash character varying(64) NOT NULL,
    name character varying(120) NOT NULL,
    conversation_id uuid,
    organization_id uuid NOT NULL,
    widget_id uuid NOT NULL
);


--
-- Name: TABLE webchat_visitor; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webchat_visitor IS 'A browser that started a chat: it proves who it is with a random token, of which only the';


--
-- Name: webchat_widget; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webchat_widget (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    key character varying(32) NOT NULL,
    enabled boolean NOT NULL,
    title character varying(120) NOT NULL,
    greeting character varying(500) NOT NULL,
    allowed_origins jsonb NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE webchat_widget; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webchat_widget IS 'One per organization. Its key is public, in the page''s address, and grants nothing but';


--
-- Name: webhook_attempt; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_attempt (
    id bigint NOT NULL,
    attempted_at timestamp with time zone NOT NULL,
    status_code integer,
    duration_ms integer NOT NULL,
    response_excerpt text NOT NULL,
    error character varying(300) NOT NULL,
    trigger character varying(12) NOT NULL,
    message_id uuid NOT NULL
);


--
-- Name: TABLE webhook_attempt; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webhook_attempt IS 'One HTTP request of a message: when, the answer''s status (null: no answer), how long';


--
-- Name: webhook_attempt_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.webhook_attempt_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: webhook_attempt_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.webhook_attempt_id_seq OWNED BY public.webhook_attempt.id;


--
-- Name: webhook_endpoint; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_endpoint (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    url character varying(2000) NOT NULL,
    description character varying(300) NOT NULL,
    event_types jsonb NOT NULL,
    filters jsonb NOT NULL,
    secrets text NOT NULL,
    previous_expires_at timestamp with time zone,
    enabled boolean NOT NULL,
    disabled_reason character varying(300) NOT NULL,
    disabled_at timestamp with time zone,
    failure_streak integer NOT NULL,
    version integer NOT NULL,
    organization_id uuid NOT NULL,
    include_pii boolean NOT NULL
);


--
-- Name: TABLE webhook_endpoint; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webhook_endpoint IS 'An HTTPS address that gets the organization''s events it subscribed to.';


--
-- Name: webhook_message; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.webhook_message (
    id uuid NOT NULL,
    created_at timestamp with time zone NOT NULL,
    updated_at timestamp with time zone NOT NULL,
    event_id uuid NOT NULL,
    event_type character varying(64) NOT NULL,
    payload jsonb NOT NULL,
    status character varying(12) NOT NULL,
    attempt_count integer NOT NULL,
    round_attempts integer NOT NULL,
    next_attempt_at timestamp with time zone,
    last_attempt_at timestamp with time zone,
    last_status_code integer,
    endpoint_id uuid NOT NULL,
    organization_id uuid NOT NULL
);


--
-- Name: TABLE webhook_message; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.webhook_message IS 'One event for one endpoint. Unique per (endpoint, event): fanning an event out twice';


--
-- Name: export_chunk id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export_chunk ALTER COLUMN id SET DEFAULT nextval('public.export_chunk_id_seq'::regclass);


--
-- Name: idempotency_key id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_key ALTER COLUMN id SET DEFAULT nextval('public.idempotency_key_id_seq'::regclass);


--
-- Name: job_run id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_run ALTER COLUMN id SET DEFAULT nextval('public.job_run_id_seq'::regclass);


--
-- Name: search_term id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_term ALTER COLUMN id SET DEFAULT nextval('public.search_term_id_seq'::regclass);


--
-- Name: sequence id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sequence ALTER COLUMN id SET DEFAULT nextval('public.sequence_id_seq'::regclass);


--
-- Name: tortoise_migrations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tortoise_migrations ALTER COLUMN id SET DEFAULT nextval('public.tortoise_migrations_id_seq'::regclass);


--
-- Name: webhook_attempt id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempt ALTER COLUMN id SET DEFAULT nextval('public.webhook_attempt_id_seq'::regclass);


--
-- Name: account_identifier account_identifier_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_identifier
    ADD CONSTRAINT account_identifier_pkey PRIMARY KEY (id);


--
-- Name: account account_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_pkey PRIMARY KEY (id);


--
-- Name: acquisition_cost acquisition_cost_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.acquisition_cost
    ADD CONSTRAINT acquisition_cost_pkey PRIMARY KEY (id);


--
-- Name: activity activity_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_pkey PRIMARY KEY (id);


--
-- Name: analytics_settings analytics_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analytics_settings
    ADD CONSTRAINT analytics_settings_pkey PRIMARY KEY (id);


--
-- Name: api_key api_key_key_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key
    ADD CONSTRAINT api_key_key_hash_key UNIQUE (key_hash);


--
-- Name: api_key api_key_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key
    ADD CONSTRAINT api_key_pkey PRIMARY KEY (id);


--
-- Name: attachment attachment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_pkey PRIMARY KEY (id);


--
-- Name: audit_entry audit_entry_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_entry
    ADD CONSTRAINT audit_entry_pkey PRIMARY KEY (id);


--
-- Name: auth_token auth_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_token
    ADD CONSTRAINT auth_token_pkey PRIMARY KEY (id);


--
-- Name: auth_token auth_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_token
    ADD CONSTRAINT auth_token_token_hash_key UNIQUE (token_hash);


--
-- Name: bulk_job_item bulk_job_item_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job_item
    ADD CONSTRAINT bulk_job_item_pkey PRIMARY KEY (id);


--
-- Name: bulk_job bulk_job_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job
    ADD CONSTRAINT bulk_job_pkey PRIMARY KEY (id);


--
-- Name: campaign_message campaign_message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT campaign_message_pkey PRIMARY KEY (id);


--
-- Name: campaign_message campaign_message_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT campaign_message_token_hash_key UNIQUE (token_hash);


--
-- Name: campaign campaign_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign
    ADD CONSTRAINT campaign_pkey PRIMARY KEY (id);


--
-- Name: campaign_settings campaign_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_settings
    ADD CONSTRAINT campaign_settings_pkey PRIMARY KEY (id);


--
-- Name: campaign_step campaign_step_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_step
    ADD CONSTRAINT campaign_step_pkey PRIMARY KEY (id);


--
-- Name: catalog_settings catalog_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_settings
    ADD CONSTRAINT catalog_settings_pkey PRIMARY KEY (id);


--
-- Name: channel_consent channel_consent_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_consent
    ADD CONSTRAINT channel_consent_pkey PRIMARY KEY (id);


--
-- Name: channel_route channel_route_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_route
    ADD CONSTRAINT channel_route_pkey PRIMARY KEY (id);


--
-- Name: contact_identifier contact_identifier_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact_identifier
    ADD CONSTRAINT contact_identifier_pkey PRIMARY KEY (id);


--
-- Name: contact contact_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact
    ADD CONSTRAINT contact_pkey PRIMARY KEY (id);


--
-- Name: conversation_message conversation_message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_message
    ADD CONSTRAINT conversation_message_pkey PRIMARY KEY (id);


--
-- Name: conversation conversation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_pkey PRIMARY KEY (id);


--
-- Name: custom_field_definition custom_field_definition_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_definition
    ADD CONSTRAINT custom_field_definition_pkey PRIMARY KEY (id);


--
-- Name: custom_field_value custom_field_value_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_value
    ADD CONSTRAINT custom_field_value_pkey PRIMARY KEY (id);


--
-- Name: custom_role custom_role_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_role
    ADD CONSTRAINT custom_role_pkey PRIMARY KEY (id);


--
-- Name: customer_figures customer_figures_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_figures
    ADD CONSTRAINT customer_figures_account_id_key UNIQUE (account_id);


--
-- Name: customer_figures customer_figures_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_figures
    ADD CONSTRAINT customer_figures_pkey PRIMARY KEY (id);


--
-- Name: customer_marketing customer_marketing_account_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_marketing
    ADD CONSTRAINT customer_marketing_account_id_key UNIQUE (account_id);


--
-- Name: customer_marketing customer_marketing_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_marketing
    ADD CONSTRAINT customer_marketing_pkey PRIMARY KEY (id);


--
-- Name: deal deal_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_pkey PRIMARY KEY (id);


--
-- Name: deal_stage_change deal_stage_change_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_pkey PRIMARY KEY (id);


--
-- Name: delivery_status_rule delivery_status_rule_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_status_rule
    ADD CONSTRAINT delivery_status_rule_pkey PRIMARY KEY (id);


--
-- Name: email_inbound_mailbox email_inbound_mailbox_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_inbound_mailbox
    ADD CONSTRAINT email_inbound_mailbox_pkey PRIMARY KEY (id);


--
-- Name: email_inbound_mailbox email_inbound_mailbox_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_inbound_mailbox
    ADD CONSTRAINT email_inbound_mailbox_token_hash_key UNIQUE (token_hash);


--
-- Name: email_thread_message email_thread_message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_thread_message
    ADD CONSTRAINT email_thread_message_pkey PRIMARY KEY (id);


--
-- Name: email_unsubscribe_link email_unsubscribe_link_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_unsubscribe_link
    ADD CONSTRAINT email_unsubscribe_link_pkey PRIMARY KEY (id);


--
-- Name: email_unsubscribe_link email_unsubscribe_link_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_unsubscribe_link
    ADD CONSTRAINT email_unsubscribe_link_token_hash_key UNIQUE (token_hash);


--
-- Name: export_chunk export_chunk_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export_chunk
    ADD CONSTRAINT export_chunk_pkey PRIMARY KEY (id);


--
-- Name: export export_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export
    ADD CONSTRAINT export_pkey PRIMARY KEY (id);


--
-- Name: fiscal_receipt fiscal_receipt_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_key_key UNIQUE (key);


--
-- Name: fiscal_receipt fiscal_receipt_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_pkey PRIMARY KEY (id);


--
-- Name: fiscal_shift_close fiscal_shift_close_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_shift_close
    ADD CONSTRAINT fiscal_shift_close_pkey PRIMARY KEY (id);


--
-- Name: idempotency_key idempotency_key_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT idempotency_key_pkey PRIMARY KEY (id);


--
-- Name: import_batch import_batch_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batch
    ADD CONSTRAINT import_batch_pkey PRIMARY KEY (id);


--
-- Name: import_record import_record_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_record
    ADD CONSTRAINT import_record_pkey PRIMARY KEY (id);


--
-- Name: job_run job_run_job_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_run
    ADD CONSTRAINT job_run_job_id_key UNIQUE (job_id);


--
-- Name: job_run job_run_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.job_run
    ADD CONSTRAINT job_run_pkey PRIMARY KEY (id);


--
-- Name: marketplace_order_link marketplace_order_link_order_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT marketplace_order_link_order_id_key UNIQUE (order_id);


--
-- Name: marketplace_order_link marketplace_order_link_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT marketplace_order_link_pkey PRIMARY KEY (id);


--
-- Name: marketplace_push marketplace_push_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_push
    ADD CONSTRAINT marketplace_push_pkey PRIMARY KEY (id);


--
-- Name: marketplace_sync_state marketplace_sync_state_installation_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_sync_state
    ADD CONSTRAINT marketplace_sync_state_installation_id_key UNIQUE (installation_id);


--
-- Name: marketplace_sync_state marketplace_sync_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_sync_state
    ADD CONSTRAINT marketplace_sync_state_pkey PRIMARY KEY (id);


--
-- Name: membership membership_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT membership_pkey PRIMARY KEY (id);


--
-- Name: notification notification_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_pkey PRIMARY KEY (id);


--
-- Name: notification_rule notification_rule_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rule
    ADD CONSTRAINT notification_rule_pkey PRIMARY KEY (id);


--
-- Name: notification_settings notification_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_settings
    ADD CONSTRAINT notification_settings_pkey PRIMARY KEY (id);


--
-- Name: notification_template notification_template_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_template
    ADD CONSTRAINT notification_template_pkey PRIMARY KEY (id);


--
-- Name: oauth_access_token oauth_access_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_access_token
    ADD CONSTRAINT oauth_access_token_pkey PRIMARY KEY (id);


--
-- Name: oauth_access_token oauth_access_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_access_token
    ADD CONSTRAINT oauth_access_token_token_hash_key UNIQUE (token_hash);


--
-- Name: oauth_authorization_code oauth_authorization_code_code_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_authorization_code
    ADD CONSTRAINT oauth_authorization_code_code_hash_key UNIQUE (code_hash);


--
-- Name: oauth_authorization_code oauth_authorization_code_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_authorization_code
    ADD CONSTRAINT oauth_authorization_code_pkey PRIMARY KEY (id);


--
-- Name: oauth_client oauth_client_client_id_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_client
    ADD CONSTRAINT oauth_client_client_id_key UNIQUE (client_id);


--
-- Name: oauth_client oauth_client_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_client
    ADD CONSTRAINT oauth_client_pkey PRIMARY KEY (id);


--
-- Name: oauth_installation oauth_installation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_installation
    ADD CONSTRAINT oauth_installation_pkey PRIMARY KEY (id);


--
-- Name: oauth_refresh_token oauth_refresh_token_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_token
    ADD CONSTRAINT oauth_refresh_token_pkey PRIMARY KEY (id);


--
-- Name: oauth_refresh_token oauth_refresh_token_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_token
    ADD CONSTRAINT oauth_refresh_token_token_hash_key UNIQUE (token_hash);


--
-- Name: object_tag object_tag_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.object_tag
    ADD CONSTRAINT object_tag_pkey PRIMARY KEY (id);


--
-- Name: order_item order_item_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_pkey PRIMARY KEY (id);


--
-- Name: order order_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_pkey PRIMARY KEY (id);


--
-- Name: order_status_change order_status_change_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_pkey PRIMARY KEY (id);


--
-- Name: order_status order_status_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status
    ADD CONSTRAINT order_status_pkey PRIMARY KEY (id);


--
-- Name: order_status_transition order_status_transition_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_transition
    ADD CONSTRAINT order_status_transition_pkey PRIMARY KEY (id);


--
-- Name: organization organization_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organization
    ADD CONSTRAINT organization_pkey PRIMARY KEY (id);


--
-- Name: organization organization_slug_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.organization
    ADD CONSTRAINT organization_slug_key UNIQUE (slug);


--
-- Name: outbox_event outbox_event_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_event
    ADD CONSTRAINT outbox_event_pkey PRIMARY KEY (id);


--
-- Name: payment payment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_pkey PRIMARY KEY (id);


--
-- Name: payment_refund payment_refund_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refund
    ADD CONSTRAINT payment_refund_pkey PRIMARY KEY (id);


--
-- Name: payment_settings payment_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_settings
    ADD CONSTRAINT payment_settings_pkey PRIMARY KEY (id);


--
-- Name: persisted_query persisted_query_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.persisted_query
    ADD CONSTRAINT persisted_query_pkey PRIMARY KEY (sha256);


--
-- Name: pipeline pipeline_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pipeline
    ADD CONSTRAINT pipeline_pkey PRIMARY KEY (id);


--
-- Name: plugin_installation plugin_installation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_installation
    ADD CONSTRAINT plugin_installation_pkey PRIMARY KEY (id);


--
-- Name: plugin_installation plugin_installation_webhook_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_installation
    ADD CONSTRAINT plugin_installation_webhook_token_hash_key UNIQUE (webhook_token_hash);


--
-- Name: plugin_webhook_delivery plugin_webhook_delivery_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_webhook_delivery
    ADD CONSTRAINT plugin_webhook_delivery_pkey PRIMARY KEY (id);


--
-- Name: price_change price_change_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.price_change
    ADD CONSTRAINT price_change_pkey PRIMARY KEY (id);


--
-- Name: product_category product_category_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_category
    ADD CONSTRAINT product_category_pkey PRIMARY KEY (id);


--
-- Name: product product_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product
    ADD CONSTRAINT product_pkey PRIMARY KEY (id);


--
-- Name: product_variant product_variant_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_variant
    ADD CONSTRAINT product_variant_pkey PRIMARY KEY (id);


--
-- Name: rfm_settings rfm_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rfm_settings
    ADD CONSTRAINT rfm_settings_pkey PRIMARY KEY (id);


--
-- Name: search_term search_term_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_term
    ADD CONSTRAINT search_term_pkey PRIMARY KEY (id);


--
-- Name: segment segment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT segment_pkey PRIMARY KEY (id);


--
-- Name: selfservice_bot_settings selfservice_bot_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_settings
    ADD CONSTRAINT selfservice_bot_settings_pkey PRIMARY KEY (id);


--
-- Name: selfservice_bot_turn selfservice_bot_turn_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT selfservice_bot_turn_pkey PRIMARY KEY (id);


--
-- Name: sequence sequence_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sequence
    ADD CONSTRAINT sequence_pkey PRIMARY KEY (id);


--
-- Name: shipment shipment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shipment
    ADD CONSTRAINT shipment_pkey PRIMARY KEY (id);


--
-- Name: sla_policy sla_policy_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sla_policy
    ADD CONSTRAINT sla_policy_pkey PRIMARY KEY (id);


--
-- Name: stage stage_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stage
    ADD CONSTRAINT stage_pkey PRIMARY KEY (id);


--
-- Name: stock_level stock_level_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_pkey PRIMARY KEY (id);


--
-- Name: stock_movement stock_movement_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_movement
    ADD CONSTRAINT stock_movement_pkey PRIMARY KEY (id);


--
-- Name: stock_reservation stock_reservation_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservation
    ADD CONSTRAINT stock_reservation_pkey PRIMARY KEY (id);


--
-- Name: survey survey_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_pkey PRIMARY KEY (id);


--
-- Name: survey_settings survey_settings_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey_settings
    ADD CONSTRAINT survey_settings_pkey PRIMARY KEY (id);


--
-- Name: survey survey_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_token_hash_key UNIQUE (token_hash);


--
-- Name: team team_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.team
    ADD CONSTRAINT team_pkey PRIMARY KEY (id);


--
-- Name: ticket_comment ticket_comment_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_comment
    ADD CONSTRAINT ticket_comment_pkey PRIMARY KEY (id);


--
-- Name: ticket ticket_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_pkey PRIMARY KEY (id);


--
-- Name: tortoise_migrations tortoise_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tortoise_migrations
    ADD CONSTRAINT tortoise_migrations_pkey PRIMARY KEY (id);


--
-- Name: tracked_link tracked_link_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_pkey PRIMARY KEY (id);


--
-- Name: tracked_link tracked_link_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_token_hash_key UNIQUE (token_hash);


--
-- Name: acquisition_cost uid_acquisition_organiz_ff02f1; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.acquisition_cost
    ADD CONSTRAINT uid_acquisition_organiz_ff02f1 UNIQUE (organization_id, source, month, currency);


--
-- Name: analytics_settings uid_analytics_s_organiz_859923; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analytics_settings
    ADD CONSTRAINT uid_analytics_s_organiz_859923 UNIQUE (organization_id);


--
-- Name: bulk_job_item uid_bulk_job_it_job_id_e7a551; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job_item
    ADD CONSTRAINT uid_bulk_job_it_job_id_e7a551 UNIQUE (job_id, "position");


--
-- Name: campaign_message uid_campaign_me_step_id_c700a7; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT uid_campaign_me_step_id_c700a7 UNIQUE (step_id, account_id, occurrence);


--
-- Name: campaign uid_campaign_organiz_e58c10; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign
    ADD CONSTRAINT uid_campaign_organiz_e58c10 UNIQUE (organization_id, kind);


--
-- Name: campaign_settings uid_campaign_se_organiz_773aa5; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_settings
    ADD CONSTRAINT uid_campaign_se_organiz_773aa5 UNIQUE (organization_id);


--
-- Name: campaign_step uid_campaign_st_campaig_7ea1d7; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_step
    ADD CONSTRAINT uid_campaign_st_campaig_7ea1d7 UNIQUE (campaign_id, "position");


--
-- Name: catalog_settings uid_catalog_set_organiz_cbcaa2; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_settings
    ADD CONSTRAINT uid_catalog_set_organiz_cbcaa2 UNIQUE (organization_id);


--
-- Name: channel_consent uid_channel_con_account_62685e; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_consent
    ADD CONSTRAINT uid_channel_con_account_62685e UNIQUE (account_id, channel);


--
-- Name: channel_route uid_channel_rou_organiz_589878; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_route
    ADD CONSTRAINT uid_channel_rou_organiz_589878 UNIQUE (organization_id, trigger, channel);


--
-- Name: conversation_message uid_conversatio_convers_2dbbc0; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_message
    ADD CONSTRAINT uid_conversatio_convers_2dbbc0 UNIQUE (conversation_id, direction, provider_message_id);


--
-- Name: conversation uid_conversatio_organiz_f9cddc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT uid_conversatio_organiz_f9cddc UNIQUE (organization_id, channel, installation_id, address);


--
-- Name: custom_field_definition uid_custom_fiel_organiz_218ec2; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_definition
    ADD CONSTRAINT uid_custom_fiel_organiz_218ec2 UNIQUE (organization_id, object_type, key);


--
-- Name: custom_role uid_custom_role_organiz_92bb62; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_role
    ADD CONSTRAINT uid_custom_role_organiz_92bb62 UNIQUE (organization_id, name);


--
-- Name: delivery_status_rule uid_delivery_st_organiz_560625; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_status_rule
    ADD CONSTRAINT uid_delivery_st_organiz_560625 UNIQUE (organization_id, carrier, carrier_status);


--
-- Name: export_chunk uid_export_chun_export__2332d1; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export_chunk
    ADD CONSTRAINT uid_export_chun_export__2332d1 UNIQUE (export_id, seq);


--
-- Name: fiscal_shift_close uid_fiscal_shif_install_21329e; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_shift_close
    ADD CONSTRAINT uid_fiscal_shif_install_21329e UNIQUE (installation_id, day);


--
-- Name: idempotency_key uid_idempotency_organiz_c6feaa; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT uid_idempotency_organiz_c6feaa UNIQUE (organization_id, operation, key);


--
-- Name: import_record uid_import_reco_organiz_eaca8a; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_record
    ADD CONSTRAINT uid_import_reco_organiz_eaca8a UNIQUE (organization_id, system, kind, external_id);


--
-- Name: marketplace_order_link uid_marketplace_install_fa97fc; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT uid_marketplace_install_fa97fc UNIQUE (installation_id, external_id);


--
-- Name: marketplace_push uid_marketplace_order_i_36ab53; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_push
    ADD CONSTRAINT uid_marketplace_order_i_36ab53 UNIQUE (order_id, event_id);


--
-- Name: membership uid_membership_organiz_5819f1; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT uid_membership_organiz_5819f1 UNIQUE (organization_id, user_id);


--
-- Name: membership uid_membership_organiz_b24131; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT uid_membership_organiz_b24131 UNIQUE (organization_id, phone_extension);


--
-- Name: notification uid_notificatio_order_i_8969ab; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT uid_notificatio_order_i_8969ab UNIQUE (order_id, source_event_id, "position");


--
-- Name: notification_settings uid_notificatio_organiz_307a46; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_settings
    ADD CONSTRAINT uid_notificatio_organiz_307a46 UNIQUE (organization_id);


--
-- Name: notification_template uid_notificatio_organiz_427444; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_template
    ADD CONSTRAINT uid_notificatio_organiz_427444 UNIQUE (organization_id, trigger, channel, locale);


--
-- Name: notification_rule uid_notificatio_organiz_d36db7; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rule
    ADD CONSTRAINT uid_notificatio_organiz_d36db7 UNIQUE (organization_id, trigger);


--
-- Name: notification uid_notificatio_survey__dbbfc4; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT uid_notificatio_survey__dbbfc4 UNIQUE (survey_id, "position");


--
-- Name: oauth_installation uid_oauth_insta_client__7cfd72; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_installation
    ADD CONSTRAINT uid_oauth_insta_client__7cfd72 UNIQUE (client_id, organization_id);


--
-- Name: order uid_order_organiz_37938b; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT uid_order_organiz_37938b UNIQUE (organization_id, source, external_id);


--
-- Name: order uid_order_organiz_afc4ce; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT uid_order_organiz_afc4ce UNIQUE (organization_id, number);


--
-- Name: order_status_transition uid_order_statu_from_st_cd187f; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_transition
    ADD CONSTRAINT uid_order_statu_from_st_cd187f UNIQUE (from_status_id, to_status_id);


--
-- Name: order_status uid_order_statu_organiz_35a29a; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status
    ADD CONSTRAINT uid_order_statu_organiz_35a29a UNIQUE (organization_id, code);


--
-- Name: payment_settings uid_payment_set_organiz_f2f94e; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_settings
    ADD CONSTRAINT uid_payment_set_organiz_f2f94e UNIQUE (organization_id);


--
-- Name: plugin_installation uid_plugin_inst_organiz_14e9f4; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_installation
    ADD CONSTRAINT uid_plugin_inst_organiz_14e9f4 UNIQUE (organization_id, plugin, label);


--
-- Name: plugin_webhook_delivery uid_plugin_webh_install_38e272; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_webhook_delivery
    ADD CONSTRAINT uid_plugin_webh_install_38e272 UNIQUE (installation_id, dedupe_key);


--
-- Name: product_variant uid_product_var_organiz_889e9d; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_variant
    ADD CONSTRAINT uid_product_var_organiz_889e9d UNIQUE (organization_id, sku);


--
-- Name: rfm_settings uid_rfm_setting_organiz_114cb6; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rfm_settings
    ADD CONSTRAINT uid_rfm_setting_organiz_114cb6 UNIQUE (organization_id);


--
-- Name: segment uid_segment_organiz_d98756; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT uid_segment_organiz_d98756 UNIQUE (organization_id, name);


--
-- Name: selfservice_bot_turn uid_selfservice_message_902e20; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT uid_selfservice_message_902e20 UNIQUE (message_id);


--
-- Name: selfservice_bot_settings uid_selfservice_organiz_30088f; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_settings
    ADD CONSTRAINT uid_selfservice_organiz_30088f UNIQUE (organization_id);


--
-- Name: sequence uid_sequence_organiz_911009; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sequence
    ADD CONSTRAINT uid_sequence_organiz_911009 UNIQUE (organization_id, name);


--
-- Name: shipment uid_shipment_organiz_7f37b7; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shipment
    ADD CONSTRAINT uid_shipment_organiz_7f37b7 UNIQUE (organization_id, carrier, waybill_number);


--
-- Name: sla_policy uid_sla_policy_organiz_fe68f8; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sla_policy
    ADD CONSTRAINT uid_sla_policy_organiz_fe68f8 UNIQUE (organization_id, priority);


--
-- Name: stock_level uid_stock_level_variant_296427; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT uid_stock_level_variant_296427 UNIQUE (variant_id, warehouse_id);


--
-- Name: survey uid_survey_order_i_35a5ac; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT uid_survey_order_i_35a5ac UNIQUE (order_id);


--
-- Name: survey_settings uid_survey_sett_organiz_3ffca2; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey_settings
    ADD CONSTRAINT uid_survey_sett_organiz_3ffca2 UNIQUE (organization_id);


--
-- Name: survey uid_survey_ticket__54a9a8; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT uid_survey_ticket__54a9a8 UNIQUE (ticket_id);


--
-- Name: team uid_team_organiz_e46d03; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.team
    ADD CONSTRAINT uid_team_organiz_e46d03 UNIQUE (organization_id, name);


--
-- Name: ticket uid_ticket_organiz_61a4b9; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT uid_ticket_organiz_61a4b9 UNIQUE (organization_id, number);


--
-- Name: tortoise_migrations uid_tortoise_mi_app_3803a5; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tortoise_migrations
    ADD CONSTRAINT uid_tortoise_mi_app_3803a5 UNIQUE (app, name);


--
-- Name: undeliverable_email uid_undeliverab_organiz_312b41; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.undeliverable_email
    ADD CONSTRAINT uid_undeliverab_organiz_312b41 UNIQUE (organization_id, address);


--
-- Name: warehouse uid_warehouse_organiz_d2ad55; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT uid_warehouse_organiz_d2ad55 UNIQUE (organization_id, code);


--
-- Name: webchat_widget uid_webchat_wid_organiz_509f2b; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_widget
    ADD CONSTRAINT uid_webchat_wid_organiz_509f2b UNIQUE (organization_id);


--
-- Name: webhook_message uid_webhook_mes_endpoin_91faa7; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_message
    ADD CONSTRAINT uid_webhook_mes_endpoin_91faa7 UNIQUE (endpoint_id, event_id);


--
-- Name: undeliverable_email undeliverable_email_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.undeliverable_email
    ADD CONSTRAINT undeliverable_email_pkey PRIMARY KEY (id);


--
-- Name: user user_email_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."user"
    ADD CONSTRAINT user_email_key UNIQUE (email);


--
-- Name: user user_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."user"
    ADD CONSTRAINT user_pkey PRIMARY KEY (id);


--
-- Name: warehouse warehouse_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT warehouse_pkey PRIMARY KEY (id);


--
-- Name: webchat_visitor webchat_visitor_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_visitor
    ADD CONSTRAINT webchat_visitor_pkey PRIMARY KEY (id);


--
-- Name: webchat_visitor webchat_visitor_token_hash_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_visitor
    ADD CONSTRAINT webchat_visitor_token_hash_key UNIQUE (token_hash);


--
-- Name: webchat_widget webchat_widget_key_key; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_widget
    ADD CONSTRAINT webchat_widget_key_key UNIQUE (key);


--
-- Name: webchat_widget webchat_widget_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_widget
    ADD CONSTRAINT webchat_widget_pkey PRIMARY KEY (id);


--
-- Name: webhook_attempt webhook_attempt_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempt
    ADD CONSTRAINT webhook_attempt_pkey PRIMARY KEY (id);


--
-- Name: webhook_endpoint webhook_endpoint_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoint
    ADD CONSTRAINT webhook_endpoint_pkey PRIMARY KEY (id);


--
-- Name: webhook_message webhook_message_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_message
    ADD CONSTRAINT webhook_message_pkey PRIMARY KEY (id);


--
-- Name: idx_account_created_028865; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_created_028865 ON public.account USING btree (created_at);


--
-- Name: idx_account_ide_account_0cc877; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_ide_account_0cc877 ON public.account_identifier USING btree (account_id);


--
-- Name: idx_account_ide_created_199fcc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_ide_created_199fcc ON public.account_identifier USING btree (created_at);


--
-- Name: idx_account_ide_organiz_3cfc8e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_ide_organiz_3cfc8e ON public.account_identifier USING btree (organization_id, kind, value);


--
-- Name: idx_account_name_d49e11; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_name_d49e11 ON public.account USING btree (name);


--
-- Name: idx_account_organiz_8f9288; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_account_organiz_8f9288 ON public.account USING btree (organization_id, updated_at);


--
-- Name: idx_acquisition_created_a11dc5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_acquisition_created_a11dc5 ON public.acquisition_cost USING btree (created_at);


--
-- Name: idx_activity_created_5a6493; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_activity_created_5a6493 ON public.activity USING btree (created_at);


--
-- Name: idx_activity_occurre_cb5579; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_activity_occurre_cb5579 ON public.activity USING btree (occurred_at);


--
-- Name: idx_activity_order_i_fb6081; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_activity_order_i_fb6081 ON public.activity USING btree (order_id);


--
-- Name: idx_activity_organiz_b9fb7d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_activity_organiz_b9fb7d ON public.activity USING btree (organization_id, account_id, occurred_at);


--
-- Name: idx_activity_organiz_de4b7b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_activity_organiz_de4b7b ON public.activity USING btree (organization_id, updated_at);


--
-- Name: idx_analytics_s_created_012c89; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_analytics_s_created_012c89 ON public.analytics_settings USING btree (created_at);


--
-- Name: idx_api_key_created_434c90; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_api_key_created_434c90 ON public.api_key USING btree (created_at);


--
-- Name: idx_attachment_created_846439; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_attachment_created_846439 ON public.attachment USING btree (created_at);


--
-- Name: idx_attachment_deleted_ff589b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_attachment_deleted_ff589b ON public.attachment USING btree (deleted_at);


--
-- Name: idx_attachment_organiz_b34dd1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_attachment_organiz_b34dd1 ON public.attachment USING btree (organization_id, object_type, object_id);


--
-- Name: idx_audit_entry_created_817289; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_audit_entry_created_817289 ON public.audit_entry USING btree (created_at);


--
-- Name: idx_audit_entry_entity__4421ba; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_audit_entry_entity__4421ba ON public.audit_entry USING btree (entity_id);


--
-- Name: idx_auth_token_created_ba9a28; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_auth_token_created_ba9a28 ON public.auth_token USING btree (created_at);


--
-- Name: idx_bulk_job_created_38e833; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_bulk_job_created_38e833 ON public.bulk_job USING btree (created_at);


--
-- Name: idx_bulk_job_it_created_0ee3e4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_bulk_job_it_created_0ee3e4 ON public.bulk_job_item USING btree (created_at);


--
-- Name: idx_bulk_job_it_job_id_012d5d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_bulk_job_it_job_id_012d5d ON public.bulk_job_item USING btree (job_id, state);


--
-- Name: idx_bulk_job_organiz_9f28e5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_bulk_job_organiz_9f28e5 ON public.bulk_job USING btree (organization_id, created_at);


--
-- Name: idx_campaign_created_1d9882; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_campaign_created_1d9882 ON public.campaign USING btree (created_at);


--
-- Name: idx_campaign_me_created_f5ab20; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_campaign_me_created_f5ab20 ON public.campaign_message USING btree (created_at);


--
-- Name: idx_campaign_se_created_ed2151; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_campaign_se_created_ed2151 ON public.campaign_settings USING btree (created_at);


--
-- Name: idx_campaign_st_created_8cefc3; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_campaign_st_created_8cefc3 ON public.campaign_step USING btree (created_at);


--
-- Name: idx_catalog_set_created_720f52; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_catalog_set_created_720f52 ON public.catalog_settings USING btree (created_at);


--
-- Name: idx_channel_con_created_4b9277; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_channel_con_created_4b9277 ON public.channel_consent USING btree (created_at);


--
-- Name: idx_channel_rou_created_218757; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_channel_rou_created_218757 ON public.channel_route USING btree (created_at);


--
-- Name: idx_contact_account_63da3d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_account_63da3d ON public.contact USING btree (account_id, name);


--
-- Name: idx_contact_created_edee29; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_created_edee29 ON public.contact USING btree (created_at);


--
-- Name: idx_contact_ide_contact_e04231; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_ide_contact_e04231 ON public.contact_identifier USING btree (contact_id);


--
-- Name: idx_contact_ide_created_8b6f5f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_ide_created_8b6f5f ON public.contact_identifier USING btree (created_at);


--
-- Name: idx_contact_ide_organiz_3e3d21; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_ide_organiz_3e3d21 ON public.contact_identifier USING btree (organization_id, kind, value);


--
-- Name: idx_contact_organiz_fc9087; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_contact_organiz_fc9087 ON public.contact USING btree (organization_id, updated_at);


--
-- Name: idx_conversatio_account_680f13; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_account_680f13 ON public.conversation USING btree (account_id, channel);


--
-- Name: idx_conversatio_convers_854a9d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_convers_854a9d ON public.conversation_message USING btree (conversation_id, created_at);


--
-- Name: idx_conversatio_created_7f8ebc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_created_7f8ebc ON public.conversation USING btree (created_at);


--
-- Name: idx_conversatio_created_bafbe7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_created_bafbe7 ON public.conversation_message USING btree (created_at);


--
-- Name: idx_conversatio_organiz_52311d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_organiz_52311d ON public.conversation USING btree (organization_id, last_message_at);


--
-- Name: idx_conversatio_status_a0192d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_conversatio_status_a0192d ON public.conversation USING btree (status);


--
-- Name: idx_custom_fiel_created_90d2c3; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_fiel_created_90d2c3 ON public.custom_field_definition USING btree (created_at);


--
-- Name: idx_custom_fiel_created_f2b41d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_fiel_created_f2b41d ON public.custom_field_value USING btree (created_at);


--
-- Name: idx_custom_fiel_definit_eb24d0; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_fiel_definit_eb24d0 ON public.custom_field_value USING btree (definition_id, text_key);


--
-- Name: idx_custom_fiel_definit_f5b02b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_fiel_definit_f5b02b ON public.custom_field_value USING btree (definition_id, number_key);


--
-- Name: idx_custom_fiel_object__ffac48; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_fiel_object__ffac48 ON public.custom_field_value USING btree (object_id, definition_id);


--
-- Name: idx_custom_role_created_d5e10f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_custom_role_created_d5e10f ON public.custom_role USING btree (created_at);


--
-- Name: idx_customer_fi_created_b083a7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_fi_created_b083a7 ON public.customer_figures USING btree (created_at);


--
-- Name: idx_customer_fi_organiz_1eab31; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_fi_organiz_1eab31 ON public.customer_figures USING btree (organization_id, revenue_cents);


--
-- Name: idx_customer_fi_organiz_2a56af; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_fi_organiz_2a56af ON public.customer_figures USING btree (organization_id, rfm_group);


--
-- Name: idx_customer_fi_organiz_470141; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_fi_organiz_470141 ON public.customer_figures USING btree (organization_id, last_order_at);


--
-- Name: idx_customer_fi_organiz_a9149d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_fi_organiz_a9149d ON public.customer_figures USING btree (organization_id, order_count);


--
-- Name: idx_customer_ma_created_01c13d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_customer_ma_created_01c13d ON public.customer_marketing USING btree (created_at);


--
-- Name: idx_deal_account_c55d5b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_account_c55d5b ON public.deal USING btree (account_id, created_at);


--
-- Name: idx_deal_created_7a13d0; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_created_7a13d0 ON public.deal USING btree (created_at);


--
-- Name: idx_deal_organiz_0381e3; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_organiz_0381e3 ON public.deal USING btree (organization_id, updated_at);


--
-- Name: idx_deal_organiz_20e3c5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_organiz_20e3c5 ON public.deal USING btree (organization_id, created_at);


--
-- Name: idx_deal_stage__created_c8d9af; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_stage__created_c8d9af ON public.deal_stage_change USING btree (created_at);


--
-- Name: idx_deal_stage__deal_id_866238; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_deal_stage__deal_id_866238 ON public.deal_stage_change USING btree (deal_id, created_at);


--
-- Name: idx_delivery_st_created_b52408; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_delivery_st_created_b52408 ON public.delivery_status_rule USING btree (created_at);


--
-- Name: idx_email_inbou_created_a787bb; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_email_inbou_created_a787bb ON public.email_inbound_mailbox USING btree (created_at);


--
-- Name: idx_email_threa_convers_acffc6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_email_threa_convers_acffc6 ON public.email_thread_message USING btree (conversation_id, created_at);


--
-- Name: idx_email_threa_created_5136cf; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_email_threa_created_5136cf ON public.email_thread_message USING btree (created_at);


--
-- Name: idx_email_threa_organiz_262002; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_email_threa_organiz_262002 ON public.email_thread_message USING btree (organization_id, message_id_header);


--
-- Name: idx_email_unsub_created_f7144c; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_email_unsub_created_f7144c ON public.email_unsubscribe_link USING btree (created_at);


--
-- Name: idx_export_created_5670b3; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_export_created_5670b3 ON public.export USING btree (created_at);


--
-- Name: idx_export_expires_c4e292; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_export_expires_c4e292 ON public.export USING btree (expires_at);


--
-- Name: idx_fiscal_rece_created_100c9c; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fiscal_rece_created_100c9c ON public.fiscal_receipt USING btree (created_at);


--
-- Name: idx_fiscal_rece_payment_bab42c; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fiscal_rece_payment_bab42c ON public.fiscal_receipt USING btree (payment_id, created_at);


--
-- Name: idx_fiscal_rece_status_71284f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fiscal_rece_status_71284f ON public.fiscal_receipt USING btree (status, created_at);


--
-- Name: idx_fiscal_shif_created_19fc53; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_fiscal_shif_created_19fc53 ON public.fiscal_shift_close USING btree (created_at);


--
-- Name: idx_import_batc_created_770ce1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_import_batc_created_770ce1 ON public.import_batch USING btree (created_at);


--
-- Name: idx_import_reco_created_fdb9c4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_import_reco_created_fdb9c4 ON public.import_record USING btree (created_at);


--
-- Name: idx_job_run_name_9b8ee9; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_job_run_name_9b8ee9 ON public.job_run USING btree (name);


--
-- Name: idx_job_run_run_aft_9c84f2; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_job_run_run_aft_9c84f2 ON public.job_run USING btree (run_after);


--
-- Name: idx_job_run_state_01a467; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_job_run_state_01a467 ON public.job_run USING btree (state);


--
-- Name: idx_marketplace_created_239756; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_marketplace_created_239756 ON public.marketplace_sync_state USING btree (created_at);


--
-- Name: idx_marketplace_created_7e0df6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_marketplace_created_7e0df6 ON public.marketplace_order_link USING btree (created_at);


--
-- Name: idx_marketplace_created_eb2456; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_marketplace_created_eb2456 ON public.marketplace_push USING btree (created_at);


--
-- Name: idx_marketplace_organiz_3afea5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_marketplace_organiz_3afea5 ON public.marketplace_push USING btree (organization_id, created_at);


--
-- Name: idx_membership_created_3ded61; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_membership_created_3ded61 ON public.membership USING btree (created_at);


--
-- Name: idx_notificatio_created_00143a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_created_00143a ON public.notification_template USING btree (created_at);


--
-- Name: idx_notificatio_created_0db009; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_created_0db009 ON public.notification USING btree (created_at);


--
-- Name: idx_notificatio_created_a27eff; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_created_a27eff ON public.notification_rule USING btree (created_at);


--
-- Name: idx_notificatio_created_fa0f8f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_created_fa0f8f ON public.notification_settings USING btree (created_at);


--
-- Name: idx_notificatio_provide_7556dd; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_provide_7556dd ON public.notification USING btree (provider_message_id);


--
-- Name: idx_notificatio_state_8da97a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_notificatio_state_8da97a ON public.notification USING btree (state);


--
-- Name: idx_oauth_acces_created_a2f89e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_acces_created_a2f89e ON public.oauth_access_token USING btree (created_at);


--
-- Name: idx_oauth_acces_expires_547528; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_acces_expires_547528 ON public.oauth_access_token USING btree (expires_at);


--
-- Name: idx_oauth_autho_created_70a58e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_autho_created_70a58e ON public.oauth_authorization_code USING btree (created_at);


--
-- Name: idx_oauth_clien_created_1bca62; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_clien_created_1bca62 ON public.oauth_client USING btree (created_at);


--
-- Name: idx_oauth_insta_created_4315ff; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_insta_created_4315ff ON public.oauth_installation USING btree (created_at);


--
-- Name: idx_oauth_refre_created_3d823b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_refre_created_3d823b ON public.oauth_refresh_token USING btree (created_at);


--
-- Name: idx_oauth_refre_family_9c60f3; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_oauth_refre_family_9c60f3 ON public.oauth_refresh_token USING btree (family);


--
-- Name: idx_object_tag_created_8d068a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_object_tag_created_8d068a ON public.object_tag USING btree (created_at);


--
-- Name: idx_object_tag_object__47b50f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_object_tag_object__47b50f ON public.object_tag USING btree (object_id);


--
-- Name: idx_object_tag_organiz_a48cd2; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_object_tag_organiz_a48cd2 ON public.object_tag USING btree (organization_id, object_type, tag);


--
-- Name: idx_order_account_1e1d6e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_account_1e1d6e ON public."order" USING btree (account_id, created_at);


--
-- Name: idx_order_created_a653c8; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_created_a653c8 ON public."order" USING btree (created_at);


--
-- Name: idx_order_item_created_14401b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_item_created_14401b ON public.order_item USING btree (created_at);


--
-- Name: idx_order_item_order_i_913461; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_item_order_i_913461 ON public.order_item USING btree (order_id, "position");


--
-- Name: idx_order_organiz_d3257d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_organiz_d3257d ON public."order" USING btree (organization_id, updated_at);


--
-- Name: idx_order_organiz_ea5337; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_organiz_ea5337 ON public."order" USING btree (organization_id, created_at);


--
-- Name: idx_order_source_eb89a7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_source_eb89a7 ON public."order" USING btree (source);


--
-- Name: idx_order_statu_created_009d4f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_statu_created_009d4f ON public.order_status USING btree (created_at);


--
-- Name: idx_order_statu_created_6cec23; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_statu_created_6cec23 ON public.order_status_transition USING btree (created_at);


--
-- Name: idx_order_statu_created_7d9479; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_statu_created_7d9479 ON public.order_status_change USING btree (created_at);


--
-- Name: idx_order_statu_order_i_186e9a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_statu_order_i_186e9a ON public.order_status_change USING btree (order_id, created_at);


--
-- Name: idx_order_waybill_178d29; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_order_waybill_178d29 ON public."order" USING btree (waybill_number);


--
-- Name: idx_organizatio_created_b87ef1; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_organizatio_created_b87ef1 ON public.organization USING btree (created_at);


--
-- Name: idx_outbox_even_created_6111d4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_outbox_even_created_6111d4 ON public.outbox_event USING btree (created_at);


--
-- Name: idx_outbox_even_topic_af0b55; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_outbox_even_topic_af0b55 ON public.outbox_event USING btree (topic);


--
-- Name: idx_payment_created_d56029; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_created_d56029 ON public.payment USING btree (created_at);


--
-- Name: idx_payment_install_9341a9; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_install_9341a9 ON public.payment USING btree (installation_id, provider_payment_id);


--
-- Name: idx_payment_order_i_2ca386; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_order_i_2ca386 ON public.payment USING btree (order_id, created_at);


--
-- Name: idx_payment_ref_created_792a92; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_ref_created_792a92 ON public.payment_refund USING btree (created_at);


--
-- Name: idx_payment_ref_payment_baea6a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_ref_payment_baea6a ON public.payment_refund USING btree (payment_id, created_at);


--
-- Name: idx_payment_set_created_7925e5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_payment_set_created_7925e5 ON public.payment_settings USING btree (created_at);


--
-- Name: idx_persisted_q_created_966c92; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_persisted_q_created_966c92 ON public.persisted_query USING btree (created_at);


--
-- Name: idx_pipeline_created_d4bbb6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_pipeline_created_d4bbb6 ON public.pipeline USING btree (created_at);


--
-- Name: idx_plugin_inst_created_88d706; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_plugin_inst_created_88d706 ON public.plugin_installation USING btree (created_at);


--
-- Name: idx_plugin_webh_created_a46744; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_plugin_webh_created_a46744 ON public.plugin_webhook_delivery USING btree (created_at);


--
-- Name: idx_plugin_webh_organiz_db81a7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_plugin_webh_organiz_db81a7 ON public.plugin_webhook_delivery USING btree (organization_id, created_at);


--
-- Name: idx_price_chang_created_68d2c5; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_price_chang_created_68d2c5 ON public.price_change USING btree (created_at);


--
-- Name: idx_price_chang_organiz_9bd92b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_price_chang_organiz_9bd92b ON public.price_change USING btree (organization_id, variant_id, created_at);


--
-- Name: idx_product_cat_created_43719b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_cat_created_43719b ON public.product_category USING btree (created_at);


--
-- Name: idx_product_cat_organiz_f5a1ee; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_cat_organiz_f5a1ee ON public.product_category USING btree (organization_id, parent_id);


--
-- Name: idx_product_created_9eb6f4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_created_9eb6f4 ON public.product USING btree (created_at);


--
-- Name: idx_product_organiz_5c1d74; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_organiz_5c1d74 ON public.product USING btree (organization_id, updated_at);


--
-- Name: idx_product_organiz_f2a45f; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_organiz_f2a45f ON public.product USING btree (organization_id, created_at);


--
-- Name: idx_product_var_barcode_46aa70; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_var_barcode_46aa70 ON public.product_variant USING btree (barcode);


--
-- Name: idx_product_var_created_612b70; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_var_created_612b70 ON public.product_variant USING btree (created_at);


--
-- Name: idx_product_var_organiz_fdf2cd; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_var_organiz_fdf2cd ON public.product_variant USING btree (organization_id, created_at);


--
-- Name: idx_product_var_product_a784bc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_product_var_product_a784bc ON public.product_variant USING btree (product_id, "position");


--
-- Name: idx_rfm_setting_created_9c9370; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_rfm_setting_created_9c9370 ON public.rfm_settings USING btree (created_at);


--
-- Name: idx_search_term_definit_6ce49c; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_search_term_definit_6ce49c ON public.search_term USING btree (definition_id);


--
-- Name: idx_search_term_organiz_3681cd; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_search_term_organiz_3681cd ON public.search_term USING btree (organization_id, kind, object_id);


--
-- Name: idx_search_term_organiz_a72d48; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_search_term_organiz_a72d48 ON public.search_term USING btree (organization_id, value);


--
-- Name: idx_segment_created_9eb49b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_segment_created_9eb49b ON public.segment USING btree (created_at);


--
-- Name: idx_selfservice_convers_7f81dc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_selfservice_convers_7f81dc ON public.selfservice_bot_turn USING btree (conversation_id, created_at);


--
-- Name: idx_selfservice_created_1a6106; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_selfservice_created_1a6106 ON public.selfservice_bot_settings USING btree (created_at);


--
-- Name: idx_selfservice_created_97f81e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_selfservice_created_97f81e ON public.selfservice_bot_turn USING btree (created_at);


--
-- Name: idx_shipment_created_9c3e91; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_shipment_created_9c3e91 ON public.shipment USING btree (created_at);


--
-- Name: idx_shipment_install_bf9a71; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_shipment_install_bf9a71 ON public.shipment USING btree (installation_id, closed);


--
-- Name: idx_shipment_order_i_1dcfad; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_shipment_order_i_1dcfad ON public.shipment USING btree (order_id, created_at);


--
-- Name: idx_sla_policy_created_d0f547; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_sla_policy_created_d0f547 ON public.sla_policy USING btree (created_at);


--
-- Name: idx_stage_created_d41644; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stage_created_d41644 ON public.stage USING btree (created_at);


--
-- Name: idx_stage_pipelin_31cb1a; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stage_pipelin_31cb1a ON public.stage USING btree (pipeline_id, "position");


--
-- Name: idx_stock_level_created_d49c68; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_level_created_d49c68 ON public.stock_level USING btree (created_at);


--
-- Name: idx_stock_movem_created_cfacba; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_movem_created_cfacba ON public.stock_movement USING btree (created_at);


--
-- Name: idx_stock_movem_order_i_c10c82; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_movem_order_i_c10c82 ON public.stock_movement USING btree (order_id, created_at);


--
-- Name: idx_stock_movem_organiz_3d76c7; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_movem_organiz_3d76c7 ON public.stock_movement USING btree (organization_id, created_at);


--
-- Name: idx_stock_movem_variant_24446e; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_movem_variant_24446e ON public.stock_movement USING btree (variant_id, created_at);


--
-- Name: idx_stock_reser_created_681e7d; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_reser_created_681e7d ON public.stock_reservation USING btree (created_at);


--
-- Name: idx_stock_reser_order_i_8b65ad; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_reser_order_i_8b65ad ON public.stock_reservation USING btree (order_id, state);


--
-- Name: idx_stock_reser_variant_9a4837; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_stock_reser_variant_9a4837 ON public.stock_reservation USING btree (variant_id, state);


--
-- Name: idx_survey_answere_7e3cf4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_survey_answere_7e3cf4 ON public.survey USING btree (answered_at);


--
-- Name: idx_survey_created_f9c277; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_survey_created_f9c277 ON public.survey USING btree (created_at);


--
-- Name: idx_survey_organiz_b8fc56; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_survey_organiz_b8fc56 ON public.survey USING btree (organization_id, answered_at);


--
-- Name: idx_survey_sett_created_e5b7e6; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_survey_sett_created_e5b7e6 ON public.survey_settings USING btree (created_at);


--
-- Name: idx_team_created_09b016; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_team_created_09b016 ON public.team USING btree (created_at);


--
-- Name: idx_ticket_account_049b27; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_account_049b27 ON public.ticket USING btree (account_id, created_at);


--
-- Name: idx_ticket_comm_created_3db4a4; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_comm_created_3db4a4 ON public.ticket_comment USING btree (created_at);


--
-- Name: idx_ticket_comm_ticket__b416cd; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_comm_ticket__b416cd ON public.ticket_comment USING btree (ticket_id, created_at);


--
-- Name: idx_ticket_created_ad5b9c; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_created_ad5b9c ON public.ticket USING btree (created_at);


--
-- Name: idx_ticket_organiz_26542b; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_organiz_26542b ON public.ticket USING btree (organization_id, updated_at);


--
-- Name: idx_ticket_status_f3afba; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_ticket_status_f3afba ON public.ticket USING btree (status);


--
-- Name: idx_tracked_lin_campaig_9607e8; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_tracked_lin_campaig_9607e8 ON public.tracked_link USING btree (campaign_message_id);


--
-- Name: idx_tracked_lin_created_896e92; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_tracked_lin_created_896e92 ON public.tracked_link USING btree (created_at);


--
-- Name: idx_tracked_lin_notific_320288; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_tracked_lin_notific_320288 ON public.tracked_link USING btree (notification_id);


--
-- Name: idx_undeliverab_created_37a920; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_undeliverab_created_37a920 ON public.undeliverable_email USING btree (created_at);


--
-- Name: idx_user_created_b19d59; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_user_created_b19d59 ON public."user" USING btree (created_at);


--
-- Name: idx_warehouse_created_ff91ff; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_warehouse_created_ff91ff ON public.warehouse USING btree (created_at);


--
-- Name: idx_webchat_vis_created_6a1497; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webchat_vis_created_6a1497 ON public.webchat_visitor USING btree (created_at);


--
-- Name: idx_webchat_wid_created_e1acdc; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webchat_wid_created_e1acdc ON public.webchat_widget USING btree (created_at);


--
-- Name: idx_webhook_end_created_2dc576; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webhook_end_created_2dc576 ON public.webhook_endpoint USING btree (created_at);


--
-- Name: idx_webhook_mes_created_8a62a9; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webhook_mes_created_8a62a9 ON public.webhook_message USING btree (created_at);


--
-- Name: idx_webhook_mes_endpoin_6cfb00; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webhook_mes_endpoin_6cfb00 ON public.webhook_message USING btree (endpoint_id, status, created_at);


--
-- Name: idx_webhook_mes_status_78f018; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX idx_webhook_mes_status_78f018 ON public.webhook_message USING btree (status, next_attempt_at);


--
-- Name: outbox_event_undispatched; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX outbox_event_undispatched ON public.outbox_event USING btree (created_at, id) WHERE (dispatched_at IS NULL);


--
-- Name: search_term_value_trgm; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_term_value_trgm ON public.search_term USING gin (value public.gin_trgm_ops);


--
-- Name: account_identifier account_identifier_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_identifier
    ADD CONSTRAINT account_identifier_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: account_identifier account_identifier_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account_identifier
    ADD CONSTRAINT account_identifier_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: account account_merged_into_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_merged_into_id_fkey FOREIGN KEY (merged_into_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: account account_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: account account_owner_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.account
    ADD CONSTRAINT account_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: acquisition_cost acquisition_cost_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.acquisition_cost
    ADD CONSTRAINT acquisition_cost_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: activity activity_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: activity activity_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: activity activity_deal_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_deal_id_fkey FOREIGN KEY (deal_id) REFERENCES public.deal(id) ON DELETE SET NULL;


--
-- Name: activity activity_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE SET NULL;


--
-- Name: activity activity_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: activity activity_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.activity
    ADD CONSTRAINT activity_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;


--
-- Name: analytics_settings analytics_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.analytics_settings
    ADD CONSTRAINT analytics_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: api_key api_key_created_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key
    ADD CONSTRAINT api_key_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: api_key api_key_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.api_key
    ADD CONSTRAINT api_key_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: attachment attachment_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: attachment attachment_uploaded_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.attachment
    ADD CONSTRAINT attachment_uploaded_by_id_fkey FOREIGN KEY (uploaded_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: audit_entry audit_entry_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.audit_entry
    ADD CONSTRAINT audit_entry_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: auth_token auth_token_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.auth_token
    ADD CONSTRAINT auth_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: bulk_job_item bulk_job_item_job_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job_item
    ADD CONSTRAINT bulk_job_item_job_id_fkey FOREIGN KEY (job_id) REFERENCES public.bulk_job(id) ON DELETE CASCADE;


--
-- Name: bulk_job_item bulk_job_item_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job_item
    ADD CONSTRAINT bulk_job_item_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: bulk_job bulk_job_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job
    ADD CONSTRAINT bulk_job_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: bulk_job bulk_job_requested_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.bulk_job
    ADD CONSTRAINT bulk_job_requested_by_id_fkey FOREIGN KEY (requested_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: campaign_message campaign_message_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT campaign_message_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: campaign_message campaign_message_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT campaign_message_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: campaign_message campaign_message_step_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_message
    ADD CONSTRAINT campaign_message_step_id_fkey FOREIGN KEY (step_id) REFERENCES public.campaign_step(id) ON DELETE CASCADE;


--
-- Name: campaign campaign_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign
    ADD CONSTRAINT campaign_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: campaign campaign_segment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign
    ADD CONSTRAINT campaign_segment_id_fkey FOREIGN KEY (segment_id) REFERENCES public.segment(id) ON DELETE SET NULL;


--
-- Name: campaign_settings campaign_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_settings
    ADD CONSTRAINT campaign_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: campaign_step campaign_step_campaign_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_step
    ADD CONSTRAINT campaign_step_campaign_id_fkey FOREIGN KEY (campaign_id) REFERENCES public.campaign(id) ON DELETE CASCADE;


--
-- Name: campaign_step campaign_step_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.campaign_step
    ADD CONSTRAINT campaign_step_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: catalog_settings catalog_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.catalog_settings
    ADD CONSTRAINT catalog_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: channel_consent channel_consent_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_consent
    ADD CONSTRAINT channel_consent_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: channel_consent channel_consent_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_consent
    ADD CONSTRAINT channel_consent_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: channel_route channel_route_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_route
    ADD CONSTRAINT channel_route_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: channel_route channel_route_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.channel_route
    ADD CONSTRAINT channel_route_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: contact contact_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact
    ADD CONSTRAINT contact_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: contact_identifier contact_identifier_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact_identifier
    ADD CONSTRAINT contact_identifier_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contact(id) ON DELETE CASCADE;


--
-- Name: contact_identifier contact_identifier_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact_identifier
    ADD CONSTRAINT contact_identifier_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: contact contact_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.contact
    ADD CONSTRAINT contact_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: conversation conversation_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: conversation conversation_assignee_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: conversation conversation_deal_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_deal_id_fkey FOREIGN KEY (deal_id) REFERENCES public.deal(id) ON DELETE SET NULL;


--
-- Name: conversation conversation_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: conversation_message conversation_message_author_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_message
    ADD CONSTRAINT conversation_message_author_id_fkey FOREIGN KEY (author_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: conversation_message conversation_message_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_message
    ADD CONSTRAINT conversation_message_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversation(id) ON DELETE CASCADE;


--
-- Name: conversation_message conversation_message_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation_message
    ADD CONSTRAINT conversation_message_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: conversation conversation_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: conversation conversation_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.conversation
    ADD CONSTRAINT conversation_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE SET NULL;


--
-- Name: custom_field_definition custom_field_definition_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_definition
    ADD CONSTRAINT custom_field_definition_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: custom_field_value custom_field_value_definition_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_value
    ADD CONSTRAINT custom_field_value_definition_id_fkey FOREIGN KEY (definition_id) REFERENCES public.custom_field_definition(id) ON DELETE CASCADE;


--
-- Name: custom_field_value custom_field_value_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_field_value
    ADD CONSTRAINT custom_field_value_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: custom_role custom_role_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.custom_role
    ADD CONSTRAINT custom_role_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: customer_figures customer_figures_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_figures
    ADD CONSTRAINT customer_figures_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: customer_figures customer_figures_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_figures
    ADD CONSTRAINT customer_figures_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: customer_marketing customer_marketing_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_marketing
    ADD CONSTRAINT customer_marketing_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: customer_marketing customer_marketing_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.customer_marketing
    ADD CONSTRAINT customer_marketing_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: deal deal_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: deal deal_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contact(id) ON DELETE SET NULL;


--
-- Name: deal deal_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: deal deal_owner_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_owner_id_fkey FOREIGN KEY (owner_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: deal deal_pipeline_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_pipeline_id_fkey FOREIGN KEY (pipeline_id) REFERENCES public.pipeline(id) ON DELETE RESTRICT;


--
-- Name: deal_stage_change deal_stage_change_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: deal_stage_change deal_stage_change_deal_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_deal_id_fkey FOREIGN KEY (deal_id) REFERENCES public.deal(id) ON DELETE CASCADE;


--
-- Name: deal_stage_change deal_stage_change_from_stage_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_from_stage_id_fkey FOREIGN KEY (from_stage_id) REFERENCES public.stage(id) ON DELETE SET NULL;


--
-- Name: deal_stage_change deal_stage_change_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: deal_stage_change deal_stage_change_to_stage_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal_stage_change
    ADD CONSTRAINT deal_stage_change_to_stage_id_fkey FOREIGN KEY (to_stage_id) REFERENCES public.stage(id) ON DELETE CASCADE;


--
-- Name: deal deal_stage_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deal
    ADD CONSTRAINT deal_stage_id_fkey FOREIGN KEY (stage_id) REFERENCES public.stage(id) ON DELETE RESTRICT;


--
-- Name: delivery_status_rule delivery_status_rule_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.delivery_status_rule
    ADD CONSTRAINT delivery_status_rule_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: email_inbound_mailbox email_inbound_mailbox_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_inbound_mailbox
    ADD CONSTRAINT email_inbound_mailbox_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: email_inbound_mailbox email_inbound_mailbox_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_inbound_mailbox
    ADD CONSTRAINT email_inbound_mailbox_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: email_thread_message email_thread_message_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_thread_message
    ADD CONSTRAINT email_thread_message_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversation(id) ON DELETE CASCADE;


--
-- Name: email_thread_message email_thread_message_conversation_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_thread_message
    ADD CONSTRAINT email_thread_message_conversation_message_id_fkey FOREIGN KEY (conversation_message_id) REFERENCES public.conversation_message(id) ON DELETE CASCADE;


--
-- Name: email_thread_message email_thread_message_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_thread_message
    ADD CONSTRAINT email_thread_message_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: email_unsubscribe_link email_unsubscribe_link_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_unsubscribe_link
    ADD CONSTRAINT email_unsubscribe_link_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE CASCADE;


--
-- Name: email_unsubscribe_link email_unsubscribe_link_notification_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_unsubscribe_link
    ADD CONSTRAINT email_unsubscribe_link_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notification(id) ON DELETE SET NULL;


--
-- Name: email_unsubscribe_link email_unsubscribe_link_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.email_unsubscribe_link
    ADD CONSTRAINT email_unsubscribe_link_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: export_chunk export_chunk_export_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export_chunk
    ADD CONSTRAINT export_chunk_export_id_fkey FOREIGN KEY (export_id) REFERENCES public.export(id) ON DELETE CASCADE;


--
-- Name: export export_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export
    ADD CONSTRAINT export_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: export export_requested_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.export
    ADD CONSTRAINT export_requested_by_id_fkey FOREIGN KEY (requested_by_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: fiscal_receipt fiscal_receipt_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: fiscal_receipt fiscal_receipt_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: fiscal_receipt fiscal_receipt_payment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES public.payment(id) ON DELETE CASCADE;


--
-- Name: fiscal_receipt fiscal_receipt_refund_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_refund_id_fkey FOREIGN KEY (refund_id) REFERENCES public.payment_refund(id) ON DELETE CASCADE;


--
-- Name: fiscal_receipt fiscal_receipt_sale_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_receipt
    ADD CONSTRAINT fiscal_receipt_sale_id_fkey FOREIGN KEY (sale_id) REFERENCES public.fiscal_receipt(id) ON DELETE SET NULL;


--
-- Name: fiscal_shift_close fiscal_shift_close_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_shift_close
    ADD CONSTRAINT fiscal_shift_close_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: fiscal_shift_close fiscal_shift_close_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.fiscal_shift_close
    ADD CONSTRAINT fiscal_shift_close_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: idempotency_key idempotency_key_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.idempotency_key
    ADD CONSTRAINT idempotency_key_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: import_batch import_batch_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batch
    ADD CONSTRAINT import_batch_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: import_batch import_batch_requested_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_batch
    ADD CONSTRAINT import_batch_requested_by_id_fkey FOREIGN KEY (requested_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: import_record import_record_batch_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_record
    ADD CONSTRAINT import_record_batch_id_fkey FOREIGN KEY (batch_id) REFERENCES public.import_batch(id) ON DELETE CASCADE;


--
-- Name: import_record import_record_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.import_record
    ADD CONSTRAINT import_record_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: marketplace_order_link marketplace_order_link_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT marketplace_order_link_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: marketplace_order_link marketplace_order_link_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT marketplace_order_link_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: marketplace_order_link marketplace_order_link_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_order_link
    ADD CONSTRAINT marketplace_order_link_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: marketplace_push marketplace_push_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_push
    ADD CONSTRAINT marketplace_push_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: marketplace_push marketplace_push_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_push
    ADD CONSTRAINT marketplace_push_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: marketplace_push marketplace_push_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_push
    ADD CONSTRAINT marketplace_push_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: marketplace_sync_state marketplace_sync_state_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_sync_state
    ADD CONSTRAINT marketplace_sync_state_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: marketplace_sync_state marketplace_sync_state_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.marketplace_sync_state
    ADD CONSTRAINT marketplace_sync_state_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: membership membership_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT membership_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: membership membership_team_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT membership_team_id_fkey FOREIGN KEY (team_id) REFERENCES public.team(id) ON DELETE SET NULL;


--
-- Name: membership membership_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.membership
    ADD CONSTRAINT membership_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: notification notification_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: notification notification_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: notification notification_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: notification notification_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: notification_rule notification_rule_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_rule
    ADD CONSTRAINT notification_rule_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: notification_settings notification_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_settings
    ADD CONSTRAINT notification_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: notification notification_survey_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification
    ADD CONSTRAINT notification_survey_id_fkey FOREIGN KEY (survey_id) REFERENCES public.survey(id) ON DELETE CASCADE;


--
-- Name: notification_template notification_template_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.notification_template
    ADD CONSTRAINT notification_template_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: oauth_access_token oauth_access_token_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_access_token
    ADD CONSTRAINT oauth_access_token_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.oauth_client(id) ON DELETE CASCADE;


--
-- Name: oauth_access_token oauth_access_token_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_access_token
    ADD CONSTRAINT oauth_access_token_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.oauth_installation(id) ON DELETE CASCADE;


--
-- Name: oauth_access_token oauth_access_token_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_access_token
    ADD CONSTRAINT oauth_access_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: oauth_authorization_code oauth_authorization_code_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_authorization_code
    ADD CONSTRAINT oauth_authorization_code_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.oauth_client(id) ON DELETE CASCADE;


--
-- Name: oauth_authorization_code oauth_authorization_code_install_into_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_authorization_code
    ADD CONSTRAINT oauth_authorization_code_install_into_id_fkey FOREIGN KEY (install_into_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: oauth_authorization_code oauth_authorization_code_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_authorization_code
    ADD CONSTRAINT oauth_authorization_code_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: oauth_client oauth_client_created_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_client
    ADD CONSTRAINT oauth_client_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: oauth_client oauth_client_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_client
    ADD CONSTRAINT oauth_client_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: oauth_installation oauth_installation_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_installation
    ADD CONSTRAINT oauth_installation_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.oauth_client(id) ON DELETE CASCADE;


--
-- Name: oauth_installation oauth_installation_installed_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_installation
    ADD CONSTRAINT oauth_installation_installed_by_id_fkey FOREIGN KEY (installed_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: oauth_installation oauth_installation_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_installation
    ADD CONSTRAINT oauth_installation_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: oauth_refresh_token oauth_refresh_token_client_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_token
    ADD CONSTRAINT oauth_refresh_token_client_id_fkey FOREIGN KEY (client_id) REFERENCES public.oauth_client(id) ON DELETE CASCADE;


--
-- Name: oauth_refresh_token oauth_refresh_token_user_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.oauth_refresh_token
    ADD CONSTRAINT oauth_refresh_token_user_id_fkey FOREIGN KEY (user_id) REFERENCES public."user"(id) ON DELETE CASCADE;


--
-- Name: object_tag object_tag_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.object_tag
    ADD CONSTRAINT object_tag_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order order_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE RESTRICT;


--
-- Name: order_item order_item_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: order_item order_item_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order_item order_item_variant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_item
    ADD CONSTRAINT order_item_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES public.product_variant(id) ON DELETE SET NULL;


--
-- Name: order order_manager_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_manager_id_fkey FOREIGN KEY (manager_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: order order_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order_status_change order_status_change_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: order_status_change order_status_change_from_status_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_from_status_id_fkey FOREIGN KEY (from_status_id) REFERENCES public.order_status(id) ON DELETE SET NULL;


--
-- Name: order_status_change order_status_change_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: order_status_change order_status_change_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order_status_change order_status_change_to_status_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_change
    ADD CONSTRAINT order_status_change_to_status_id_fkey FOREIGN KEY (to_status_id) REFERENCES public.order_status(id) ON DELETE CASCADE;


--
-- Name: order order_status_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public."order"
    ADD CONSTRAINT order_status_id_fkey FOREIGN KEY (status_id) REFERENCES public.order_status(id) ON DELETE RESTRICT;


--
-- Name: order_status order_status_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status
    ADD CONSTRAINT order_status_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order_status_transition order_status_transition_from_status_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_transition
    ADD CONSTRAINT order_status_transition_from_status_id_fkey FOREIGN KEY (from_status_id) REFERENCES public.order_status(id) ON DELETE CASCADE;


--
-- Name: order_status_transition order_status_transition_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_transition
    ADD CONSTRAINT order_status_transition_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: order_status_transition order_status_transition_to_status_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.order_status_transition
    ADD CONSTRAINT order_status_transition_to_status_id_fkey FOREIGN KEY (to_status_id) REFERENCES public.order_status(id) ON DELETE CASCADE;


--
-- Name: outbox_event outbox_event_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.outbox_event
    ADD CONSTRAINT outbox_event_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: payment payment_created_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: payment payment_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: payment payment_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: payment payment_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment
    ADD CONSTRAINT payment_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: payment_refund payment_refund_actor_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refund
    ADD CONSTRAINT payment_refund_actor_id_fkey FOREIGN KEY (actor_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: payment_refund payment_refund_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refund
    ADD CONSTRAINT payment_refund_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: payment_refund payment_refund_payment_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_refund
    ADD CONSTRAINT payment_refund_payment_id_fkey FOREIGN KEY (payment_id) REFERENCES public.payment(id) ON DELETE CASCADE;


--
-- Name: payment_settings payment_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.payment_settings
    ADD CONSTRAINT payment_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: pipeline pipeline_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.pipeline
    ADD CONSTRAINT pipeline_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: plugin_installation plugin_installation_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_installation
    ADD CONSTRAINT plugin_installation_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: plugin_webhook_delivery plugin_webhook_delivery_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_webhook_delivery
    ADD CONSTRAINT plugin_webhook_delivery_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE CASCADE;


--
-- Name: plugin_webhook_delivery plugin_webhook_delivery_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.plugin_webhook_delivery
    ADD CONSTRAINT plugin_webhook_delivery_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: price_change price_change_changed_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.price_change
    ADD CONSTRAINT price_change_changed_by_id_fkey FOREIGN KEY (changed_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: price_change price_change_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.price_change
    ADD CONSTRAINT price_change_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: price_change price_change_variant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.price_change
    ADD CONSTRAINT price_change_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES public.product_variant(id) ON DELETE CASCADE;


--
-- Name: product product_category_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product
    ADD CONSTRAINT product_category_id_fkey FOREIGN KEY (category_id) REFERENCES public.product_category(id) ON DELETE SET NULL;


--
-- Name: product_category product_category_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_category
    ADD CONSTRAINT product_category_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: product_category product_category_parent_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_category
    ADD CONSTRAINT product_category_parent_id_fkey FOREIGN KEY (parent_id) REFERENCES public.product_category(id) ON DELETE SET NULL;


--
-- Name: product product_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product
    ADD CONSTRAINT product_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: product_variant product_variant_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_variant
    ADD CONSTRAINT product_variant_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: product_variant product_variant_product_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.product_variant
    ADD CONSTRAINT product_variant_product_id_fkey FOREIGN KEY (product_id) REFERENCES public.product(id) ON DELETE CASCADE;


--
-- Name: rfm_settings rfm_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.rfm_settings
    ADD CONSTRAINT rfm_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: search_term search_term_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search_term
    ADD CONSTRAINT search_term_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: segment segment_created_by_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT segment_created_by_id_fkey FOREIGN KEY (created_by_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: segment segment_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.segment
    ADD CONSTRAINT segment_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: selfservice_bot_settings selfservice_bot_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_settings
    ADD CONSTRAINT selfservice_bot_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: selfservice_bot_turn selfservice_bot_turn_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT selfservice_bot_turn_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversation(id) ON DELETE CASCADE;


--
-- Name: selfservice_bot_turn selfservice_bot_turn_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT selfservice_bot_turn_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.conversation_message(id) ON DELETE CASCADE;


--
-- Name: selfservice_bot_turn selfservice_bot_turn_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT selfservice_bot_turn_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: selfservice_bot_turn selfservice_bot_turn_reply_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.selfservice_bot_turn
    ADD CONSTRAINT selfservice_bot_turn_reply_id_fkey FOREIGN KEY (reply_id) REFERENCES public.conversation_message(id) ON DELETE SET NULL;


--
-- Name: sequence sequence_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sequence
    ADD CONSTRAINT sequence_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: shipment shipment_installation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shipment
    ADD CONSTRAINT shipment_installation_id_fkey FOREIGN KEY (installation_id) REFERENCES public.plugin_installation(id) ON DELETE SET NULL;


--
-- Name: shipment shipment_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shipment
    ADD CONSTRAINT shipment_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: shipment shipment_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.shipment
    ADD CONSTRAINT shipment_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: sla_policy sla_policy_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.sla_policy
    ADD CONSTRAINT sla_policy_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: stage stage_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stage
    ADD CONSTRAINT stage_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: stage stage_pipeline_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stage
    ADD CONSTRAINT stage_pipeline_id_fkey FOREIGN KEY (pipeline_id) REFERENCES public.pipeline(id) ON DELETE CASCADE;


--
-- Name: stock_level stock_level_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: stock_level stock_level_variant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES public.product_variant(id) ON DELETE CASCADE;


--
-- Name: stock_level stock_level_warehouse_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_level
    ADD CONSTRAINT stock_level_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE CASCADE;


--
-- Name: stock_movement stock_movement_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_movement
    ADD CONSTRAINT stock_movement_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE SET NULL;


--
-- Name: stock_movement stock_movement_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_movement
    ADD CONSTRAINT stock_movement_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: stock_movement stock_movement_variant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_movement
    ADD CONSTRAINT stock_movement_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES public.product_variant(id) ON DELETE CASCADE;


--
-- Name: stock_movement stock_movement_warehouse_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_movement
    ADD CONSTRAINT stock_movement_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE CASCADE;


--
-- Name: stock_reservation stock_reservation_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservation
    ADD CONSTRAINT stock_reservation_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: stock_reservation stock_reservation_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservation
    ADD CONSTRAINT stock_reservation_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: stock_reservation stock_reservation_variant_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservation
    ADD CONSTRAINT stock_reservation_variant_id_fkey FOREIGN KEY (variant_id) REFERENCES public.product_variant(id) ON DELETE CASCADE;


--
-- Name: stock_reservation stock_reservation_warehouse_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stock_reservation
    ADD CONSTRAINT stock_reservation_warehouse_id_fkey FOREIGN KEY (warehouse_id) REFERENCES public.warehouse(id) ON DELETE CASCADE;


--
-- Name: survey survey_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: survey survey_follow_up_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_follow_up_id_fkey FOREIGN KEY (follow_up_id) REFERENCES public.activity(id) ON DELETE SET NULL;


--
-- Name: survey survey_order_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_order_id_fkey FOREIGN KEY (order_id) REFERENCES public."order"(id) ON DELETE CASCADE;


--
-- Name: survey survey_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: survey_settings survey_settings_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey_settings
    ADD CONSTRAINT survey_settings_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: survey survey_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.survey
    ADD CONSTRAINT survey_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: team team_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.team
    ADD CONSTRAINT team_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: ticket ticket_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: ticket ticket_assignee_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_assignee_id_fkey FOREIGN KEY (assignee_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: ticket_comment ticket_comment_author_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_comment
    ADD CONSTRAINT ticket_comment_author_id_fkey FOREIGN KEY (author_id) REFERENCES public."user"(id) ON DELETE SET NULL;


--
-- Name: ticket_comment ticket_comment_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_comment
    ADD CONSTRAINT ticket_comment_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: ticket_comment ticket_comment_ticket_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket_comment
    ADD CONSTRAINT ticket_comment_ticket_id_fkey FOREIGN KEY (ticket_id) REFERENCES public.ticket(id) ON DELETE CASCADE;


--
-- Name: ticket ticket_contact_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_contact_id_fkey FOREIGN KEY (contact_id) REFERENCES public.contact(id) ON DELETE SET NULL;


--
-- Name: ticket ticket_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.ticket
    ADD CONSTRAINT ticket_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: tracked_link tracked_link_account_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_account_id_fkey FOREIGN KEY (account_id) REFERENCES public.account(id) ON DELETE SET NULL;


--
-- Name: tracked_link tracked_link_campaign_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_campaign_message_id_fkey FOREIGN KEY (campaign_message_id) REFERENCES public.campaign_message(id) ON DELETE CASCADE;


--
-- Name: tracked_link tracked_link_notification_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_notification_id_fkey FOREIGN KEY (notification_id) REFERENCES public.notification(id) ON DELETE CASCADE;


--
-- Name: tracked_link tracked_link_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.tracked_link
    ADD CONSTRAINT tracked_link_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: undeliverable_email undeliverable_email_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.undeliverable_email
    ADD CONSTRAINT undeliverable_email_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: warehouse warehouse_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.warehouse
    ADD CONSTRAINT warehouse_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: webchat_visitor webchat_visitor_conversation_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_visitor
    ADD CONSTRAINT webchat_visitor_conversation_id_fkey FOREIGN KEY (conversation_id) REFERENCES public.conversation(id) ON DELETE SET NULL;


--
-- Name: webchat_visitor webchat_visitor_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_visitor
    ADD CONSTRAINT webchat_visitor_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: webchat_visitor webchat_visitor_widget_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_visitor
    ADD CONSTRAINT webchat_visitor_widget_id_fkey FOREIGN KEY (widget_id) REFERENCES public.webchat_widget(id) ON DELETE CASCADE;


--
-- Name: webchat_widget webchat_widget_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webchat_widget
    ADD CONSTRAINT webchat_widget_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: webhook_attempt webhook_attempt_message_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_attempt
    ADD CONSTRAINT webhook_attempt_message_id_fkey FOREIGN KEY (message_id) REFERENCES public.webhook_message(id) ON DELETE CASCADE;


--
-- Name: webhook_endpoint webhook_endpoint_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_endpoint
    ADD CONSTRAINT webhook_endpoint_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- Name: webhook_message webhook_message_endpoint_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_message
    ADD CONSTRAINT webhook_message_endpoint_id_fkey FOREIGN KEY (endpoint_id) REFERENCES public.webhook_endpoint(id) ON DELETE CASCADE;


--
-- Name: webhook_message webhook_message_organization_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.webhook_message
    ADD CONSTRAINT webhook_message_organization_id_fkey FOREIGN KEY (organization_id) REFERENCES public.organization(id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


