"""Hosts whose reports name an OS the agent does not support are shown as such (issue 12)."""

from __future__ import annotations

from typing import Any

import pytest

from server.fleet.models import Host
from server.fleet.os_support import is_unsupported_os
from tests.dashboard.seed import Machine, client_for, page_text

pytestmark = pytest.mark.server


@pytest.mark.parametrize(
    ("platform", "os_name", "os_version", "unsupported"),
    [
        ("windows", "Windows 7 Professional Service Pack 1", "6.1.7601", True),
        ("windows", "Windows 8.1 Pro", "6.3.9600", True),
        ("windows", "Windows 10 Pro 22H2", "10.0.19045.4529", False),
        ("windows", "Windows 11 Pro 23H2", "10.0.22631.3724", False),
        ("windows", "Windows 7 Enterprise", "", True),  # no version: judged by its name
        ("windows", "", "", False),  # nothing known: not flagged
        ("linux", "UOS 20", "20", False),
    ],
)
def test_windows_before_10_is_unsupported(
    platform: str, os_name: str, os_version: str, unsupported: bool
) -> None:
    assert is_unsupported_os(platform, os_name, os_version) is unsupported


@pytest.fixture
def windows7(world: Any, fleet: Any) -> Any:
    (pc,) = fleet.machines(world.office, Machine())
    fleet.report(pc)
    Host.objects.filter(host_id=pc.agent.host_id).update(
        platform="windows", os_name="Windows 7 Professional", os_version="6.1.7601.24544"
    )
    return pc


@pytest.mark.parametrize(
    ("language", "badge", "note"),
    [
        ("en", "unsupported OS", "Windows 7 Professional is not supported"),
        ("zh-hans", "操作系统不受支持", "Windows 7 Professional 不受支持"),
    ],
)
def test_the_host_page_and_list_say_the_os_is_unsupported(
    world: Any, windows7: Any, language: str, badge: str, note: str
) -> None:
    browser = client_for(world.admin, language)
    detail = page_text(browser.get(f"/hosts/{windows7.agent.host_id}/").content)
    assert badge in detail
    assert note in detail
    assert badge in page_text(browser.get("/hosts/").content)


def test_a_supported_host_carries_no_such_mark(world: Any, fleet: Any) -> None:
    (pc,) = fleet.machines(world.office, Machine())
    fleet.report(pc)
    text = page_text(client_for(world.admin).get(f"/hosts/{pc.agent.host_id}/").content)
    assert "unsupported OS" not in text
