"""One trusted-proxy rule (common/proxies.py) for the Rasa channels and the content
service's staff app (editor/http_base.py): the same proxies believed, the same client
address picked from X-Forwarded-For (review L20: the editor used to compare exact
strings and take the last forwarded value, the channels networks and the nearest
untrusted one)."""

from __future__ import annotations

import pytest

from common.proxies import client_address, is_trusted, trusted_networks
from editor.http_base import Plumbing


class _Request(Plumbing):
    """A staff-app handler without a socket: just a peer and headers."""

    def __init__(self, peer, forwarded_for=None):  # no BaseHTTPRequestHandler set-up
        self.client_address = (peer, 50000)
        self.headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}


CASES = [
    # (trusted setting, peer, X-Forwarded-For, the client's address)
    ("127.0.0.1,::1", "127.0.0.1", "203.0.113.5", "203.0.113.5"),
    ("127.0.0.1,::1", "198.51.100.7", "203.0.113.5", "198.51.100.7"),  # not a proxy: its own address
    ("127.0.0.1", "::ffff:127.0.0.1", "203.0.113.5", "203.0.113.5"),  # IPv4-mapped loopback
    ("10.0.0.0/8", "10.1.2.3", "203.0.113.5", "203.0.113.5"),  # a network, not only addresses
    ("127.0.0.1 10.0.0.0/8", "127.0.0.1", "1.2.3.4, 203.0.113.5, 10.0.0.9", "203.0.113.5"),  # a chain
    ("127.0.0.1", "127.0.0.1", "", "127.0.0.1"),
    ("", "127.0.0.1", "203.0.113.5", "127.0.0.1"),  # empty: no proxy believed
]


@pytest.mark.parametrize("setting,peer,forwarded,client", CASES)
def test_the_editor_and_the_channels_pick_the_same_client(monkeypatch, setting, peer, forwarded, client):
    monkeypatch.setenv("HSG_EDITOR_TRUSTED_PROXIES", setting)
    networks = trusted_networks(setting)
    assert client_address(peer, forwarded, networks) == client  # the REST channel's rate limit
    assert _Request(peer, forwarded).client_ip() == client  # the editor's login throttle
    assert _Request(peer).from_trusted_proxy() == is_trusted(peer, networks)  # also the SMS channel's rule


def test_a_client_cannot_choose_its_address_by_writing_the_header_itself(monkeypatch):
    monkeypatch.setenv("HSG_EDITOR_TRUSTED_PROXIES", "127.0.0.1")
    spoofed = _Request("127.0.0.1", "198.51.100.99, 203.0.113.5")  # nginx appended the real one last
    assert spoofed.client_ip() == "203.0.113.5"


def test_the_editor_trusts_this_machine_by_default(monkeypatch):
    monkeypatch.delenv("HSG_EDITOR_TRUSTED_PROXIES", raising=False)
    assert _Request("::1").from_trusted_proxy() and _Request("127.0.0.1").from_trusted_proxy()
    assert not _Request("192.0.2.1").from_trusted_proxy()
