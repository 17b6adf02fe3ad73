"""django.contrib.admin with the Custos site (`admin_site.CustosAdminSite`).

A module of its own because INSTALLED_APPS imports it before models are ready; the site is
named by its dotted path and imported by the admin app once they are.
"""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class CustosAdminConfig(AdminConfig):
    default_site = "server.accounts.admin_site.CustosAdminSite"
