"""Every write of smart-dispatch state: models (register, activate, roll back), settings, rules,
and automatic dispatch (which writes to the case only through ``cases.actions.dispatch_case``)."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import actions as case_actions
from yiwang.cases.choices import CaseStatus
from yiwang.cases.errors import CaseError
from yiwang.cases.models import Case
from yiwang.core import audit
from yiwang.dispatch.classifier import artifacts, service
from yiwang.dispatch.classifier.model import ALGORITHM, ClassifierInputError, TextClassifier, fit
from yiwang.dispatch.models import ClassifierModel, DispatchSettings
from yiwang.dispatch.routing import RouteDecision, route

logger = logging.getLogger(__name__)


class DispatchActionError(Exception):
    """A smart-dispatch action refused its input (Chinese / English message)."""

    def __init__(self, zh: str, en: str) -> None:
        self.zh, self.en = zh, en
        super().__init__(f"{zh} / {en}")


# --- models -----------------------------------------------------------------------------------
def models_dir() -> Path:
    return Path(settings.DATA_DIR) / "models"


@transaction.atomic
def register_model(
    model: TextClassifier,
    *,
    actor: Any,
    name: str,
    source: str,
    n_train: int,
    label_counts: dict[str, int],
    metrics: dict[str, Any] | None = None,
    activate: bool = False,
) -> ClassifierModel:
    """Save the fitted ``model`` under DATA_DIR/models and record it (inactive unless ``activate``)."""
    path = models_dir() / f"classifier-{timezone.now():%Y%m%d%H%M%S}-{uuid.uuid4().hex[:8]}.pkl"
    sha, size = artifacts.save(model, path)
    row = ClassifierModel.objects.create(
        name=name,
        algorithm=ALGORITHM,
        format_version=artifacts.FORMAT_VERSION,
        source=source,
        n_train=n_train,
        classes=list(model.classes),
        label_counts=dict(label_counts),
        params=dict(model.params, temperature=model.temperature),
        metrics=metrics or {},
        file_path=str(path),
        sha256=sha,
        size_bytes=size,
    )
    audit.record(
        "dispatch.model_registered", actor=actor, object=row, data={"sha256": sha, "n_train": n_train}
    )
    if activate:
        activate_model(actor, row)
    return row


@transaction.atomic
def activate_model(actor: Any, model: ClassifierModel) -> ClassifierModel:
    """Make ``model`` the one active model (its file must load: a broken file is refused)."""
    row = ClassifierModel.objects.select_for_update().get(pk=model.pk)
    try:
        artifacts.load(Path(row.file_path), row.sha256)
    except artifacts.ModelFileError as exc:
        raise DispatchActionError(
            f"模型文件不可用，未启用：{exc}", f"model file unusable, not activated: {exc}"
        ) from exc
    ClassifierModel.objects.filter(is_active=True).exclude(pk=row.pk).update(is_active=False)
    row.is_active = True
    row.activated_at = timezone.now()
    row.save(update_fields=["is_active", "activated_at"])
    audit.record("dispatch.model_activated", actor=actor, object=row, data={"sha256": row.sha256})
    transaction.on_commit(service.reset_cache)
    return row


@transaction.atomic
def rollback_model(actor: Any) -> ClassifierModel:
    """Re-activate the model that was active before the current one."""
    current = ClassifierModel.objects.select_for_update().filter(is_active=True).first()
    earlier = ClassifierModel.objects.filter(activated_at__isnull=False)
    if current is not None:
        earlier = earlier.exclude(pk=current.pk)
    previous = earlier.order_by("-activated_at", "-pk").first()
    if previous is None:
        raise DispatchActionError("没有可回退的历史模型", "no previously active model to roll back to")
    return activate_model(actor, previous)


def training_set_from_cases(min_per_class: int = 20) -> tuple[list[str], list[str], dict[str, int]]:
    """Texts (title + description) and category codes of the closed cases, keeping only categories
    with at least ``min_per_class`` cases. A system read over the whole district (training is an
    administrator's command, not a user's view)."""
    rows = list(
        Case.objects.filter(status=CaseStatus.CLOSED).values_list("title", "description", "category__code")
    )
    if not rows:
        raise ClassifierInputError("没有已结案的案件，无法训练 / no closed cases to train on")
    counts: dict[str, int] = {}
    for _title, _text, code in rows:
        counts[code] = counts.get(code, 0) + 1
    kept = {code for code, n in counts.items() if n >= min_per_class}
    if len(kept) < 2:
        raise ClassifierInputError(
            f"样本数不少于 {min_per_class} 的分类只有 {len(kept)} 个，至少需要 2 个 / "
            f"only {len(kept)} categories have at least {min_per_class} closed cases; at least 2 are needed"
        )
    texts = [f"{title} {text}" for title, text, code in rows if code in kept]
    labels = [code for _t, _d, code in rows if code in kept]
    return texts, labels, {code: counts[code] for code in sorted(kept)}


def train_from_cases(
    actor: Any, *, min_per_class: int = 20, activate: bool = False, **params: Any
) -> ClassifierModel:
    """``yiwang train``: fit on the district's closed cases and register (optionally activate)."""
    texts, labels, counts = training_set_from_cases(min_per_class)
    model = fit(texts, labels, **params)
    return register_model(
        model,
        actor=actor,
        name=f"cases-{timezone.localdate():%Y%m%d}",
        source=f"closed cases (min_per_class={min_per_class})",
        n_train=len(texts),
        label_counts=counts,
        activate=activate,
    )


