"""Open311 GeoReport v2 views (public; plain Django views, CSRF-exempt, no staff authentication).

Every view answers in the format of its path suffix (``.json`` / ``.xml``), errors included, with
the exact status codes of the spec: 404 unknown resource, 403 missing or bad ``api_key``, 400
anything else (plus 429 over a key's hourly limit and 405 for a wrong method). No view writes
anything except ``POST requests``, which goes through ``api.actions.submit_service_request``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.views.decorators.csrf import csrf_exempt

from yiwang.api.actions import (
    find_api_key,
    public_category,
    record_key_use,
    submit_service_request,
)
from yiwang.api.models import ApiKey, Open311Submission
from yiwang.api.open311 import mapping, ratelimit
from yiwang.api.open311.params import (
    Open311Error,
    bad,
    comma_list,
    date_window,
    form_data,
    optional,
    service_request_input,
    url_safe_id,
)
from yiwang.api.open311.render import FORMATS, render, render_error
from yiwang.cases.choices import OPEN_STATUSES
from yiwang.cases.errors import ActionForbidden, CaseError, CaseNotFound
from yiwang.core.audit import client_ip

DEFAULT_JURISDICTION = "huangdao.gov.cn"
MAX_RESULTS = 1000
SPEC_URL = "http://wiki.open311.org/GeoReport_v2"
TOKEN_HEADER = "X-Open311-Token"  # noqa: S105 - a header name, not a secret

View = Callable[..., HttpResponse]


def jurisdiction_id() -> str:
    return str(getattr(settings, "YIWANG_OPEN311_JURISDICTION", DEFAULT_JURISDICTION))


def check_jurisdiction(*sources: QueryDict | MultiValueDict[str, str]) -> None:
    """Absent or empty: fine on this single-jurisdiction endpoint (unless the deployment sets
    ``YIWANG_OPEN311_REQUIRE_JURISDICTION``); any other value than ours: 404."""
    given = next((optional(s, "jurisdiction_id") for s in sources if optional(s, "jurisdiction_id")), "")
    if not given:
        if getattr(settings, "YIWANG_OPEN311_REQUIRE_JURISDICTION", False):
            raise bad("缺少 jurisdiction_id", "jurisdiction_id is required")
        return
    if given != jurisdiction_id():
        raise Open311Error(
            404, f"未知的 jurisdiction_id：{given[:64]}", f"jurisdiction_id {given[:64]!r} not found"
        )


def _case_error(exc: CaseError) -> Open311Error:
    if isinstance(exc, CaseNotFound):
        return Open311Error(404, exc.zh, exc.en)
    if isinstance(exc, ActionForbidden):
        return Open311Error(403, exc.zh, exc.en)
    return Open311Error(400, exc.zh, exc.en)


def open311(*methods: str) -> Callable[[View], View]:
    """Wrap an Open311 view: allowed methods, ``jurisdiction_id`` on GETs, errors as Open311 lists."""

    def wrap(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def inner(request: HttpRequest, fmt: str, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in methods:
                    response = render_error(
                        fmt,
                        405,
                        f"不支持 {request.method} 方法（可用：{', '.join(methods)}）",
                        code=405,
                    )
                    response["Allow"] = ", ".join(methods)
                    return response
                if request.method == "GET":
                    check_jurisdiction(request.GET)
                return view(request, fmt, **kwargs)
            except Open311Error as exc:
                return render_error(fmt, exc.status, exc.description)
            except CaseError as exc:
                error = _case_error(exc)
                return render_error(fmt, error.status, error.description)

        return inner

    return wrap


# --- discovery and services ---------------------------------------------------------------------------
@open311("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    base = request.build_absolute_uri(reverse("open311:services", kwargs={"fmt": "xml"}))
    changeset = mapping.w3c(mapping.changeset())
    value = {
        "changeset": changeset,
        "contact": str(getattr(settings, "YIWANG_OPEN311_CONTACT", "黄岛区 12345 政务服务便民热线")),
        "key_service": str(
            getattr(
                settings,
                "YIWANG_OPEN311_KEY_SERVICE",
                "向系统管理员申请 API 密钥（yiwang apikey create 名称）/ ask the administrators for an api_key",
            )
        ),
        "endpoints": [
            {
                "specification": SPEC_URL,
                "url": base.removesuffix("services.xml").rstrip("/"),
                "changeset": changeset,
                "type": str(getattr(settings, "YIWANG_OPEN311_ENDPOINT_TYPE", "production")),
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(value, fmt, "discovery")


@open311("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    return render([mapping.service_item(c) for c in mapping.public_categories()], fmt, "services")


@open311("GET")
def service_definition(request: HttpRequest, fmt: str, code: str) -> HttpResponse:
    if not mapping_code_ok(code):
        raise Open311Error(
            404,
            f"未知的服务代码：{code[:64]}（代码只含字母、数字、下划线和连字符）",
            f"service_code {code[:64]!r} not found (codes use only letters, digits, '_' and '-')",
        )
    category = public_category(code)
    return render(mapping.service_definition(category), fmt, "service_definition")


def mapping_code_ok(code: str) -> bool:
    try:
        url_safe_id(code, "代码", "code")
    except Open311Error:
        return False
    return True


# --- service requests --------------------------------------------------------------------------------
@open311("GET", "POST")
def requests_view(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _post_request(request, fmt)
    return render([mapping.request_item(c) for c in _query(request.GET)], fmt, "service_requests")


def _query(params: QueryDict) -> list[Any]:
    cases = mapping.public_cases()
    ids = comma_list(optional(params, "service_request_id"))
    if ids:  # overrides every other filter (spec)
        if len(ids) > MAX_RESULTS:
            raise bad(
                f"service_request_id 最多 {MAX_RESULTS} 个", f"at most {MAX_RESULTS} service_request_id"
            )
        cases = cases.filter(
            number__in=[url_safe_id(i, "service_request_id", "service_request_id") for i in ids]
        )
    else:
        codes = comma_list(optional(params, "service_code"))
        if codes:
            cases = cases.filter(
                category__code__in=[url_safe_id(c, "service_code", "service_code") for c in codes]
            )
        start, end = date_window(optional(params, "start_date"), optional(params, "end_date"), timezone.now())
        cases = cases.filter(created_at__gte=start, created_at__lte=end)
        cases = _status_filter(cases, comma_list(optional(params, "status")))
    ordered = mapping.with_request_relations(cases).order_by("-created_at", "-id")
    return list(ordered[:MAX_RESULTS])


def _status_filter(cases: Any, statuses: list[str]) -> Any:
    wanted = {s.lower() for s in statuses}
    unknown = wanted - {"open", "closed"}
    if unknown:
        raise bad(
            f"status 只能是 open 或 closed（收到 {', '.join(sorted(unknown))}）",
            f"status must be open and/or closed (got {', '.join(sorted(unknown))})",
        )
    if wanted == {"open"}:
        return cases.filter(status__in=OPEN_STATUSES)
    if wanted == {"closed"}:
        return cases.exclude(status__in=OPEN_STATUSES)
    return cases


@open311("GET")
def request_detail(request: HttpRequest, fmt: str, request_id: str) -> HttpResponse:
    if not mapping_code_ok(request_id):
        raise bad(
            f"service_request_id「{request_id[:64]}」无效：只能包含字母、数字、下划线和连字符",
            f"invalid service_request_id {request_id[:64]!r}: only letters, digits, '_' and '-'",
        )
    case = mapping.with_request_relations(mapping.public_cases()).filter(number=request_id).first()
    if case is None:
        raise Open311Error(404, f"未找到服务请求 {request_id}", f"service request {request_id} not found")
    return render([mapping.request_item(case)], fmt, "service_requests")


@open311("GET")
def token_view(request: HttpRequest, fmt: str, token: str) -> HttpResponse:
    found = None
    if len(token) <= 64 and all(ch.isalnum() or ch in "-_" for ch in token):
        found = (
            Open311Submission.objects.filter(token=token, case__in=mapping.public_cases())
            .select_related("case")
            .first()
        )
    if found is None:
        raise Open311Error(404, f"未找到令牌 {token[:64]}", f"token {token[:64]!r} not found")
    return render([{"service_request_id": found.case.number, "token": found.token}], fmt, "service_requests")


@open311("GET")
def request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    """FixMyStreet's ``servicerequestupdates``: public timeline steps in a ≤ 90-day window."""
    start, end = date_window(
        optional(request.GET, "start_date"), optional(request.GET, "end_date"), timezone.now()
    )
    events = (
        mapping.public_events()
        .filter(at__gte=start, at__lte=end)
        .select_related("case")
        .order_by("at", "id")[:MAX_RESULTS]
    )
    return render([mapping.update_item(e) for e in events], fmt, "service_request_updates")


