"""One USB serial number, spelled one way on every OS and in the unit's media register.

A registered stick (专用U盘) is matched by vendor id + product id + serial, so the same stick
must produce the same serial wherever it is seen. Two things make the raw text differ:
- Windows' USB 3 stack reports some SuperSpeed devices' serials with a prefix of its own,
  `MSFT30` (`MSFT304C5300012305211123` in Enum\\USB and USBSTOR for the stick that Linux and
  macOS, reading the device's iSerialNumber, call `4C5300012305211123`);
- case: Windows' device instance ids are upper-case, Linux sysfs and macOS give the
  descriptor's own spelling (hex serials often lower-case), and people type either.

`normalise_serial` removes both differences; facts keep the raw text beside it as evidence.
The agent and the server (the media register) both import this module: it has no
dependencies and must stay that way.
"""

from __future__ import annotations

WINDOWS_USB3_PREFIX = "MSFT30"


def normalise_serial(raw: str) -> str:
    """The comparable form of a serial: trimmed, without Windows' `MSFT30` prefix, upper-case.

    "" stays "" (a device without a serial). A serial that is nothing but the prefix is kept
    as it is: there is nothing else to compare.
    """
    text = raw.strip()
    if len(text) > len(WINDOWS_USB3_PREFIX) and text[: len(WINDOWS_USB3_PREFIX)].upper() == (
        WINDOWS_USB3_PREFIX
    ):
        text = text[len(WINDOWS_USB3_PREFIX) :]
    return text.upper()
