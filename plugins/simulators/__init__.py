"""Faithful simulators of the third-party providers the built-in plugins talk to.

Each one is a real HTTP server on 127.0.0.1 (see ``server.plugins.simulator.SimulatorServer``)::

    from plugins.simulators import TwilioSimulator

    with TwilioSimulator() as twilio:
        client = httpx.Client(base_url=twilio.url, auth=(ACCOUNT_SID, AUTH_TOKEN))
        ...

From a shell: ``python -m plugins.simulators turbosms --port 9001``. See docs/simulators.md.
"""

from server.plugins.simulator import (
    DeliveryAttempt,
    Fault,
    OutgoingWebhook,
    RecordedRequest,
    SimulatorServer,
    WebhookReceiver,
)

from .asterisk import AsteriskSimulator
from .binotel import BinotelSimulator
from .checkbox import CheckboxSimulator
from .liqpay import LiqPaySimulator
from .monobank import MonobankSimulator
from .novaposhta import NovaPoshtaSimulator
from .prom import PromSimulator
from .ringostat import RingostatSimulator
from .rozetka import RozetkaSimulator
from .telegram import TelegramSimulator
from .turbosms import TurboSMSSimulator
from .twilio import TwilioSimulator
from .ukrposhta import UkrposhtaSimulator
from .viber import ViberSimulator

SIMULATORS: dict[str, type[SimulatorServer]] = {
    "turbosms": TurboSMSSimulator,
    "twilio": TwilioSimulator,
    "novaposhta": NovaPoshtaSimulator,
    "rozetka": RozetkaSimulator,
    "prom": PromSimulator,
    "binotel": BinotelSimulator,
    "ringostat": RingostatSimulator,
    # Not HTTP: a TCP server speaking AMI, with the same start/stop/describe/credentials.
    "asterisk": AsteriskSimulator,  # type: ignore[dict-item]
    "telegram": TelegramSimulator,
    "viber": ViberSimulator,
    "liqpay": LiqPaySimulator,
    "monobank": MonobankSimulator,
    "ukrposhta": UkrposhtaSimulator,
    "checkbox": CheckboxSimulator,
}

__all__ = [
    "SIMULATORS",
    "AsteriskSimulator",
    "BinotelSimulator",
    "CheckboxSimulator",
    "DeliveryAttempt",
    "Fault",
    "LiqPaySimulator",
    "MonobankSimulator",
    "NovaPoshtaSimulator",
    "OutgoingWebhook",
    "PromSimulator",
    "RecordedRequest",
    "RingostatSimulator",
    "RozetkaSimulator",
    "SimulatorServer",
    "TelegramSimulator",
    "TurboSMSSimulator",
    "TwilioSimulator",
    "UkrposhtaSimulator",
    "ViberSimulator",
    "WebhookReceiver",
]
