"""The PII scan never reaches the network: the engine is built and a scan runs with
every outbound connection (and DNS lookup) refused by a socket guard."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

import pytest

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "pii" / "table.parquet"


def _is_loopback(host: object) -> bool:
    if host in ("localhost", None, ""):
        return True
    try:
        return ipaddress.ip_address(str(host).split("%")[0]).is_loopback
    except ValueError:
        return False


@pytest.fixture
def socket_guard(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Refuse and record every attempt to reach a non-loopback host."""
    attempts: list[str] = []

    def guarded_connect(original):
        def connect(self, address, *args, **kwargs):
            host = address[0] if isinstance(address, tuple) else address
            if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(host):
                attempts.append(f"connect {host}")
                raise OSError(f"network blocked by test: {host}")
            return original(self, address, *args, **kwargs)

        return connect

    real_getaddrinfo = socket.getaddrinfo

    def getaddrinfo(host, *args, **kwargs):
        if not _is_loopback(host):
            attempts.append(f"resolve {host}")
            raise socket.gaierror(f"DNS blocked by test: {host}")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect(socket.socket.connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded_connect(socket.socket.connect_ex))
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return attempts


def test_the_guard_blocks_outbound_connections(socket_guard):
    with pytest.raises(OSError):
        socket.create_connection(("publicsuffix.org", 443), timeout=2)
    assert socket_guard == ["resolve publicsuffix.org"]


def test_engine_build_and_scan_run_with_the_network_blocked(socket_guard, monkeypatch):
    import tldextract

    from govflow.checks.pii import _engine, scan_pii

    # Start from the state of a fresh process: tldextract's default extractor (which
    # would fetch the public suffix list) and no engine built yet.
    monkeypatch.setattr(tldextract.tldextract, "TLD_EXTRACTOR", tldextract.TLDExtract())
    _engine.empty_artifacts.cache_clear()
    _engine._engine.cache_clear()
    try:
        result = scan_pii(FIXTURE)
    finally:
        _engine.empty_artifacts.cache_clear()
        _engine._engine.cache_clear()

    assert result.status == "fail", result.errors
    columns = result.details["columns"]
    # Email validation goes through tldextract: it worked from the bundled suffix list.
    assert columns["email_address"]["entities"]["EMAIL_ADDRESS"]["rate"] == 1.0
    assert "PERSON" in columns["full_name"]["entities"]  # the spaCy model came from the package
    assert socket_guard == []