# --- POST requests -------------------------------------------------------------------------------------
def _authenticate(request: HttpRequest, data: MultiValueDict[str, str]) -> ApiKey:
    raw = optional(data, "api_key") or optional(request.GET, "api_key")
    if not raw:
        raise Open311Error(
            403, "缺少 api_key，无法提交", "api_key is missing -- can't proceed with create_request"
        )
    key = find_api_key(raw)
    if key is None:
        raise Open311Error(
            403, "api_key 无效，无法提交", "invalid api_key received -- can't proceed with create_request"
        )
    return key


def _refuse_inactive_or_busy(key: ApiKey) -> None:
    if not key.is_active:
        raise Open311Error(
            403, "api_key 已被吊销，无法提交", "this api_key has been revoked -- can't proceed"
        )
    verdict = ratelimit.hit(key.prefix, key.rate_limit_per_hour)
    if not verdict.allowed:
        raise Open311Error(
            429,
            f"提交过于频繁：该密钥每小时最多 {verdict.limit} 次，请 {verdict.retry_after} 秒后再试",
            f"too many requests: this key may post {verdict.limit} times an hour; retry in {verdict.retry_after} s",
        )


def _refuse_busy_address(request: HttpRequest) -> None:
    verdict = ratelimit.hit_address(client_ip(request))
    if not verdict.allowed:
        raise Open311Error(
            429,
            f"提交过于频繁：每个地址每小时最多 {verdict.limit} 次，请 {verdict.retry_after} 秒后再试",
            f"too many requests from this address: {verdict.limit} an hour; retry in {verdict.retry_after} s",
        )


