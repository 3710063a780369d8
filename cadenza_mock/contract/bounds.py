"""Bounds and patterns that the engine enforces and the admin API's rows document.

Apart from the engine so that the contract tier (the rows, their schemas) can state them
without importing the tiers above it; the engine modules read them from here.
"""

from __future__ import annotations

import re

from cadenza_mock.contract.operation_type import API_PREFIX

# The clock: one admin call moves it at most 100 years, and it never passes
# 9999-12-31T23:59:59.999Z, the last instant a datetime (the ISO twins) can show.
MAX_ADVANCE_SECONDS = 3_153_600_000
LAST_MS = 253_402_300_799_999

# The longest wait for the requests in flight (`GET /__admin/requests/idle?timeout=`).
MAX_IDLE_WAIT = 30.0

# A namespace's name: a DNS label, so it can be a host name too.
NAME_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")

# What a fault or a stub may name as a method.
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# Orders and RFQ quotes one state (a namespace) holds until a reset: a client submitting
# in a loop must not grow the server's memory without end.
MAX_ORDERS = 100_000
MAX_QUOTES = 10_000

# Stubs: how many one state holds, and what one may say.
MAX_STUBS = 100
MAX_STUB_HEADERS = 20
MAX_PATH = 1000
# Set by the server from the answer itself; a stub giving them would break the framing.
FRAMING = ("content-length", "transfer-encoding", "connection")
HEADER_NAME = r"^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,100}$"
HEADER_VALUE = r"^[\t -~]*$"  # printable ASCII and tab
MAX_HEADER_VALUE = 1024
# What a path may hold: printable ASCII but '?' and '#' (a path only).
PATH_PATTERN = f'^{API_PREFIX}(/[ -"$->@-~]*)?$'
NO_BODY_STATUSES = (204, 304)
