"""Who did something, as a person reads it.

The audit log and the notices' histories name the actor by a code that stays stable and
searchable ("user:wang", "cli:root", "server", "host:h_…", "token:7"); pages show the words:

    user:<name>     the person's full name, else their user name
    cli:<os user>   命令行（root） / command line (root)
    server          系统 / the system
    host:<id>       计算机 pc-0417 / computer pc-0417 (its host name, else its id)
    token:<n>       注册令牌 #7 / enrollment token #7

A page names many actors at once: `actor_names` looks the users and hosts up in two queries.
An actor of a kind not listed is shown as it is.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import User
from django.utils.translation import gettext as _

from server.fleet.models import Host


def person_name(user: User) -> str:
    """How pages name a user: their full name, else their user name."""
    return user.get_full_name().strip() or user.get_username()


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """Each actor code mapped to the words a page shows for it."""
    codes = set(actors)
    user_names = {code.removeprefix("user:") for code in codes if code.startswith("user:")}
    host_ids = {code.removeprefix("host:") for code in codes if code.startswith("host:")}
    users = {u.get_username(): u for u in User.objects.filter(username__in=user_names)}
    hosts = dict(Host.objects.filter(host_id__in=host_ids).values_list("host_id", "hostname"))
    names: dict[str, str] = {}
    for code in codes:
        kind, _sep, rest = code.partition(":")
        if kind == "user" and rest:
            user = users.get(rest)
            names[code] = person_name(user) if user is not None else rest
        elif kind == "cli" and rest:
            names[code] = _("command line (%(user)s)") % {"user": rest}
        elif code == "server":
            names[code] = _("the system")
        elif kind == "host" and rest:
            names[code] = _("computer %(name)s") % {"name": hosts.get(rest) or rest}
        elif kind == "token" and rest:
            names[code] = _("enrollment token #%(id)s") % {"id": rest}
        else:
            names[code] = code
    return names


def actor_name(actor: str) -> str:
    return actor_names([actor])[actor]