# --- settings ---------------------------------------------------------------------------------
@transaction.atomic
def update_dispatch_settings(
    actor: Any, *, threshold: Decimal | float | str | None = None, enabled: bool | None = None
) -> DispatchSettings:
    row, _created = DispatchSettings.objects.select_for_update().get_or_create(pk=1)
    if threshold is not None:
        try:
            value = Decimal(str(threshold)).quantize(Decimal("0.001"))
        except InvalidOperation as exc:
            raise DispatchActionError("阈值必须是数字", "threshold must be a number") from exc
        if not Decimal("0.5") <= value <= Decimal("1"):
            raise DispatchActionError("阈值须在 0.5 到 1 之间", "threshold must lie between 0.5 and 1")
        row.auto_dispatch_threshold = value
    if enabled is not None:
        row.auto_dispatch_enabled = enabled
    row.save()
    audit.record(
        "dispatch.settings_changed",
        actor=actor,
        object=row,
        data={"threshold": str(row.auto_dispatch_threshold), "enabled": row.auto_dispatch_enabled},
    )
    return row


# --- automatic dispatch -----------------------------------------------------------------------
@dataclass
class Decision:
    """What auto-dispatch did (``dispatched``) or suggests to the dispatcher, and why."""

    dispatched: bool
    reason: str
    suggestions: Sequence[service.Suggestion] = field(default_factory=list)
    route: RouteDecision | None = None
    case: Case | None = None


def auto_dispatch(case: Case, actor: Any, *, at: dt.datetime | None = None) -> Decision:
    """Dispatch ``case`` automatically when the classifier is confident enough (≥ the configured
    threshold), agrees with the case's category, and a routing rule (not the fallback) names the
    departments. Otherwise only suggest, writing nothing. The dispatch itself is
    ``cases.actions.dispatch_case`` (its checks, event and notifications)."""
    suggestions = service.suggest_categories(f"{case.title} {case.description}", limit=3)
    # The divisions were resolved at intake; a case without a place still matches district-wide rules.
    places = [d for d in (case.community, case.street, case.district) if d is not None]
    decision = route(case.category, divisions=places)
    config = DispatchSettings.current()

    def suggest(reason: str) -> Decision:
        return Decision(False, reason, suggestions, decision, case)

    if case.status != CaseStatus.REGISTERED:
        return suggest(_("案件不是待派遣状态"))
    if not config.auto_dispatch_enabled:
        return suggest(_("自动派单未启用"))
    if not suggestions:
        return suggest(_("没有可用的分类建议"))
    top = suggestions[0]
    if Decimal(str(top.confidence)) < config.auto_dispatch_threshold:
        return suggest(
            _("置信度 %(p).2f 低于阈值 %(t)s") % {"p": top.confidence, "t": config.auto_dispatch_threshold}
        )
    if top.code != case.category.code:
        return suggest(_("建议分类 %(code)s 与案件分类不一致") % {"code": top.code})
    if decision is None or decision.source != "rule":
        return suggest(_("没有匹配的派单规则"))
    note = _("自动派单：%(name)s（置信度 %(p).2f）；%(why)s") % {
        "name": top.name,
        "p": top.confidence,
        "why": decision.explanation,
    }
    try:
        updated = case_actions.dispatch_case(
            case.pk,
            actor=actor,
            lead=decision.lead,
            assisting=decision.assisting,
            note=note,
            at=at,
            expected_status=CaseStatus.REGISTERED,
        )
    except CaseError as exc:
        return suggest(str(exc))
    return Decision(True, note, suggestions, decision, updated)
