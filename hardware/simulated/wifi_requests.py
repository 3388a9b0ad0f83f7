"""Device-side Wi-Fi control requests: the 500-series of Gen 3+ Wi-Fi platforms and the legacy 110–115 of Gen 2
Wi-Fi platforms (reference §2.1, §2.2)."""

from __future__ import annotations

from hardware.simulated import wire
from hardware.simulated.control_reply import NOT_SUPPORTED, OK, Handler, Reply
from hardware.simulated.wifi import StoredWifiNetwork, WifiStore
from hardware.usb.protocol import RequestType, ResultCode

_CREDENTIALS_PASSWORD = 1
SECURITY_VALUES = frozenset(range(7))
"""``wifi.Security`` 0 NO_SECURITY … 6 WPA2_WPA3_PSK (reference §2.2); anything else is not a security type."""
LEGACY_SECURITY_VALUES = frozenset(range(6))
"""``WiFiAccessPoint.security`` 0 UNSEC … 5 WPA2_ENTERPRISE that a Gen 2 device can store (255 UNKNOWN cannot)."""
WEP = 1
RTL872X_REFUSED_SECURITY = frozenset({WEP})
"""The simulator's choice (not in the reference): RTL872x devices (P2, Photon 2, M-SoM) refuse WEP networks."""


def _credentials_from_join(fields: wire.Fields) -> StoredWifiNetwork:
    credentials = wire.get_messages(fields, 4)
    inner = credentials[-1] if credentials else {}
    return StoredWifiNetwork(
        ssid=wire.get_str(fields, 1),
        security=wire.get_int(fields, 3),
        password=wire.get_str(inner, 2),
        hidden=bool(wire.get_int(fields, 6)),
        credentials_type=wire.get_int(inner, 1),
    )


def gen3_handlers(store: WifiStore, refused_security: frozenset[int] = frozenset()) -> dict[int, Handler]:
    """Requests 500–507 (``particle.ctrl.wifi``); a security type in ``refused_security`` is NOT_SUPPORTED."""

    def refusal(credentials: StoredWifiNetwork) -> Reply | None:
        if not credentials.ssid or credentials.security not in SECURITY_VALUES:
            return Reply(ResultCode.INVALID_ARGUMENT)
        if credentials.security in refused_security:
            return NOT_SUPPORTED
        return None

    def store_network(*, join: bool) -> Handler:
        """500 stores the network and joins it; 507 only stores it (same request fields)."""

        def handler(payload: bytes) -> Reply:
            credentials = _credentials_from_join(wire.decode(payload))
            refused = refusal(credentials)
            if refused is not None:
                return refused
            store.store(credentials)
            if join:
                store.join(credentials.ssid)
            return OK

        return handler

    def join_known(payload: bytes) -> Reply:
        return OK if store.join(wire.get_str(wire.decode(payload), 1)) else Reply(ResultCode.NOT_FOUND)

    def known(payload: bytes) -> Reply:
        networks = (
            wire.string_field(1, c.ssid) + wire.varint_field(2, c.security) + wire.varint_field(3, c.credentials_type)
            for c in store.credentials
        )
        return Reply(data=wire.repeated_messages(1, networks))

    def remove(payload: bytes) -> Reply:
        return OK if store.remove(wire.get_str(wire.decode(payload), 1)) else Reply(ResultCode.NOT_FOUND)

    def clear(payload: bytes) -> Reply:
        store.clear()
        return OK

    def current(payload: bytes) -> Reply:
        ssid = store.joined
        if ssid is None:
            return Reply(ResultCode.NOT_FOUND)
        seen = next((n for n in store.visible if n.ssid == ssid), None)
        data = wire.string_field(1, ssid)
        if seen is not None:
            data += wire.bytes_field(2, seen.bssid) + wire.varint_field(3, seen.channel)
            data += wire.varint_field(4, seen.rssi)
        return Reply(data=data)

    def scan(payload: bytes) -> Reply:
        networks = (
            wire.string_field(1, n.ssid)
            + wire.bytes_field(2, n.bssid)
            + wire.varint_field(3, n.security)
            + wire.varint_field(4, n.channel)
            + wire.varint_field(5, n.rssi)
            for n in store.visible
        )
        return Reply(data=wire.repeated_messages(1, networks))

    return {
        RequestType.WIFI_JOIN_NEW_NETWORK: store_network(join=True),
        RequestType.WIFI_JOIN_KNOWN_NETWORK: join_known,
        RequestType.WIFI_GET_KNOWN_NETWORKS: known,
        RequestType.WIFI_REMOVE_KNOWN_NETWORK: remove,
        RequestType.WIFI_CLEAR_KNOWN_NETWORKS: clear,
        RequestType.WIFI_GET_CURRENT_NETWORK: current,
        RequestType.WIFI_SCAN_NETWORKS: scan,
        RequestType.WIFI_SET_NETWORK_CREDENTIALS: store_network(join=False),
    }


def legacy_handlers(store: WifiStore) -> dict[int, Handler]:
    """Requests 110–115 (``particle.ctrl.wifi`` legacy messages) served by Gen 2 Wi-Fi platforms."""

    def set_antenna(payload: bytes) -> Reply:
        store.antenna = wire.get_int(wire.decode(payload), 1)
        return OK

    def get_antenna(payload: bytes) -> Reply:
        return Reply(data=wire.varint_field(1, store.antenna))

    def scan(payload: bytes) -> Reply:
        aps = (
            wire.string_field(1, n.ssid)
            + wire.bytes_field(2, n.bssid)
            + wire.varint_field(3, n.security)
            + wire.varint_field(5, n.channel)
            + wire.varint_field(7, n.rssi)
            for n in store.visible
        )
        return Reply(data=wire.bytes_field(1, wire.repeated_messages(1, aps), always=True))

    def set_credentials(payload: bytes) -> Reply:
        aps = wire.get_messages(wire.decode(payload), 1)
        ap = aps[-1] if aps else {}
        ssid = wire.get_str(ap, 1)
        if not ssid or wire.get_int(ap, 3) not in LEGACY_SECURITY_VALUES:
            return Reply(ResultCode.INVALID_ARGUMENT)
        password = wire.get_str(ap, 8)
        store.store(
            StoredWifiNetwork(
                ssid=ssid,
                security=wire.get_int(ap, 3),
                cipher=wire.get_int(ap, 4),
                password=password,
                credentials_type=_CREDENTIALS_PASSWORD if password else 0,
            )
        )
        return OK

    def get_credentials(payload: bytes) -> Reply:
        aps = (
            wire.string_field(1, c.ssid) + wire.varint_field(3, c.security) + wire.varint_field(4, c.cipher)
            for c in store.credentials
        )
        return Reply(data=wire.bytes_field(1, wire.repeated_messages(1, aps), always=True))

    def clear(payload: bytes) -> Reply:
        store.clear()
        return OK

    return {
        RequestType.WIFI_LEGACY_SET_ANTENNA: set_antenna,
        RequestType.WIFI_LEGACY_GET_ANTENNA: get_antenna,
        RequestType.WIFI_LEGACY_SCAN: scan,
        RequestType.WIFI_LEGACY_SET_CREDENTIALS: set_credentials,
        RequestType.WIFI_LEGACY_GET_CREDENTIALS: get_credentials,
        RequestType.WIFI_LEGACY_CLEAR_CREDENTIALS: clear,
    }
