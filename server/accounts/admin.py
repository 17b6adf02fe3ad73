"""Django admin (/admin/, superusers only) for users, units, memberships and enrollment tokens.

The admin is the superuser's tool for what the command line also does; every change made
through it is written to the audit log like the command line's, under "user:<name>".
- Units: a unit's materialised path is derived from its parent and name when it is created;
  name and parent are fixed afterwards, because the paths of everything below would change.
- Enrollment tokens: listed and revoked only. The clear token exists once, when it is created
  (`custos-server token create`, or the dashboard's tokens page); only its hash is stored, and
  not even that is shown here.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import QuerySet
from django.forms import BaseInlineFormSet, ModelForm
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from server.accounts import audit
from server.accounts.models import LoginFailure, Membership, Unit
from server.accounts.models.units import PATH_SEPARATOR
from server.accounts.units import split_path
from server.errors import AdminError
from server.fleet.models import EnrollmentToken
from server.fleet.tokens import revoke_token


def _actor(request: HttpRequest) -> str:
    return f"user:{request.user.get_username()}"


def _membership_details(membership: Membership) -> dict[str, str]:
    return {"user": membership.user.get_username(), "unit": membership.unit.path}


# --- units -------------------------------------------------------------------------------


class UnitForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Unit
        fields = ("name", "parent")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        name, parent = cleaned.get("name"), cleaned.get("parent")
        if name:
            try:
                (checked,) = split_path(name)
            except (AdminError, ValueError):
                raise forms.ValidationError(
                    _("A unit name is one level: no '/', no control characters.")
                ) from None
            path = f"{parent.path}{PATH_SEPARATOR}{checked}" if parent else checked
            if Unit.objects.filter(path=path).exists():
                raise forms.ValidationError(_("This unit exists already."))
            self.instance.path = path
            self.instance.name = checked
        return cleaned


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    form = UnitForm
    list_display = ("path", "name", "created_at")
    search_fields = ("path",)
    ordering = ("path",)

    def get_readonly_fields(self, request: HttpRequest, obj: Unit | None = None) -> list[str]:
        return ["name", "parent", "path", "created_at"] if obj is not None else []

    def get_fields(self, request: HttpRequest, obj: Unit | None = None) -> list[Any]:
        return ["name", "parent", "path", "created_at"] if obj is not None else ["name", "parent"]

    def save_model(
        self,
        request: HttpRequest,
        obj: Unit,
        form: ModelForm,  # type: ignore[type-arg]
        change: bool,
    ) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            parent = obj.parent.path if obj.parent else None
            audit.record(_actor(request), "unit.add", obj.path, {"parent": parent})

    def delete_model(self, request: HttpRequest, obj: Unit) -> None:
        path = obj.path
        super().delete_model(request, obj)
        audit.record(_actor(request), "unit.delete", path, {})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Unit]) -> None:
        for unit in queryset:
            self.delete_model(request, unit)


# --- memberships -------------------------------------------------------------------------


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("user", "unit", "role", "created_at")
    list_filter = ("role",)
    search_fields = ("user__username", "unit__path")
    autocomplete_fields = ("unit",)
    fields = ("user", "unit", "role")

    def save_model(
        self,
        request: HttpRequest,
        obj: Membership,
        form: ModelForm,  # type: ignore[type-arg]
        change: bool,
    ) -> None:
        super().save_model(request, obj, form, change)
        details = {**_membership_details(obj), "role": obj.role}
        action = "membership.change" if change else "membership.add"
        audit.record(_actor(request), action, obj.user.get_username(), details)

    def delete_model(self, request: HttpRequest, obj: Membership) -> None:
        details = _membership_details(obj)
        super().delete_model(request, obj)
        audit.record(_actor(request), "membership.delete", details["user"], details)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.select_related("user", "unit"):
            self.delete_model(request, membership)


# --- users -------------------------------------------------------------------------------


class MembershipInline(admin.TabularInline):  # type: ignore[type-arg]
    model = Membership
    extra = 0
    fields = ("unit", "role")
    autocomplete_fields = ("unit",)


admin.site.unregister(User)
admin.site.unregister(Group)  # roles are memberships on units, not Django groups


@admin.register(User)
class CustosUserAdmin(UserAdmin):  # type: ignore[type-arg]
    inlines = (MembershipInline,)
    list_display = ("username", "is_active", "is_superuser", "last_login")
    list_filter = ("is_active", "is_superuser")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("first_name", "last_name", "email")}),
        (_("Access"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )

    def save_model(
        self,
        request: HttpRequest,
        obj: User,
        form: ModelForm,  # type: ignore[type-arg]
        change: bool,
    ) -> None:
        super().save_model(request, obj, form, change)
        changed = sorted(form.changed_data) if change else []
        details: dict[str, Any] = {"fields": [name for name in changed if name != "password"]}
        if "password" in changed or not change:
            details["password_set"] = True
        action = "user.change" if change else "user.add"
        audit.record(_actor(request), action, obj.get_username(), details)

    def save_formset(
        self,
        request: HttpRequest,
        form: ModelForm,  # type: ignore[type-arg]
        formset: BaseInlineFormSet,  # type: ignore[type-arg]
        change: bool,
    ) -> None:
        super().save_formset(request, form, formset, change)
        actor = _actor(request)
        for row in formset.deleted_objects:  # deleted rows keep their user and unit ids
            details = _membership_details(row)
            audit.record(actor, "membership.delete", details["user"], details)
        for row in formset.new_objects:
            details = {**_membership_details(row), "role": row.role}
            audit.record(actor, "membership.add", details["user"], details)
        for row, _fields in formset.changed_objects:
            details = {**_membership_details(row), "role": row.role}
            audit.record(actor, "membership.change", details["user"], details)

    def delete_model(self, request: HttpRequest, obj: User) -> None:
        name = obj.get_username()
        super().delete_model(request, obj)
        audit.record(_actor(request), "user.delete", name, {})

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        for user in queryset:
            self.delete_model(request, user)


# --- enrollment tokens -------------------------------------------------------------------


@admin.register(EnrollmentToken)
class EnrollmentTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("id", "unit", "note", "uses_left", "expires_at", "revoked_at", "created_at")
    list_filter = ("revoked_at",)
    search_fields = ("unit__path", "note")
    fields = ("unit", "note", "uses_left", "expires_at", "revoked_at", "created_by", "created_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created where the clear token can be shown once: CLI or tokens page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # revoked, never deleted: hosts and the audit log refer to them

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[EnrollmentToken]) -> None:
        pending = list(queryset.filter(revoked_at__isnull=True).values_list("pk", flat=True))
        for pk in pending:
            revoke_token(pk, _actor(request))
        self.message_user(
            request,
            ngettext(
                "%(count)d token revoked at %(time)s.",
                "%(count)d tokens revoked at %(time)s.",
                len(pending),
            )
            % {"count": len(pending), "time": timezone.localtime().strftime("%Y-%m-%d %H:%M")},
            messages.SUCCESS,
        )


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read only: what the sign-in throttle counts right now."""

    list_display = ("username", "address", "device", "at")
    search_fields = ("username", "address")
    readonly_fields = ("username", "address", "device", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
