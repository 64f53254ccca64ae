"""What an organization's campaigns start with (off until an owner turns them on): steps with
Ukrainian and English texts. Texts are sandboxed Jinja like notification templates; they know
``customer_name``, ``shop_name`` and ``offer_until`` (the last day of the step's offer)."""

from __future__ import annotations

CHURNED_MONTHS = 36  # three years without an order: churned, no more win-back messages


def _v(uk: str, en: str) -> list[dict]:
    return [{"key": "A", "texts": {"uk": uk, "en": en}}]


# kind -> [(delay, offer_days, variants)]; delay: see CampaignStep.
STEPS: dict[str, list[tuple[int, int, list[dict]]]] = {
    "winback": [
        (
            9,
            14,
            _v(
                "{{ customer_name }}, давно не бачились! Знижка 5% до {{ offer_until }}. {{ shop_name }}",
                "{{ customer_name }}, we miss you! 5% off until {{ offer_until }}. {{ shop_name }}",
            ),
        ),
        (
            12,
            14,
            _v(
                "{{ customer_name }}, повертайтесь: знижка 10% до {{ offer_until }}. {{ shop_name }}",
                "{{ customer_name }}, come back: 10% off until {{ offer_until }}. {{ shop_name }}",
            ),
        ),
        (
            15,
            14,
            _v(
                "{{ customer_name }}, остання пропозиція: знижка 15% до {{ offer_until }}. {{ shop_name }}",
                "{{ customer_name }}, our best offer: 15% off until {{ offer_until }}. {{ shop_name }}",
            ),
        ),
    ],
    "birthday": [
        (
            7,
            7,  # the birthday gift is valid until a week after the birthday
            _v(
                "{{ customer_name }}, скоро ваш день народження! Подарунок: знижка 10% до {{ offer_until }}. "
                "{{ shop_name }}",
                "{{ customer_name }}, your birthday is coming! Our gift: 10% off until {{ offer_until }}. "
                "{{ shop_name }}",
            ),
        )
    ],
    "review": [
        (
            5,
            0,
            _v(
                "{{ customer_name }}, як вам покупка? Залиште відгук, нам важливо. {{ shop_name }}",
                "{{ customer_name }}, how is your purchase? Please leave a review. {{ shop_name }}",
            ),
        )
    ],
}
