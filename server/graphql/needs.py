"""What each root field of the API needs, appended to its description (``documented``) so the
schema itself says it: "Needs `orders:read`." or "Public.". tests/test_schema_permissions.py
checks that every root field is listed here and names real permissions. The checks themselves
live in the services, through ``Scope``; this table only documents them (docs/roles.md).

``write`` below is ``create`` and ``update`` together (settings are created and changed in one go).
"""

from __future__ import annotations

import re

PUBLIC = "Public."


def needs(*permissions: str, note: str = "") -> str:
    named = " and ".join(f"`{p}`" for p in permissions)
    return f"Needs {named}{note}."


QUERY: dict[str, str] = {
    "customFieldDefinitions": needs(
        "settings:read", note=", or the read permission of the object type (e.g. `orders:read` for ORDER fields)"
    ),
    "node": "Needs the read permission of the object's type (e.g. `orders:read` for an Order).",
    "me": PUBLIC,
    "members": needs("members:read"),
    "teams": needs("members:read"),
    "roles": PUBLIC,
    "permissions": PUBLIC,
    **dict.fromkeys(("accounts", "accountsAggregate", "account", "contacts"), needs("accounts:read")),
    **dict.fromkeys(("deals", "dealsAggregate", "deal"), needs("deals:read")),
    **dict.fromkeys(("pipelines", "pipeline"), needs("pipelines:read")),
    **dict.fromkeys(("orders", "ordersAggregate", "order"), needs("orders:read")),
    "orderStatuses": needs("order_statuses:read"),
    **dict.fromkeys(("tickets", "ticketsAggregate", "ticket", "slaPolicies"), needs("tickets:read")),
    **dict.fromkeys(("activities", "activity"), needs("activities:read")),
    **dict.fromkeys(("conversations", "conversation", "inboxSummary"), needs("conversations:read")),
    "selfServiceBot": needs("settings:read"),
    "auditEntries": needs("audit:read"),
    **dict.fromkeys(
        ("plugins", "pluginInstallations", "pluginInstallation", "marketplaceSyncStatus"), needs("settings:read")
    ),
    "marketplacePushes": needs("orders:read"),
    "callerLookup": needs("accounts:read", note="; orders, deals, tickets and activities need their read"),
    "liveCalls": needs("accounts:read", note="; orders, deals, tickets and activities need their read"),
    **dict.fromkeys(("deliveryCities", "deliveryBranches", "cashOnDeliveryReport"), needs("orders:read")),
    "deliveryStatusRules": needs("order_statuses:read"),
    "paymentSettings": needs("order_statuses:read"),
    **dict.fromkeys(
        (
            "products",
            "product",
            "productVariants",
            "productVariant",
            "productCategories",
            "warehouses",
            "stockMovements",
            "catalogSettings",
        ),
        needs("catalog:read"),
    ),
    **dict.fromkeys(
        ("notificationRules", "notificationTemplates", "notificationSettings", "channelRoutes"), needs("settings:read")
    ),
    **dict.fromkeys(("orderNotifications", "previewNotification"), needs("orders:read")),
    "emailDeliverability": needs("accounts:read"),
    "oauthApp": "Public: the application behind the request's OAuth token, null without one.",
    **dict.fromkeys(("oauthGrants", "oauthClients", "apiKeys"), needs("settings:write")),
    "partnerScopes": PUBLIC,
    **dict.fromkeys(("surveys", "surveyFigures"), needs("accounts:read")),
    "surveySettings": needs("settings:read"),
    "webChat": needs("settings:read"),
    "analytics": needs("analytics:read", "orders:read", note="; the support figures need only `tickets:read`"),
    **dict.fromkeys(("analyticsSettings", "acquisitionCosts", "campaignResults"), needs("analytics:read")),
    "rfmGroups": needs("accounts:read"),
    **dict.fromkeys(("rfmSettings", "campaigns", "campaignSettings"), needs("settings:read")),
    **dict.fromkeys(("segments", "segment"), needs("accounts:read")),
    "viewer": "Public: who the request's credential (session, OAuth token, API key) stands for; null without one.",
    **dict.fromkeys(("oauthInstallations", "webhookEndpoints", "webhookDeliveries"), needs("settings:write")),
    "webhookEventTypes": needs("settings:read"),
    "search": "Needs the read permission of each type searched (`accounts:read` for accounts and contacts, "
    "`orders:read`, `deals:read`, `tickets:read`); without `types`, the types the role cannot read are left out.",
    "changesSince": "Needs the read permission of each type asked for (e.g. `orders:read` for Order).",
    **dict.fromkeys(("importBatch", "importBatches"), needs("data:import")),
    **dict.fromkeys(("importPresets", "importFields"), PUBLIC),
    "exports": needs("data:export", note="; members only, each sees their own"),
    "duplicates": needs("accounts:read"),
    **dict.fromkeys(
        ("bulkJob", "bulkJobs"),
        "Needs the read permission of the job's object type (e.g. `orders:read`); lists the caller's jobs "
        "(their team's or everyone's with a team or all row scope).",
    ),
}

