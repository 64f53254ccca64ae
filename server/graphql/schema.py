"""Assembles the schema from every domain's queries and mutations, with the abuse limits."""

from __future__ import annotations

import strawberry
from strawberry.extensions import (
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import Info
from strawberry.types.base import StrawberryOptional

from server.accounts.duplicates_schema import DuplicateQueries
from server.accounts.schema import AccountMutations, AccountQueries
from server.activities.schema import ActivityMutations, ActivityQueries, ActivityType
from server.analytics.metrics_schema import AnalyticsMutations, AnalyticsQueries
from server.analytics.schema import AnalyticsFiguresMutations, AnalyticsFiguresQueries
from server.apikeys.schema import ApiKeyMutations, ApiKeyQueries
from server.attachments.schema import AttachmentMutations
from server.audit.schema import AuditQueries
from server.auth.schema import AuthMutations, AuthQueries, MemberMutations, MemberQueries
from server.auth.viewer import ViewerQueries
from server.bulk.schema import BulkMutations, BulkQueries
from server.campaigns.schema import CampaignMutations, CampaignQueries
from server.catalog.schema import CatalogMutations, CatalogQueries
from server.config import Settings
from server.conversations.schema import ConversationMutations, ConversationQueries
from server.customfields.schema import CustomFieldMutations, CustomFieldQueries
from server.customfields.service import may_see_definition
from server.deals.schema import DealMutations, DealQueries, DealType
from server.email.schema import EmailMutations, EmailQueries
from server.exports.schema import ExportMutations, ExportQueries
from server.fiscal.schema import FiscalMutations
from server.graphql import ids
from server.graphql.errors import AuthFailure, PublicErrors
from server.graphql.inputs import RefuseHostileInput
from server.graphql.introspection import HideSchemaFromAnonymous
from server.graphql.limits import QueryCost
from server.graphql.loaders import load_by_id
from server.graphql.masking import mask_pii_fields
from server.graphql.needs import MUTATION as MUTATION_NEEDS
from server.graphql.needs import QUERY as QUERY_NEEDS
from server.graphql.needs import documented
from server.graphql.rate_limits import RateLimit
from server.graphql.types import Node
from server.imports.schema import ImportMutations, ImportQueries
from server.marketplace.schema import MarketplaceMutations, MarketplaceQueries
from server.notifications.schema import NotificationMutations, NotificationQueries
from server.oauth.schema import OAuthMutations, OAuthQueries
from server.orders.schema import OrderMutations, OrderQueries
from server.organizations.schema import OrganizationMutations
from server.payments.schema import PaymentMutations, PaymentQueries
from server.plugins.schema import PluginMutations, PluginQueries
from server.realtime.schema import Subscription
from server.roles.schema import RoleMutations, RoleQueries
from server.search.schema import SearchQueries
from server.segments.schema import SegmentMutations, SegmentQueries
from server.selfservice.schema import SelfServiceMutations, SelfServiceQueries
from server.shipments.schema import ShipmentMutations, ShipmentQueries
from server.surveys.schema import SurveyMutations, SurveyQueries
from server.telephony.schema import TelephonyMutations, TelephonyQueries
from server.tickets.schema import TicketMutations, TicketQueries, TicketType
from server.webchat.schema import WebChatMutations, WebChatQueries
from server.webhooks.schema import WebhookMutations, WebhookQueries


def _node_models() -> dict[str, type]:
    from server.accounts.models import Account, Contact
    from server.activities.models import Activity
    from server.apikeys.models import ApiKey
    from server.auth.models import Membership, Team
    from server.catalog.models import Product, ProductVariant, Warehouse
    from server.conversations.models import Conversation
    from server.customfields.models import CustomFieldDefinition
    from server.deals.models import Deal, Pipeline, Stage
    from server.marketplace.models import MarketplacePush
    from server.notifications.models import Notification
    from server.oauth.models import OAuthClient
    from server.orders.models import Order, OrderStatus
    from server.payments.models import Payment
    from server.plugins.models import PluginInstallation
    from server.segments.models import Segment
    from server.shipments.models import Shipment
    from server.surveys.models import Survey
    from server.tickets.models import Ticket

    models = (
        *(Account, Contact, Deal, Pipeline, Stage, Order, OrderStatus, Ticket, Activity, Membership, Team),
        PluginInstallation,
        MarketplacePush,
        Shipment,
        Notification,
        OAuthClient,
        Survey,
        Segment,
        ApiKey,
        Conversation,
        Payment,
        CustomFieldDefinition,
        Product,
        ProductVariant,
        Warehouse,
    )
    return {m.__name__: m for m in models}


NODE_MODELS = _node_models()
# Types whose list needs more than their resource's read permission.
NODE_PERMISSIONS = {"OAuthClient": "settings:write", "ApiKey": "settings:write"}
# Rows the type's own list leaves out for some callers that may otherwise read its model.
NODE_SHOWN = {"CustomFieldDefinition": may_see_definition}


@strawberry.type
class NodeQueries:
    @strawberry.field(description="Any object by its global ID; null if it does not exist or you may not see it.")
    async def node(self, info: Info, id: strawberry.ID) -> Node | None:
        type_name, pk = ids.decode(id)
        model = NODE_MODELS.get(type_name)
        if model is None:
            return None
        needed = NODE_PERMISSIONS.get(type_name)
        if needed is not None and not info.context.scope.can(needed):
            return None  # as their own lists: partners' apps and API keys are for owners and admins
        found = await load_by_id(info.context, model, pk)
        shown = NODE_SHOWN.get(type_name)
        return found if found is None or shown is None or shown(info.context.scope, found) else None


def merge_types(name: str, types: tuple[type, ...]) -> type:
    return strawberry.type(type(name, types, {}))


def refusing_hostile_input(merged: type) -> type:
    """Values no field can store are refused at every root field (server/graphql/inputs.py)."""
    for field in merged.__strawberry_definition__.fields:
        field.extensions.append(RefuseHostileInput())
    return merged


def nullable_fields(merged: type) -> type:
    """Every root query field may be null, so one field's error (a FORBIDDEN list, a bad
    argument) nulls only that field: the rest of the response keeps its data."""
    for field in merged.__strawberry_definition__.fields:
        if not isinstance(field.type, StrawberryOptional):
            field.type = StrawberryOptional(field.type)
    return merged


Query = refusing_hostile_input(
    nullable_fields(
        documented(
            merge_types(
                "Query",
                (
                    NodeQueries,
                    AuthQueries,
                    ViewerQueries,
                    MemberQueries,
                    RoleQueries,
                    AccountQueries,
                    DuplicateQueries,
                    BulkQueries,
                    DealQueries,
                    OrderQueries,
                    TicketQueries,
                    SearchQueries,
                    ActivityQueries,
                    AuditQueries,
                    PluginQueries,
                    MarketplaceQueries,
                    TelephonyQueries,
                    ShipmentQueries,
                    PaymentQueries,
                    CatalogQueries,
                    NotificationQueries,
                    EmailQueries,
                    OAuthQueries,
                    SurveyQueries,
                    AnalyticsQueries,
                    AnalyticsFiguresQueries,
                    SegmentQueries,
                    ApiKeyQueries,
                    CampaignQueries,
                    WebhookQueries,
                    ImportQueries,
                    ExportQueries,
                    ConversationQueries,
                    WebChatQueries,
                    SelfServiceQueries,
                    CustomFieldQueries,
                ),
            ),
            QUERY_NEEDS,
        )
    )
)
Mutation = refusing_hostile_input(
    documented(
        merge_types(
            "Mutation",
            (
                AuthMutations,
                OrganizationMutations,
                MemberMutations,
                RoleMutations,
                AccountMutations,
                BulkMutations,
                DealMutations,
                OrderMutations,
                TicketMutations,
                ActivityMutations,
                PluginMutations,
                MarketplaceMutations,
                TelephonyMutations,
                ShipmentMutations,
                PaymentMutations,
                FiscalMutations,
                CatalogMutations,
                NotificationMutations,
                EmailMutations,
                OAuthMutations,
                SurveyMutations,
                AnalyticsMutations,
                AnalyticsFiguresMutations,
                SegmentMutations,
                ApiKeyMutations,
                CampaignMutations,
                WebhookMutations,
                ImportMutations,
                ExportMutations,
                ConversationMutations,
                WebChatMutations,
                SelfServiceMutations,
                AttachmentMutations,
                CustomFieldMutations,
            ),
        ),
        MUTATION_NEEDS,
    )
)

# Types reached only through `node` or lazily must still be in the schema.
EXTRA_TYPES = [DealType, TicketType, ActivityType]


def _pii_types() -> tuple[type, ...]:
    from server.accounts.schema import AccountType, ContactType
    from server.audit.schema import AuditEntryType
    from server.conversations.schema import ConversationMessageType, ConversationType
    from server.email.schema import EmailDeliverability
    from server.notifications.schema import NotificationType
    from server.orders.schema import Delivery
    from server.telephony.schema import CallerLookup
    from server.tickets.schema import TicketCommentType

    return (
        AccountType,
        ContactType,
        Delivery,
        ActivityType,
        TicketType,
        TicketCommentType,
        NotificationType,
        EmailDeliverability,
        AuditEntryType,
        CallerLookup,
        ConversationType,
        ConversationMessageType,
    )


# Customers' phones, e-mails and addresses: masked for callers without pii:read (server/auth/masking.py).
mask_pii_fields(*_pii_types())


class Schema(strawberry.Schema):
    def process_errors(self, errors, execution_context=None) -> None:
        # PublicErrors logs unexpected errors once, with an id; expected ones need no log.
        return None


def build_schema(settings: Settings | None = None) -> Schema:
    settings = settings or Settings()
    return Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        types=EXTRA_TYPES,
        config=StrawberryConfig(auto_camel_case=True),
        extensions=[
            ParserCache(maxsize=256),
            ValidationCache(maxsize=256),
            HideSchemaFromAnonymous,  # after ValidationCache: re-validates for anonymous callers
            QueryDepthLimiter(max_depth=settings.max_query_depth),
            MaxTokensLimiter(max_token_count=settings.max_query_tokens),
            MaxAliasesLimiter(max_alias_count=settings.max_aliases),
            lambda: QueryCost(maximum=settings.max_query_cost, default_page=settings.default_page_size),
            RateLimit,  # after QueryCost: charges the cost it found
            AuthFailure,
            PublicErrors,
        ],
    )


def sdl(schema: strawberry.Schema) -> str:
    """The schema as SDL, as `crm schema export` writes it to schema.graphql."""
    return schema.as_str().rstrip("\n") + "\n"
