"""The SSRF guard: metadata and link-local never, private ranges only when allowed,
loopback always (local providers)."""

from __future__ import annotations

import pytest

from omni.errors import InvalidInputError
from omni.providers.urlguard import check_url


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data",
        "http://[fd00:ec2::254]/v1",
        "http://169.254.10.1:8080/v1",
        "http://[fe80::1]/v1",
        "http://metadata.google.internal/computeMetadata/v1",
        "http://0.0.0.0:11434",
    ],
)
def test_never_allowed(url: str) -> None:
    for allow_private in (False, True):
        with pytest.raises(InvalidInputError, match="omni will not call it"):
            check_url(url, allow_private=allow_private)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/v1",
        "http://172.16.5.4/v1",
        "https://192.168.1.20:8443",
        "http://[fd12::1]/",
    ],
)
def test_private_only_when_allowed(url: str) -> None:
    with pytest.raises(InvalidInputError, match="private network address") as caught:
        check_url(url)
    assert caught.value.hint is not None and "allow_private_urls" in caught.value.hint
    assert check_url(url, allow_private=True) == url.rstrip("/")


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:11434", "http://localhost:1234/v1/", "http://[::1]:8000/v1"]
)
def test_loopback_is_allowed_for_local_providers(url: str) -> None:
    assert check_url(url) == url.rstrip("/")


def test_hostnames_are_resolved_and_checked() -> None:
    # 'localhost' resolves to loopback: allowed; an IPv4-mapped IPv6 is seen through.
    assert check_url("http://localhost:9") == "http://localhost:9"
    with pytest.raises(InvalidInputError, match="cloud metadata"):
        check_url("http://[::ffff:169.254.169.254]/")


@pytest.mark.parametrize(
    "url", ["ftp://example.com", "example.com/v1", "http://", "http://h:99999"]
)
def test_not_a_web_url(url: str) -> None:
    with pytest.raises(InvalidInputError):
        check_url(url)