MUTATION: dict[str, str] = {
    **dict.fromkeys(("createCustomField", "updateCustomField", "archiveCustomField"), needs("settings:write")),
    "startImport": needs("data:import", note=", and the rights to create what the file holds"),
    "undoImport": needs("data:import", note=", and the rights to delete what the import made"),
    "login": PUBLIC,
    "logout": PUBLIC,
    "updateMyLocale": "Public: a signed-in person sets their own language; apps and API keys have none.",
    "updateOrganization": needs("settings:write"),
    **dict.fromkeys(("createMember", "createTeam", "createRole"), needs("members:create")),
    **dict.fromkeys(("updateMember", "updateRole"), needs("members:update")),
    "deleteRole": needs("members:delete"),
    **dict.fromkeys(("createAccount", "createContact", "createSegment"), needs("accounts:create")),
    **dict.fromkeys(
        (
            "updateAccount",
            "updateContact",
            "updateSegment",
            "setChannelConsent",
            "setCustomerMarketing",
            "clearUndeliverableEmail",
        ),
        needs("accounts:update"),
    ),
    **dict.fromkeys(("deleteAccount", "deleteContact", "deleteSegment"), needs("accounts:delete")),
    **dict.fromkeys(("mergeAccounts", "mergeContacts"), needs("accounts:update", "accounts:delete")),
    "bulkAction": "Needs the read permission of the object type, and for each item what the single change "
    "needs (e.g. `orders:update` to change status, `orders:delete` to delete).",
    "createDeal": needs("deals:create"),
    **dict.fromkeys(("updateDeal", "moveDealStage"), needs("deals:update")),
    "deleteDeal": needs("deals:delete"),
    **dict.fromkeys(("createPipeline", "createStage"), needs("pipelines:create")),
    **dict.fromkeys(("updatePipeline", "updateStage"), needs("pipelines:update")),
    **dict.fromkeys(("deletePipeline", "deleteStage"), needs("pipelines:delete")),
    "createOrder": needs(
        "orders:create", note="; a REFUNDED payment status also `orders:refund`, lines with `variantId` `catalog:read`"
    ),
    "updateOrder": needs(
        "orders:update",
        note="; setting payment status REFUNDED also `orders:refund`, lines with `variantId` `catalog:read`",
    ),
    **dict.fromkeys(
        ("changeOrderStatus", "createShipment", "registerShipment", "cancelShipment", "retryNotification"),
        needs("orders:update"),
    ),
    "deleteOrder": needs("orders:delete"),
    **dict.fromkeys(("createPaymentLink", "checkPaymentStatus"), needs("orders:update")),
    "refundPayment": needs("orders:refund"),
    "issueFiscalReceiptAgain": needs("orders:refund"),
    "setPaymentSettings": needs("order_statuses:update"),
    **dict.fromkeys(
        ("createProduct", "createProductVariant", "createProductCategory", "createWarehouse"), needs("catalog:create")
    ),
    **dict.fromkeys(
        (
            "updateProduct",
            "archiveProduct",
            "updateProductVariant",
            "updateProductCategory",
            "updateWarehouse",
            "setCatalogSettings",
        ),
        needs("catalog:update"),
    ),
    "adjustStock": needs("catalog:stock"),
    "createOrderStatus": needs("order_statuses:create"),
    **dict.fromkeys(
        ("updateOrderStatus", "setOrderStatusTransitions", "setDeliveryStatusRules"), needs("order_statuses:update")
    ),
    "deleteOrderStatus": needs("order_statuses:delete"),
    "createTicket": needs("tickets:create"),
    **dict.fromkeys(("updateTicket", "changeTicketStatus", "assignTicket", "commentOnTicket"), needs("tickets:update")),
    "deleteTicket": needs("tickets:delete"),
    **dict.fromkeys(
        (
            "replyToConversation",
            "assignConversation",
            "snoozeConversation",
            "closeConversation",
            "reopenConversation",
            "linkConversationToAccount",
            "giveConversationToBot",
        ),
        needs("conversations:update"),
    ),
    "markConversationRead": needs("conversations:read"),
    "configureWebChat": needs("settings:write"),
    "updateSelfServiceBot": needs("settings:write"),
    "convertConversationToTicket": needs("conversations:update", "tickets:create"),
    "convertConversationToDeal": needs("conversations:update", "deals:create"),
    "createActivity": needs("activities:create"),
    "clickToCall": needs("activities:create", note="; ringing another member's extension also `members:update`"),
    **dict.fromkeys(("updateActivity", "completeTask", "reopenTask"), needs("activities:update")),
    "deleteActivity": needs("activities:delete"),
    **dict.fromkeys(
        (
            "installPlugin",
            "configurePlugin",
            "enablePlugin",
            "disablePlugin",
            "uninstallPlugin",
            "testPluginConnection",
            "rotateWebhookToken",
            "issueInboundEmailAddress",
        ),
        needs("plugins:admin"),
    ),
    **dict.fromkeys(
        (
            "syncMarketplace",
            "updateSlaPolicy",
            "updateNotificationRule",
            "updateNotificationTemplate",
            "updateNotificationSettings",
            "setChannelRoute",
            "createOAuthClient",
            "revokeOAuthClient",
            "setOAuthClientRedirectUris",
            "updateOAuthClient",
            "rotateOAuthClientSecret",
            "revokeOAuthGrant",
            "updateSurveySettings",
            "setAcquisitionCost",
            "updateAnalyticsSettings",
            "updateRfmSettings",
            "recomputeRfm",
            "createApiKey",
            "revokeApiKey",
            "updateCampaign",
            "updateCampaignStep",
            "updateCampaignSettings",
            "uninstallOAuthApp",
            "createWebhookEndpoint",
            "updateWebhookEndpoint",
            "deleteWebhookEndpoint",
            "rotateWebhookSecret",
            "redeliverWebhook",
            "redeliverFailedWebhooks",
            "sendTestWebhook",
        ),
        needs("settings:write"),
    ),
    "startExport": needs("data:export", note=" and the list's read (e.g. `orders:read`); members only"),
    "startOrganizationExport": needs("data:export", note="; owners only"),
    **dict.fromkeys(
        ("attachFile", "deleteAttachment"),
        "Needs the update permission of the object the file is on (e.g. `orders:update` for an Order, "
        "`conversations:update` for a conversation message), within the caller's row scope.",
    ),
}

PERMISSION_RE = re.compile(r"`([a-z_]+):([a-z]+)`")


def documented(merged: type, table: dict[str, str]) -> type:
    """Append each root field's need to its description (fields missing from ``table`` are
    left as they are; the test names them)."""
    for field in merged.__strawberry_definition__.fields:
        need = table.get(field.graphql_name or _camel(field.python_name))
        if need is None:
            continue
        text = (field.description or "").strip()
        field.description = f"{text} {need}".strip() if need not in text else text
    return merged


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)
