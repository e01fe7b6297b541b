"""Our models as Open311 resources: Category → service, CategoryAttribute → attribute, Case →
service request, CaseEvent → FixMyStreet request update. Reads only, never personal data."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from yiwang.cases.choices import OPEN_STATUSES, CaseStatus, Channel, EventKind
from yiwang.cases.models import Case, CaseEvent, CaseQuerySet, Category, CategoryAttribute
from yiwang.cases.models.attribute import LIST_DATATYPES
from yiwang.core import pii

# Channels whose cases never appear in the public API (DESIGN: 110-linked and mediation cases);
# "mediation" is listed ahead of the governance app that will add it. Overridable as a setting.
DEFAULT_HIDDEN_CHANNELS = (Channel.POLICE_110.value, Channel.MEDIATION.value)
# Cases that left the pipeline for a non-public reason: voided (often spam) or handed to 110.
HIDDEN_STATUSES = (CaseStatus.CANCELLED, CaseStatus.TRANSFERRED)
# Timeline events that say something a citizen may know (no notes: they can hold names).
PUBLIC_EVENT_KINDS = (
    EventKind.REGISTERED,
    EventKind.ANSWERED_DIRECTLY,
    EventKind.DISPATCHED,
    EventKind.SIGNED,
    EventKind.RETURNED,
    EventKind.EXTENSION_APPROVED,
    EventKind.RESOLVED,
    EventKind.VERIFIED,
    EventKind.VERIFICATION_FAILED,
    EventKind.REOPENED,
    EventKind.MERGED,
    EventKind.SUSPENDED,
    EventKind.RESUMED,
)

# Personal data that citizens type into descriptions: mobile and landline numbers, ID numbers,
# e-mail addresses. Masked in every public description.
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[-\s]?)?1[3-9]\d(?:[-\s]?\d{4}){2}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}[-－\s]?\d{7,8}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def redact(text: str) -> str:
    """``text`` with phone numbers, ID numbers and e-mail addresses masked."""
    text = _ID_NUMBER.sub(lambda m: pii.mask_id_number(m.group()), text)
    text = _MOBILE.sub(lambda m: pii.mask_phone(m.group()), text)
    text = _LANDLINE.sub(lambda m: pii.mask_phone(m.group()), text)
    return _EMAIL.sub("***@***", text)


def w3c(moment: dt.datetime | None) -> str | None:
    """A W3C date-time with the zone, in Beijing time (``2026-03-11T10:00:00+08:00``)."""
    if moment is None:
        return None
    return timezone.localtime(moment).isoformat(timespec="seconds")


# --- services -------------------------------------------------------------------------------------
def public_categories() -> QuerySet[Category]:
    has_attributes = Exists(CategoryAttribute.objects.filter(category=OuterRef("pk")))
    return (
        Category.objects.public()
        .select_related("parent")
        .annotate(has_attributes=has_attributes)
        .order_by("kind", "sort_order", "code")
    )


def _keywords(category: Category) -> str:
    words = [category.get_kind_display(), category.standard_code]
    if category.demand_kind:
        words.append(category.get_demand_kind_display())
    if category.parent is not None:
        words.append(category.parent.name)
    return ", ".join(str(w) for w in words if w)


def _description(category: Category) -> str:
    path = f"{category.parent.name} · {category.name}" if category.parent else category.name
    ref = f"（{category.standard_ref} {category.standard_code}）" if category.standard_ref else ""
    return f"{category.get_kind_display()}：{path}{ref}"


def service_item(category: Category) -> dict[str, Any]:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": _description(category),
        "metadata": bool(getattr(category, "has_attributes", False)),
        "type": "realtime",
        "keywords": _keywords(category),
        "group": category.parent.name if category.parent else None,
    }


def attribute_item(attribute: CategoryAttribute) -> dict[str, Any]:
    item: dict[str, Any] = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype,
        "required": attribute.required,
        "datatype_description": attribute.datatype_description or None,
        "order": attribute.order,
        "description": attribute.description,
    }
    if attribute.datatype in LIST_DATATYPES:
        item["values"] = [
            {"key": str(v.get("key")), "name": str(v.get("name", v.get("key")))}
            for v in attribute.values or []
            if isinstance(v, dict) and v.get("key") not in (None, "")
        ]
    return item


def service_definition(category: Category) -> dict[str, Any]:
    attributes = CategoryAttribute.objects.filter(category=category).order_by("order")
    return {"service_code": category.code, "attributes": [attribute_item(a) for a in attributes]}


def changeset() -> dt.datetime:
    """When the service list or a service definition last changed (for discovery)."""
    moments = [
        Category.objects.public().order_by("-updated_at").values_list("updated_at", flat=True).first(),
        CategoryAttribute.objects.order_by("-updated_at").values_list("updated_at", flat=True).first(),
    ]
    known = [m for m in moments if m is not None]
    return max(known) if known else timezone.now()


# --- service requests -----------------------------------------------------------------------------
def hidden_channels() -> tuple[str, ...]:
    return tuple(getattr(settings, "YIWANG_OPEN311_HIDDEN_CHANNELS", DEFAULT_HIDDEN_CHANNELS))


def public_cases() -> CaseQuerySet:
    """Every case the public may see: not confidential, of a public non-confidential category,
    not from a hidden channel (110, mediation), not voided nor handed to 110."""
    return (
        Case.objects.filter(is_confidential=False, category__is_public=True, category__is_confidential=False)
        .exclude(channel__in=hidden_channels())
        .exclude(status__in=HIDDEN_STATUSES)
    )


def open311_status(status: str) -> str:
    return "open" if status in OPEN_STATUSES else "closed"


def _status_notes(case: Case) -> str:
    notes = str(CaseStatus(case.status).label)
    if case.suspended_at is not None and case.status in OPEN_STATUSES:
        notes += "（挂账）"
    return notes


def _submission(case: Case) -> Any:
    try:
        return case.open311
    except Case.open311.RelatedObjectDoesNotExist:
        return None


def request_item(case: Case) -> dict[str, Any]:
    """One service request; carries no reporter field (name, phone, e-mail, account, device)."""
    submission = _submission(case)
    closed = case.status not in OPEN_STATUSES
    media = submission.media_urls if submission is not None else []
    updated = (case.closed_at or case.updated_at) if closed else case.updated_at
    return {
        "service_request_id": case.number,
        "status": open311_status(case.status),
        "status_notes": _status_notes(case),
        "service_name": case.category.name,
        "service_code": case.category.code,
        "description": redact(case.description),
        "agency_responsible": case.lead_department.name if case.lead_department else None,
        "service_notice": None,
        "requested_datetime": w3c(case.created_at),
        "updated_datetime": w3c(updated),
        "expected_datetime": None if closed else w3c(case.resolve_due_at),
        "address": case.address or None,
        "address_id": (submission.address_id or None) if submission is not None else None,
        "zipcode": None,
        "lat": round(case.lat, 6) if case.lat is not None else None,
        "long": round(case.lng, 6) if case.lng is not None else None,
        "media_url": media[0] if media else None,
    }


def with_request_relations(cases: CaseQuerySet) -> CaseQuerySet:
    # The encrypted reporter columns are never shown here: deferring them skips a Fernet
    # decryption per row (~30 µs each, 1,000 rows a page).
    return cases.select_related("category", "lead_department", "open311").defer(
        "reporter_phone", "reporter_name", "reporter_phone_hash", "result"
    )


# --- request updates (FixMyStreet extension) -----------------------------------------------------
def public_events() -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case__in=public_cases(), kind__in=PUBLIC_EVENT_KINDS)


def update_item(event: CaseEvent) -> dict[str, Any]:
    """One timeline step: its kind (Chinese label) as the description, never the staff note."""
    status = event.to_status or event.case.status
    return {
        "update_id": str(event.pk),
        "service_request_id": event.case.number,
        "status": open311_status(status),
        "updated_datetime": w3c(event.at),
        "description": str(EventKind(event.kind).label),
        "media_url": None,
        "external_status_code": event.kind,
    }
