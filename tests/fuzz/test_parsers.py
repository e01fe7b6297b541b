"""Arbitrary input to the importers and the Open311 parsers yields a result or the module's own
clear error — never another exception (and, through HTTP, never a 500)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from django.test import Client, RequestFactory
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import FUZZ
from yiwang.api.open311 import params
from yiwang.grids import importers as grid_importers
from yiwang.grids.validation import ImportReport
from yiwang.registry import importers as registry_importers

pytestmark = pytest.mark.django_db

# JSON values of any shape, biased towards the keys a GeoJSON reader looks at.
GEO_KEYS = st.sampled_from(
    [
        "type",
        "features",
        "properties",
        "geometry",
        "coordinates",
        "code",
        "name",
        "level",
        "boundary",
        "parent_code",
    ]
)
SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(GEO_KEYS | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=30,
)
FEATURES = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["Feature", "feature", "Point", ""]),
        "properties": st.dictionaries(GEO_KEYS, SCALARS, max_size=6) | SCALARS,
        "geometry": JSON_VALUES,
    }
)
COLLECTIONS = st.fixed_dictionaries(
    {
        "type": st.sampled_from(["FeatureCollection", "Feature", "x"]),
        "features": st.lists(FEATURES, max_size=4) | JSON_VALUES,
    }
)


def _file(suffix: str, content: bytes) -> Path:
    handle = tempfile.NamedTemporaryFile(suffix=suffix, delete=False)  # noqa: SIM115 - closed below
    handle.write(content)
    handle.close()
    return Path(handle.name)


@FUZZ
@given(document=COLLECTIONS | JSON_VALUES, kind=st.sampled_from(["divisions", "grids"]))
def test_grid_geojson_import_never_crashes(document: Any, kind: Any) -> None:
    path = _file(".geojson", json.dumps(document, allow_nan=True).encode())
    try:
        report = grid_importers.import_file(kind, path, dry_run=True)
    finally:
        path.unlink()
    assert isinstance(report, ImportReport)


@FUZZ
@given(raw=st.binary(max_size=300), suffix=st.sampled_from([".geojson", ".json", ".csv", ".xlsx"]))
def test_grid_import_of_arbitrary_bytes_never_crashes(raw: bytes, suffix: str) -> None:
    path = _file(suffix, raw)
    try:
        report = grid_importers.import_file("grids", path, dry_run=True)
    finally:
        path.unlink()
    assert isinstance(report, ImportReport)
    assert report.problems or report.created is not None


def _registry_header(kind: str) -> st.SearchStrategy[list[str]]:
    names = [c.zh for c in registry_importers.COLUMNS[kind]] + [
        c.key for c in registry_importers.COLUMNS[kind]
    ]
    return st.lists(st.sampled_from(names) | st.text(max_size=6), min_size=0, max_size=8)


CELLS = (
    st.text(max_size=24)
    | st.integers(min_value=-(10**12), max_value=10**12).map(str)
    | st.sampled_from(
        ["370211005001001", "1990-02-30", "13812341234", "120.01", "35.9", "=cmd()", "男", "女", "", "nan"]
    )
)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(list(registry_importers.KINDS)))
def test_registry_csv_import_never_crashes(data: st.DataObject, kind: str) -> None:
    header = data.draw(_registry_header(kind))
    rows = data.draw(st.lists(st.lists(CELLS, max_size=len(header) + 2), max_size=4))
    import csv
    import io

    buffer = io.StringIO()
    csv.writer(buffer).writerows([header, *rows])
    encoding = data.draw(st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
    try:
        content = buffer.getvalue().encode(encoding)
    except UnicodeEncodeError:
        content = buffer.getvalue().encode("utf-8")
    path = _file(".csv", content)
    try:
        report = registry_importers.import_file(kind, path, dry_run=True)
    finally:
        path.unlink()
    assert isinstance(report, ImportReport)


@FUZZ
@given(data=st.data(), kind=st.sampled_from(list(registry_importers.KINDS)))
def test_registry_excel_import_never_crashes(data: st.DataObject, kind: str) -> None:
    header = data.draw(_registry_header(kind))
    excel_cells = (
        CELLS
        | st.integers(min_value=-(10**9), max_value=10**9)
        | st.floats(allow_nan=False, allow_infinity=False)
        | st.none()
        | st.booleans()
    )
    rows = data.draw(st.lists(st.lists(excel_cells, max_size=len(header) + 2), max_size=4))
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in [header, *rows]:
        sheet.append([_excel_safe(v) for v in row])
    path = _file(".xlsx", b"")
    try:
        workbook.save(path)
        report = registry_importers.import_file(kind, path, dry_run=True)
    finally:
        path.unlink()
    assert isinstance(report, ImportReport)


def _excel_safe(value: Any) -> Any:
    # openpyxl itself refuses control characters in cell text: that is the writer's limit, not ours.
    if isinstance(value, str):
        return "".join(ch for ch in value if ch.isprintable())
    return value


# --- Open311 -------------------------------------------------------------------------------------------

FIELD_NAMES = st.sampled_from(
    [
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "address_id",
        "email",
        "device_id",
        "account_id",
        "first_name",
        "last_name",
        "phone",
        "description",
        "media_url",
        "attribute[STATE]",
        "attribute[]",
        "jurisdiction_id",
    ]
)
FIELD_VALUES = st.text(max_size=40) | st.sampled_from(
    [
        "SX-06001",
        "35.905",
        "120.005",
        "-91",
        "1e309",
        "nan",
        "inf",
        "http://x/y.jpg",
        "javascript:alert(1)",
        "a@b",
        "",
    ]
)
PAIRS = st.lists(st.tuples(FIELD_NAMES | st.text(max_size=10), FIELD_VALUES), max_size=12)


@FUZZ
@given(pairs=PAIRS)
def test_service_request_input_returns_input_or_open311_error(pairs: list[tuple[str, str]]) -> None:
    data: MultiValueDict[str, str] = MultiValueDict()
    for name, value in pairs:
        data.appendlist(name, value)
    try:
        result = params.service_request_input(data, MultiValueDict())
    except params.Open311Error as exc:
        status = exc.status
    else:
        status = 200
        assert result.service_code
    assert status in (200, 400, 403, 404)


@FUZZ
@given(start=st.text(max_size=30), end=st.text(max_size=30))
def test_date_window_returns_a_window_or_open311_error(start: str, end: str) -> None:
    try:
        low, high = params.date_window(start, end, timezone.now())
    except params.Open311Error:
        return
    assert low <= high


@FUZZ
@given(
    body=st.binary(max_size=400),
    content_type=st.sampled_from(
        [
            "application/x-www-form-urlencoded; charset=utf-8",
            "application/x-www-form-urlencoded; charset=latin-1",
            "multipart/form-data; boundary=xyz",
            "multipart/form-data",
            "application/json",
            "text/xml",
            "",
        ]
    ),
)
def test_form_data_returns_fields_or_open311_error(body: bytes, content_type: str) -> None:
    request = RequestFactory().generic(
        "POST", "/open311/v2/requests.json", data=body, content_type=content_type
    )
    try:
        data = params.form_data(request)
    except params.Open311Error as exc:
        status = exc.status
    else:
        status = 200
        assert isinstance(data, MultiValueDict)
    assert status in (200, 400)


@FUZZ
@given(pairs=PAIRS, fmt=st.sampled_from(["json", "xml"]))
def test_open311_post_never_answers_500(world: Any, pairs: list[tuple[str, str]], fmt: str) -> None:
    from urllib.parse import urlencode

    from django.core.cache import cache

    cache.clear()
    response = Client().post(
        f"/open311/v2/requests.{fmt}",
        data=urlencode(pairs),
        content_type="application/x-www-form-urlencoded; charset=utf-8",
    )
    assert response.status_code < 500


@FUZZ
@given(
    query=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "service_request_id",
                    "service_code",
                    "start_date",
                    "end_date",
                    "status",
                    "jurisdiction_id",
                    "page",
                ]
            )
            | st.text(max_size=5),
            FIELD_VALUES,
        ),
        max_size=6,
    ),
    fmt=st.sampled_from(["json", "xml"]),
)
def test_open311_get_requests_never_answers_500(world: Any, query: list[tuple[str, str]], fmt: str) -> None:
    from urllib.parse import urlencode

    response = Client().get(f"/open311/v2/requests.{fmt}?{urlencode(query)}")
    assert response.status_code < 500
