"""Device-side Wi-Fi control requests: the 500-series of Gen 3+ Wi-Fi platforms (``control/wifi_new.proto``) and
the legacy 110–115 of Gen 2 Wi-Fi platforms (``control/wifi.proto``), as Device OS ``system/src/control/*.cpp`` serve
them; field numbers in ``control_messages``."""

from __future__ import annotations

from hardware.simulated import control_messages as msg
from hardware.simulated import wire
from hardware.simulated.control_facts import RequestType, ResultCode
from hardware.simulated.control_reply import NOT_SUPPORTED, OK, Handler, Reply
from hardware.simulated.wifi import StoredWifiNetwork, WifiStore

WEP = 1
RTL872X_REFUSED_SECURITY = frozenset({WEP})
"""The simulator's choice (not confirmed in a public source): RTL872x devices (P2, Photon 2, M-SoM) refuse WEP."""


def _credentials_from_join(fields: wire.Fields) -> StoredWifiNetwork:
    r, c = msg.JoinNewNetworkRequest, msg.Credentials
    credentials = wire.get_messages(fields, r.CREDENTIALS)
    inner = credentials[-1] if credentials else {}
    return StoredWifiNetwork(
        ssid=wire.get_str(fields, r.SSID),
        security=wire.get_int(fields, r.SECURITY),
        password=wire.get_str(inner, c.PASSWORD),
        hidden=bool(wire.get_int(fields, r.HIDDEN)),
        credentials_type=wire.get_int(inner, c.TYPE),
    )


def gen3_handlers(store: WifiStore, refused_security: frozenset[int] = frozenset()) -> dict[int, Handler]:
    """Requests 500–507 (``particle.ctrl.wifi``); a security type in ``refused_security`` is NOT_SUPPORTED."""

    def refusal(credentials: StoredWifiNetwork) -> Reply | None:
        if not credentials.ssid or credentials.security not in msg.SECURITY_VALUES:
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
        ssid = wire.get_str(wire.decode(payload), msg.SsidRequest.SSID)
        return OK if store.join(ssid) else Reply(ResultCode.NOT_FOUND)

    def known(payload: bytes) -> Reply:
        k = msg.KnownNetwork
        networks = (
            wire.string_field(k.SSID, c.ssid)
            + wire.varint_field(k.SECURITY, c.security)
            + wire.varint_field(k.CREDENTIALS_TYPE, c.credentials_type)
            for c in store.credentials
        )
        return Reply(data=wire.repeated_messages(k.NETWORKS, networks))

    def remove(payload: bytes) -> Reply:
        ssid = wire.get_str(wire.decode(payload), msg.SsidRequest.SSID)
        return OK if store.remove(ssid) else Reply(ResultCode.NOT_FOUND)

    def clear(payload: bytes) -> Reply:
        store.clear()
        return OK

    def current(payload: bytes) -> Reply:
        ssid = store.joined
        if ssid is None:
            return Reply(ResultCode.NOT_FOUND)
        seen = next((n for n in store.visible if n.ssid == ssid), None)
        r = msg.GetCurrentNetworkReply
        data = wire.string_field(r.SSID, ssid)
        if seen is not None:
            data += wire.bytes_field(r.BSSID, seen.bssid) + wire.varint_field(r.CHANNEL, seen.channel)
            data += wire.varint_field(r.RSSI, seen.rssi)
        return Reply(data=data)

    def scan(payload: bytes) -> Reply:
        n = msg.ScannedNetwork
        networks = (
            wire.string_field(n.SSID, seen.ssid)
            + wire.bytes_field(n.BSSID, seen.bssid)
            + wire.varint_field(n.SECURITY, seen.security)
            + wire.varint_field(n.CHANNEL, seen.channel)
            + wire.varint_field(n.RSSI, seen.rssi)
            for seen in store.visible
        )
        return Reply(data=wire.repeated_messages(n.NETWORKS, networks))

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

    ap_field, ap_list = msg.LegacyAccessPoint, msg.LegacyAccessPointList

    def set_antenna(payload: bytes) -> Reply:
        store.antenna = wire.get_int(wire.decode(payload), msg.LegacyAntennaMessage.ANTENNA)
        return OK

    def get_antenna(payload: bytes) -> Reply:
        return Reply(data=wire.varint_field(msg.LegacyAntennaMessage.ANTENNA, store.antenna))

    def access_point_list(aps: list[bytes]) -> bytes:
        return wire.bytes_field(ap_list.LIST, wire.repeated_messages(ap_list.APS, aps), always=True)

    def scan(payload: bytes) -> Reply:
        aps = [
            wire.string_field(ap_field.SSID, n.ssid)
            + wire.bytes_field(ap_field.BSSID, n.bssid)
            + wire.varint_field(ap_field.SECURITY, n.security)
            + wire.varint_field(ap_field.CHANNEL, n.channel)
            + wire.varint_field(ap_field.RSSI, n.rssi)
            for n in store.visible
        ]
        return Reply(data=access_point_list(aps))

    def set_credentials(payload: bytes) -> Reply:
        aps = wire.get_messages(wire.decode(payload), msg.LegacySetCredentialsRequest.AP)
        ap = aps[-1] if aps else {}
        ssid = wire.get_str(ap, ap_field.SSID)
        security = wire.get_int(ap, ap_field.SECURITY)
        if not ssid or security not in msg.LEGACY_SECURITY_VALUES:
            return Reply(ResultCode.INVALID_ARGUMENT)
        password = wire.get_str(ap, ap_field.PASSWORD)
        store.store(
            StoredWifiNetwork(
                ssid=ssid,
                security=security,
                cipher=wire.get_int(ap, ap_field.CIPHER),
                password=password,
                credentials_type=msg.Credentials.TYPE_PASSWORD if password else 0,
            )
        )
        return OK

    def get_credentials(payload: bytes) -> Reply:
        aps = [
            wire.string_field(ap_field.SSID, c.ssid)
            + wire.varint_field(ap_field.SECURITY, c.security)
            + wire.varint_field(ap_field.CIPHER, c.cipher)
            for c in store.credentials
        ]
        return Reply(data=access_point_list(aps))

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
