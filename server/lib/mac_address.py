"""One spelling of a MAC address, whatever notation a spreadsheet, an agent or a lease file
uses: six lower-case hexadecimal pairs joined by colons, "52:54:00:12:34:56".

The roster (typed by people in Excel), agents (each OS spells MACs its own way) and imports of
leases and switch tables must compare MAC addresses with each other; each of them goes through
`normalise_mac`, so equal addresses are equal strings and the database can index them.

Accepted notations (upper or lower case, full-width characters and stray spaces around the
address are tolerated, as `unicodedata` NFKC makes them ASCII):

    52:54:00:12:34:56   52-54-00-12-34-56   (IEEE, Windows)
    5254.0012.3456                           (Cisco)
    5254-0012-3456                           (Huawei, H3C)
    525400123456                             (bare)
    52:54:0:12:34:56                         (BSD/macOS `arp`, which drops leading zeros)

Anything else (EUI-64, seven groups, a stray letter) is not a MAC address: `normalise_mac`
returns None and the caller says so where the value came from. The all-zero and broadcast
addresses are valid spellings but name no device: `is_device_mac` tells them apart.
"""

from __future__ import annotations

import re
import unicodedata

_SIX_GROUPS = re.compile(r"[0-9a-f]{1,2}(?P<sep>[:\-])(?:[0-9a-f]{1,2}(?P=sep)){4}[0-9a-f]{1,2}")
_THREE_GROUPS = re.compile(r"[0-9a-f]{4}(?P<sep>[.\-])[0-9a-f]{4}(?P=sep)[0-9a-f]{4}")
_BARE = re.compile(r"[0-9a-f]{12}")
# Between several addresses in one spreadsheet cell: what people type.
_LIST_SEPARATORS = re.compile(r"[\s,;/|、，；]+")
NOT_A_DEVICE = frozenset({"00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"})


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def normalise_mac(text: str) -> str | None:
    """`text` as "aa:bb:cc:dd:ee:ff", or None when it is not a MAC address."""
    value = _ascii(text)
    if _SIX_GROUPS.fullmatch(value):
        groups = re.split(r"[:\-]", value)
        return ":".join(group.rjust(2, "0") for group in groups)
    if _THREE_GROUPS.fullmatch(value) or _BARE.fullmatch(value):
        digits = re.sub(r"[.\-]", "", value)
        return ":".join(digits[index : index + 2] for index in range(0, 12, 2))
    return None


def is_device_mac(mac: str) -> bool:
    """Whether a normalised address can name a network card (not all-zero, not broadcast)."""
    return mac not in NOT_A_DEVICE


def split_mac_list(text: str) -> list[str]:
    """The pieces of a cell that lists several addresses ("aa-bb-…；cc:dd:…"), unchecked.

    Separators are whitespace, commas, semicolons, slashes, bars and their full-width forms.
    A space inside one address ("52 54 00 12 34 56") is not supported: it reads as six
    pieces, each of which `normalise_mac` then refuses, so the mistake is reported.
    """
    return [piece for piece in _LIST_SEPARATORS.split(_ascii(text)) if piece]
