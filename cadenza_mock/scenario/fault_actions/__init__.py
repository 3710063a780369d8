"""The fault actions: one module each, registered by subclassing `FaultAction` with its
key. To add one, write its module (see docs/contributing/fault-action.md) and import it
below: the import order is the order messages, the OpenAPI schema and the README list them.
"""

from __future__ import annotations

from cadenza_mock.scenario.fault_actions.base import (
    ACTIONS,
    HTTP,
    RPC,
    TRANSPORT_NAMES,
    TRANSPORTS,
    UPGRADE,
    Call,
    FaultAction,
    named_transports,
    transport_of,
)

# isort: off
# Each import registers its action; this order is the order they are listed in.
from cadenza_mock.scenario.fault_actions.respond import Respond
from cadenza_mock.scenario.fault_actions.rate_limit import RateLimit
from cadenza_mock.scenario.fault_actions.drop import Drop
from cadenza_mock.scenario.fault_actions.malformed import Malformed
from cadenza_mock.scenario.fault_actions.slow_body import SlowBody
from cadenza_mock.scenario.fault_actions.venue import VenueOutcome

# isort: on

__all__ = [
    "ACTIONS",
    "HTTP",
    "RPC",
    "TRANSPORTS",
    "TRANSPORT_NAMES",
    "UPGRADE",
    "Call",
    "Drop",
    "FaultAction",
    "Malformed",
    "RateLimit",
    "Respond",
    "SlowBody",
    "VenueOutcome",
    "named_transports",
    "transport_of",
]