def _post_request(request: HttpRequest, fmt: str) -> HttpResponse:
    _refuse_busy_address(request)
    data = form_data(request)
    check_jurisdiction(data, request.GET)
    key = _authenticate(request, data)
    status = 500
    try:
        _refuse_inactive_or_busy(key)
        response = _create(request, fmt, key, data)
        status = response.status_code
        return response
    except Open311Error as exc:
        status = exc.status
        raise
    except CaseError as exc:
        status = _case_error(exc).status
        raise
    finally:
        record_key_use(
            key, method="POST", path=request.path, remote_addr=client_ip(request) or None, status_code=status
        )


def _create(request: HttpRequest, fmt: str, key: ApiKey, data: MultiValueDict[str, str]) -> HttpResponse:
    files: MultiValueDict[str, Any] = (
        request.FILES if request.content_type == "multipart/form-data" else MultiValueDict()
    )
    idempotency_key = request.headers.get("Idempotency-Key", "").strip()
    if idempotency_key:
        url_safe_id(idempotency_key[:41], "Idempotency-Key", "Idempotency-Key")
        if len(idempotency_key) > 40:
            raise bad("Idempotency-Key 不能超过 40 个字符", "Idempotency-Key must be at most 40 characters")
    case, submission = submit_service_request(
        key=key, data=service_request_input(data, files), idempotency_key=idempotency_key
    )
    notice = f"已受理，请凭编号 {case.number} 查询办理进度 / received; follow it with number {case.number}"
    body = [
        {
            "service_request_id": case.number,
            "service_notice": notice,
            "account_id": submission.account_id or None,
        }
    ]
    response = render(body, fmt, "service_requests")
    # The spec allows an id or a token in the body, never both: the token goes in a header.
    response[TOKEN_HEADER] = submission.token
    return response


# --- anything else ------------------------------------------------------------------------------------
@csrf_exempt
def not_found(request: HttpRequest, path: str) -> HttpResponse:
    """Unknown resources answer 404 (or 400 for an unsupported format) in the format asked for."""
    stem, _dot, suffix = path.rpartition(".")
    fmt = suffix.lower() if stem and suffix.lower() in FORMATS else "xml"
    if stem and "/" not in suffix and suffix.lower() not in FORMATS:
        return render_error(
            "xml",
            400,
            f"不支持的格式：.{suffix[:16]}（可用 .xml、.json）/ unsupported format .{suffix[:16]} (use .xml or .json)",
        )
    return render_error(fmt, 404, f"未知的资源：{path[:100]} / unknown resource {path[:100]!r}")
