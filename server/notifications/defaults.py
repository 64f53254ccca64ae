"""What a new organization starts with: a rule and Ukrainian and English texts for the order
statuses a typical shop uses. Shops change them through the API (docs/notifications.md)."""

from __future__ import annotations

CHANNELS = ("viber", "sms")  # Viber first, SMS when Viber cannot reach the customer
LOCALES = ("uk", "en")

# trigger (order status code, or survey_*) -> enabled by default, {locale: text}
DEFAULTS: dict[str, tuple[bool, dict[str, str]]] = {
    "new": (
        True,
        {
            "uk": "{{ customer_name }}, дякуємо! Замовлення №{{ order_number }} на {{ total }} {{ currency }} "
            "прийнято. Ми зателефонуємо, якщо будуть питання. {{ shop_name }}",
            "en": "{{ customer_name }}, thank you! Order #{{ order_number }} for {{ total }} {{ currency }} "
            "is received. {{ shop_name }}",
        },
    ),
    "processing": (
        False,
        {
            "uk": "Замовлення №{{ order_number }} обробляється.",
            "en": "Order #{{ order_number }} is being processed.",
        },
    ),
    "picking": (
        False,
        {
            "uk": "Збираємо ваше замовлення №{{ order_number }}: {{ items_text }}.",
            "en": "We are picking your order #{{ order_number }}: {{ items_text }}.",
        },
    ),
    "packed": (
        False,
        {
            "uk": "Замовлення №{{ order_number }} запаковане і чекає на відправку.",
            "en": "Order #{{ order_number }} is packed and ready to ship.",
        },
    ),
    "shipped": (
        True,
        {
            "uk": "Замовлення №{{ order_number }} відправлено. ТТН {{ waybill }}"
            "{% if expected_delivery %}, очікуйте {{ expected_delivery }}{% endif %}. "
            "Відстежити: {{ tracking_link }}",
            "en": "Order #{{ order_number }} has shipped. Waybill {{ waybill }}"
            "{% if expected_delivery %}, expected {{ expected_delivery }}{% endif %}. Track: {{ tracking_link }}",
        },
    ),
    "in_transit": (
        False,
        {
            "uk": "Замовлення №{{ order_number }} в дорозі. ТТН {{ waybill }}.",
            "en": "Order #{{ order_number }} is on its way. Waybill {{ waybill }}.",
        },
    ),
    "arrived": (
        True,
        {
            "uk": "Замовлення №{{ order_number }} прибуло у відділення. ТТН {{ waybill }}. Чекаємо на вас!",
            "en": "Order #{{ order_number }} has arrived at the branch. Waybill {{ waybill }}.",
        },
    ),
    "delivered": (
        True,
        {
            "uk": "{{ customer_name }}, дякуємо за покупку! Будемо вдячні за відгук про замовлення "
            "№{{ order_number }}. {{ shop_name }}",
            "en": "{{ customer_name }}, thank you for your purchase! We would love a review of order "
            "#{{ order_number }}. {{ shop_name }}",
        },
    ),
    "cancelled": (
        True,
        {
            "uk": "Замовлення №{{ order_number }} скасовано{% if reason %}: {{ reason }}{% endif %}. "
            "Питання: {{ support_phone }}",
            "en": "Order #{{ order_number }} is cancelled{% if reason %}: {{ reason }}{% endif %}. "
            "Questions: {{ support_phone }}",
        },
    ),
    "delayed": (
        True,
        {
            "uk": "Вибачте, замовлення №{{ order_number }} затримується{% if reason %}: {{ reason }}{% endif %}."
            "{% if expected_delivery %} Нова дата: {{ expected_delivery }}.{% endif %} Питання: {{ support_phone }}",
            "en": "Sorry, order #{{ order_number }} is delayed{% if reason %}: {{ reason }}{% endif %}."
            "{% if expected_delivery %} New date: {{ expected_delivery }}.{% endif %} Questions: {{ support_phone }}",
        },
    ),
    # Surveys (server/surveys, docs/surveys.md): the message carrying the link to the survey page.
    "survey_nps": (
        True,
        {
            "uk": "{{ customer_name }}, як вам замовлення №{{ order_number }}? Оцініть нас за хвилину: "
            "{{ survey_link }} {{ shop_name }}",
            "en": "{{ customer_name }}, how was order #{{ order_number }}? Rate us in a minute: "
            "{{ survey_link }} {{ shop_name }}",
        },
    ),
    "survey_support": (
        True,
        {
            "uk": "{{ customer_name }}, чи вирішили ми ваше звернення №{{ ticket_number }}? Оцініть нашу підтримку: "
            "{{ survey_link }} {{ shop_name }}",
            "en": "{{ customer_name }}, did we solve your request #{{ ticket_number }}? Rate our support: "
            "{{ survey_link }} {{ shop_name }}",
        },
    ),
    # Fiscal receipts (server/fiscal, docs/fiscal.md): the link to the receipt of a payment or a refund.
    "fiscal_receipt": (
        True,
        {
            "uk": "{% if receipt_is_return %}Чек повернення{% else %}Чек{% endif %} до замовлення №{{ order_number }} "
            "на {{ receipt_amount }} {{ receipt_currency }}: {{ receipt_link }} {{ shop_name }}",
            "en": "{% if receipt_is_return %}Refund receipt{% else %}Receipt{% endif %} for order #{{ order_number }}, "
            "{{ receipt_amount }} {{ receipt_currency }}: {{ receipt_link }} {{ shop_name }}",
        },
    ),
    # Retention campaigns (server/campaigns, docs/campaigns.md): the step's own text, then the
    # opt-out link every marketing message carries. The campaign switches them on and off.
    **{
        f"campaign_{kind}": (
            True,
            {
                "uk": "{{ campaign_text }} Відписатися: {{ opt_out_link }}",
                "en": "{{ campaign_text }} Unsubscribe: {{ opt_out_link }}",
            },
        )
        for kind in ("winback", "birthday", "review")
    },
}
