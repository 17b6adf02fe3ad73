"""Which of the glossary's two languages the reader of this page or message reads.

Django knows the active language ("zh-hans", "en", …); the glossary and the texts agents send
come in "zh" and "en". Every page, notice and alert asks here, so a reader of a Chinese page
never meets an English word the glossary has in Chinese.
"""

from __future__ import annotations

from django.utils import translation

from agent.glossary import Lang


def reader_lang() -> Lang:
    return "zh" if (translation.get_language() or "zh-hans").lower().startswith("zh") else "en"
