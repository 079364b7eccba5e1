"""A stack's ports lie below the kernel's ephemeral range, so a restarted service finds its port free."""

from __future__ import annotations

from govflow.prodstack import _process
from govflow.prodstack._process import free_port_block


def test_a_port_block_lies_below_the_ephemeral_range():
    low, _ = _process._ephemeral_ports()
    for _ in range(20):
        base = free_port_block(12)
        assert base >= 20000 and base + 12 <= low


def test_an_ephemeral_range_with_no_room_below_falls_back(monkeypatch):
    monkeypatch.setattr(_process, "_ephemeral_ports", lambda: (1024, 65535))
    base = free_port_block(4)
    assert 20000 <= base < 60000
