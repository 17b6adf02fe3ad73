"""Every message exists in both languages with the same placeholders."""

from __future__ import annotations

import string

import pytest

from agent.i18n import CATALOGUE, detect_lang, text


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


@pytest.mark.parametrize("key", sorted(CATALOGUE))
def test_each_message_has_both_languages_with_the_same_placeholders(key: str) -> None:
    zh, en = CATALOGUE[key]
    assert zh.strip() and en.strip()
    assert placeholders(zh) == placeholders(en)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), "the Chinese text has no Chinese"


def test_a_chinese_locale_chooses_chinese() -> None:
    assert detect_lang({"LANG": "zh_CN.UTF-8"}) == "zh"
    assert detect_lang({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    assert detect_lang({"LANG": "C.UTF-8"}) == "en"


def test_localised_values_are_substituted_in_their_own_language() -> None:
    inner = text("media.no_serial")
    outer = text("media.phones_found", devices=inner)
    assert outer.zh == "接入了手机/相机：无序列号"
    assert outer.en == "Phone or camera attached: no serial number"
