"""Which proxies are believed, and the client address behind them (no Rasa imports).

HSG_TRUSTED_PROXIES (addresses or networks, comma- or space-separated) names the
proxies in front of Rasa whose forwarded headers count: the SMS channel reads the
scheme and host they forward (components/twilio_sms.py), the REST channel the client
address they forward in X-Forwarded-For, for its per-address rate limit
(components/channels.py). Unset, it is the loopback addresses in the production
profile (its nginx, on this machine; the profile is recognised by HSG_PG_HOST) and
nothing in the embedded one; set it empty to trust no proxy.
"""

from __future__ import annotations

import ipaddress
import logging
import os
from typing import Any, Dict, List, Optional, Sequence, Union

logger = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1,::1"  # the production profile's nginx; the machine itself
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]


def trusted_networks(setting: Union[str, Sequence[str], None]) -> List[Network]:
    """Addresses or networks, comma- or space-separated (a list from credentials.yml
    works too); an entry that is neither is logged and left out."""
    entries = setting.replace(",", " ").split() if isinstance(setting, str) else [str(e) for e in setting or []]
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            logger.warning("HSG_TRUSTED_PROXIES: %r is not an IP address or network; ignored", entry[:60])
    return networks


def default_trusted_proxies(credentials: Dict[str, Any]) -> Union[str, Sequence[str]]:
    """HSG_TRUSTED_PROXIES, else credentials.yml's `trusted_proxies`, else loopback in
    the production profile (HSG_PG_HOST is set: nginx on this machine is in front)
    and nothing in the embedded one."""
    if "HSG_TRUSTED_PROXIES" in os.environ:
        return os.environ["HSG_TRUSTED_PROXIES"]
    if credentials.get("trusted_proxies") is not None:
        return credentials["trusted_proxies"]
    return LOOPBACK if os.environ.get("HSG_PG_HOST") else ""


def parse_address(value: str) -> Optional[Union[ipaddress.IPv4Address, ipaddress.IPv6Address]]:
    """An IP address (an IPv4-mapped IPv6 one as IPv4; brackets dropped), or None."""
    try:
        address = ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:  # a UNIX socket, a name, nothing
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def is_trusted(peer: str, networks: Sequence[Network]) -> bool:
    address = parse_address(peer)
    return address is not None and any(address in network for network in networks)


def client_address(peer: str, forwarded_for: Optional[str], networks: Sequence[Network]) -> str:
    """The address of the client: the peer's own, or, when the peer is a trusted proxy,
    the nearest address in X-Forwarded-For that is not a trusted proxy (what a client
    writes into the header itself is further left, so it cannot choose its address)."""
    address = peer
    if is_trusted(peer, networks):
        for hop in reversed([hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]):
            address = hop
            if not is_trusted(hop, networks):
                break
    parsed = parse_address(address)
    return str(parsed) if parsed is not None else address[:64]
