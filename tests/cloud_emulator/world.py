"""The seeded world every emulator test starts from: its users, tokens, products and client."""

from __future__ import annotations

import ssl

ALICE, ALICE_PASSWORD, ALICE_TOKEN = "alice@example.com", "alice-pw", "alice-token-0123456789"
BOB, BOB_PASSWORD, BOB_TOKEN = "bob@example.com", "bob-pw", "bob-token-0123456789"
PRODUCT = 12345
"""Alice's boron product."""
P2_PRODUCT = 23456
"""Alice's P2 product (a Wi-Fi platform)."""
BOB_PRODUCT = 34567
"""Bob's boron product, invisible to Alice."""
PRODUCT_CLIENT, PRODUCT_SECRET = "station-client", "station-s3cret"

SHARED_TLS = ssl.create_default_context()
"""The emulator speaks plain HTTP; sharing one context spares httpx loading its CA bundle per client (~0.2 s)."""


def id_file(*lines: str) -> dict[str, tuple[str, bytes, str]]:
    """A multipart ``file`` part as particle-cli sends it: filename ``file``, octet-stream, no trailing newline."""
    return {"file": ("file", "\n".join(lines).encode(), "application/octet-stream")}
