"""Which endpoint URLs a webhook may have: http(s) with a host, and (unless private addresses
are allowed) a host whose every address is globally routable, IPv4 and IPv6."""

from __future__ import annotations

import pytest

from commands.webhook_urls import check_endpoint, endpoint_host, refused
from domain.errors import InvalidCommand

REFUSED = [
    "127.0.0.1",
    "127.8.9.10",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # link-local: cloud metadata
    "0.0.0.0",
    "100.64.0.1",  # carrier-grade NAT
    "224.0.0.1",
    "255.255.255.255",
    "::1",
    "::",
    "fe80::1",
    "fe80::1%eth0",
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",  # IPv4-mapped loopback
    "::ffff:10.0.0.1",
    "ff02::1",
]
ALLOWED = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", REFUSED)
def test_non_public_addresses_are_refused(address):
    assert refused(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    assert not refused(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://[::1]/hook",
        "https://10.0.0.5/",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/",
        "http://[fe80::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://localhost/",
    ],
)
def test_urls_resolving_to_refused_addresses_are_not_allowed(url):
    with pytest.raises(InvalidCommand) as no:
        check_endpoint(url, allow_private=False)
    assert no.value.code == "url_not_allowed"


def test_a_public_literal_is_allowed_and_allowing_private_lifts_the_rule():
    check_endpoint("https://93.184.216.34/hook", allow_private=False)
    check_endpoint("http://127.0.0.1:9/hook", allow_private=True)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/x",
        "file:///etc/passwd",
        "gopher://example.com",
        "example.com/hook",
        "http:///nohost",
        "http://user:pw@example.com/",
        "http://example.com/#frag",
        "http://example.com:99999/",
    ],
)
def test_only_http_and_https_urls_with_a_host(url):
    with pytest.raises(InvalidCommand) as no:
        endpoint_host(url)
    assert no.value.code == "invalid_url"
