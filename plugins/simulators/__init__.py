"""Faithful simulators of the third-party providers the built-in plugins talk to.

Each one is a real HTTP server on 127.0.0.1 (see ``base.SimulatorServer``)::

    from plugins.simulators import TwilioSimulator

    with TwilioSimulator() as twilio:
        client = httpx.Client(base_url=twilio.url, auth=(ACCOUNT_SID, AUTH_TOKEN))
        ...

From a shell: ``python -m plugins.simulators turbosms --port 9001``. See docs/simulators.md.
"""

from .base import DeliveryAttempt, Fault, OutgoingWebhook, RecordedRequest, SimulatorServer, WebhookReceiver
from .binotel import BinotelSimulator
from .novaposhta import NovaPoshtaSimulator
from .rozetka import RozetkaSimulator
from .telegram import TelegramSimulator
from .turbosms import TurboSMSSimulator
from .twilio import TwilioSimulator
from .viber import ViberSimulator

SIMULATORS: dict[str, type[SimulatorServer]] = {
    "turbosms": TurboSMSSimulator,
    "twilio": TwilioSimulator,
    "novaposhta": NovaPoshtaSimulator,
    "rozetka": RozetkaSimulator,
    "binotel": BinotelSimulator,
    "telegram": TelegramSimulator,
    "viber": ViberSimulator,
}

__all__ = [
    "SIMULATORS",
    "BinotelSimulator",
    "DeliveryAttempt",
    "Fault",
    "NovaPoshtaSimulator",
    "OutgoingWebhook",
    "RecordedRequest",
    "RozetkaSimulator",
    "SimulatorServer",
    "TelegramSimulator",
    "TurboSMSSimulator",
    "TwilioSimulator",
    "ViberSimulator",
    "WebhookReceiver",
]
