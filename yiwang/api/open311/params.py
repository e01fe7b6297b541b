"""Parsing Open311 input: form bodies, comma lists, W3C dates, the POST fields. Every problem is an
:class:`Open311Error` with the HTTP status the spec asks for and a Chinese + English message."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable
from urllib.parse import parse_qsl

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.core.validators import URLValidator, validate_email
from django.http import HttpRequest, QueryDict
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.dateparse import parse_date, parse_datetime

from yiwang.api.actions import ServiceRequestInput

URL_SAFE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ATTRIBUTE_KEY = re.compile(r"^attribute\[([^\[\]]+)\](\[\])?$")
MAX_WINDOW = dt.timedelta(days=90)
MAX_MEDIA_URLS = 10
MEDIA_URL_MAX = 2000
FIELD_MAX = 100
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class Open311Error(Exception):
    """A request that cannot be fulfilled: ``status`` is the HTTP code (400, 403, 404, 429…)."""

    def __init__(self, status: int, zh: str, en: str) -> None:
        self.status, self.zh, self.en = status, zh, en
        super().__init__(self.description)

    @property
    def description(self) -> str:
        return f"{self.zh} / {self.en}"


def bad(zh: str, en: str) -> Open311Error:
    return Open311Error(400, zh, en)


def optional(params: QueryDict | MultiValueDict[str, str], name: str) -> str:
    """An optional parameter: empty counts as absent (the spec's rule; ``open311`` sends ``x=``)."""
    return (params.get(name) or "").strip()


def comma_list(value: str) -> list[str]:
    return [part.strip() for part in value.split(",") if part.strip()]


def url_safe_id(value: str, what_zh: str, what_en: str) -> str:
    if not URL_SAFE.match(value):
        raise bad(
            f"{what_zh}「{value[:64]}」无效：只能包含字母、数字、下划线和连字符",
            f"invalid {what_en} {value[:64]!r}: only letters, digits, '_' and '-' are allowed",
        )
    return value


# --- dates ------------------------------------------------------------------------------------------
def parse_w3c(value: str, name: str) -> dt.datetime:
    """A W3C date-time (``2026-03-01T00:00:00Z``, ``…+08:00``) or date; no zone means Beijing time."""
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            moment = dt.datetime.combine(day, dt.time()) if day else None
    except ValueError:
        moment = None
    if moment is None:
        raise bad(
            f"{name} 不是有效的 W3C 日期时间（例如 2026-03-01T00:00:00+08:00）：{value[:40]}",
            f"{name} is not a W3C date-time (e.g. 2026-03-01T00:00:00Z): {value[:40]!r}",
        )
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def date_window(start_text: str, end_text: str, now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """The ``requested_datetime`` window: at most 90 days; the most recent 90 days by default."""
    start = parse_w3c(start_text, "start_date") if start_text else None
    end = parse_w3c(end_text, "end_date") if end_text else None
    if start is None and end is None:
        return now - MAX_WINDOW, now
    if start is None:
        assert end is not None
        return end - MAX_WINDOW, end
    if end is None:
        return start, start + MAX_WINDOW
    if start > end:
        raise bad("start_date 不能晚于 end_date", "start_date must not be after end_date")
    if end - start > MAX_WINDOW:
        raise bad(
            "查询时间范围不能超过 90 天", "the range from start_date to end_date may not exceed 90 days"
        )
    return start, end


# --- form bodies ------------------------------------------------------------------------------------
def _charset_ok(request: HttpRequest) -> bool:
    charset = (request.content_params or {}).get("charset", "utf-8")
    return charset.strip().lower().replace("_", "-") in ("utf-8", "utf8")


def form_data(request: HttpRequest) -> MultiValueDict[str, str]:
    """The POST body as a multi-dict, strictly: a body that is not form-encoded UTF-8 is refused
    (rather than read with replacement characters), and so is an oversized one."""
    content_type = request.content_type or ""
    try:
        body = request.body
        if not body:
            return MultiValueDict()
        if content_type not in FORM_TYPES:
            raise bad(
                "请求体须为 application/x-www-form-urlencoded（UTF-8）",
                "the request body must be application/x-www-form-urlencoded (UTF-8)",
            )
        if not _charset_ok(request):
            raise bad("请求体须使用 UTF-8 编码", "the request body must be encoded in UTF-8")
        if content_type == "multipart/form-data":
            return MultiValueDict(dict(request.POST.lists()))
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
    except UnicodeDecodeError as exc:
        raise bad("请求体不是有效的 UTF-8 表单数据", "the request body is not valid UTF-8 form data") from exc
    except (RequestDataTooBig, TooManyFieldsSent) as exc:
        raise bad("请求体过大或字段过多", "the request body is too large or has too many fields") from exc
    except (MultiPartParserError, ValueError) as exc:
        raise bad("无法解析请求体", "the request body could not be parsed") from exc
    data: MultiValueDict[str, str] = MultiValueDict()
    for name, value in pairs:
        data.appendlist(name, value)
    return data


# --- POST requests ----------------------------------------------------------------------------------
def _float(value: str, name: str, low: float, high: float) -> float:
    try:
        number = float(value)
    except ValueError:
        number = math.nan
    if not math.isfinite(number) or not low <= number <= high:
        raise bad(
            f"{name} 须为 {low} 到 {high} 之间的 WGS84 十进制度数：{value[:40]}",
            f"{name} must be WGS84 decimal degrees between {low} and {high}: {value[:40]!r}",
        )
    return number


def _location(data: MultiValueDict[str, str]) -> tuple[float | None, float | None]:
    lat_text, long_text = optional(data, "lat"), optional(data, "long")
    if bool(lat_text) != bool(long_text):
        raise bad("lat 与 long 须同时提供", "lat and long must be given together")
    if not lat_text:
        if not (optional(data, "address_string") or optional(data, "address_id")):
            raise bad(
                "须提供位置：lat+long、address_string 或 address_id 之一",
                "a location is required: lat+long, address_string or address_id",
            )
        return None, None
    return _float(lat_text, "lat", -90, 90), _float(long_text, "long", -180, 180)


def _attributes(data: MultiValueDict[str, str]) -> dict[str, list[str]]:
    """``attribute[CODE]=v`` and ``attribute[CODE][]=v1&attribute[CODE][]=v2`` → {CODE: [v…]}."""
    answers: dict[str, list[str]] = {}
    for name in data:
        match = ATTRIBUTE_KEY.match(name)
        if match:
            answers.setdefault(match.group(1), []).extend(data.getlist(name))
    return answers


def _media_urls(values: Iterable[str]) -> list[str]:
    urls = [v.strip() for v in values if v and v.strip()]
    if len(urls) > MAX_MEDIA_URLS:
        raise bad(f"media_url 最多 {MAX_MEDIA_URLS} 个", f"at most {MAX_MEDIA_URLS} media_url values")
    check = URLValidator(schemes=["http", "https"])
    for url in urls:
        try:
            if len(url) > MEDIA_URL_MAX:
                raise ValidationError("too long")
            check(url)
        except ValidationError as exc:
            raise bad(
                f"media_url 不是有效的 http(s) 链接：{url[:80]}",
                f"media_url is not a valid http(s) URL: {url[:80]!r}",
            ) from exc
    return urls


def _short(data: MultiValueDict[str, str], name: str, limit: int = FIELD_MAX) -> str:
    value = optional(data, name)
    if len(value) > limit:
        raise bad(f"{name} 不能超过 {limit} 个字符", f"{name} must be at most {limit} characters")
    return value


def service_request_input(
    data: MultiValueDict[str, str], files: MultiValueDict[str, object]
) -> ServiceRequestInput:
    """The POST fields, type-checked; the case rules themselves are ``create_case``'s."""
    code = optional(data, "service_code")
    if not code:
        raise bad("缺少 service_code", "service_code is required")
    url_safe_id(code, "service_code", "service_code")
    lat, lng = _location(data)
    email = _short(data, "email", 254)
    if email:
        try:
            validate_email(email)
        except ValidationError as exc:
            raise bad("email 格式不正确", "email is not a valid e-mail address") from exc
    return ServiceRequestInput(
        service_code=code,
        lat=lat,
        lng=lng,
        address_string=_short(data, "address_string", 255),
        address_id=_short(data, "address_id"),
        attributes=_attributes(data),
        description=data.get("description") or "",
        first_name=_short(data, "first_name", 50),
        last_name=_short(data, "last_name", 50),
        phone=_short(data, "phone", 32),
        email=email,
        device_id=_short(data, "device_id") or _short(data, "deviceid"),
        account_id=_short(data, "account_id"),
        media_urls=_media_urls(data.getlist("media_url")),
        attachments=[f for f in files.getlist("media") if hasattr(f, "read")],  # type: ignore[misc]
    )
