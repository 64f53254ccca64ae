"""GraphQL for the admins' side of the web chat: the widget's settings and the page to embed."""

from __future__ import annotations

import strawberry
from strawberry.types import Info

from server.graphql.errors import UserError, run_mutation
from server.webchat import service
from server.webchat.models import WebChatWidget


def _base_url(info: Info) -> str:
    return (info.context.settings.public_url or str(info.context.request.base_url)).rstrip("/")


@strawberry.type(name="WebChat", description="The organization's web chat: a page the shop shows on its site.")
class WebChatType:
    key: str = strawberry.field(description="The widget's public key (it is in the page's address).")
    enabled: bool = strawberry.field(description="Whether visitors can write; switched off, the page says so.")
    title: str = strawberry.field(description="The page's heading (the organization's name when empty).")
    greeting: str = strawberry.field(description="The first line a visitor reads.")
    allowed_origins: list[str] = strawberry.field(
        description="Sites allowed to show the page in an iframe, e.g. `https://shop.example`."
    )
    version: int = strawberry.field(description="Give it back to `configureWebChat`.")
    page_url: str = strawberry.field(description="The chat page's address: open it, link it, or put it in an iframe.")

    @staticmethod
    def of(widget: WebChatWidget, base_url: str) -> WebChatType:
        return WebChatType(
            key=widget.key,
            enabled=widget.enabled,
            title=widget.title,
            greeting=widget.greeting,
            allowed_origins=list(widget.allowed_origins),
            version=widget.version,
            page_url=f"{base_url}/chat/{widget.key}",
        )


@strawberry.input(description="The web chat's settings; leave out what stays as it is.")
class ConfigureWebChatInput:
    version: int = strawberry.field(description="The version you read (`webChat.version`).")
    enabled: bool | None = strawberry.field(default=None, description="Let visitors write.")
    title: str | None = strawberry.field(default=None, description="The page's heading (up to 120 characters).")
    greeting: str | None = strawberry.field(default=None, description="The first line shown (up to 500 characters).")
    allowed_origins: list[str] | None = strawberry.field(
        default=None, description="Sites that may embed the page (scheme and host, at most 20)."
    )


@strawberry.type(description="The web chat after the change, or what was wrong.")
class WebChatPayload:
    web_chat: WebChatType | None = None
    errors: list[UserError]


@strawberry.type
class WebChatQueries:
    @strawberry.field(description="The web chat's settings and page address. Needs `settings:read`.")
    async def web_chat(self, info: Info) -> WebChatType:
        return WebChatType.of(await service.widget(info.context.scope), _base_url(info))


@strawberry.type
class WebChatMutations:
    @strawberry.mutation(
        description="Switch the web chat on or off and set its texts and the sites that may embed it. "
        "Visitors' messages arrive as conversations on the WEB channel. Needs `settings:write`."
    )
    async def configure_web_chat(self, info: Info, input: ConfigureWebChatInput) -> WebChatPayload:
        scope = info.context.scope

        async def act():
            widget = await service.configure(
                scope,
                input.version,
                enabled=input.enabled,
                title=input.title,
                greeting=input.greeting,
                allowed_origins=input.allowed_origins,
            )
            return {"web_chat": WebChatType.of(widget, _base_url(info))}

        return await run_mutation(WebChatPayload, act)
