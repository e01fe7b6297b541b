"""ID numbers (GB 11643), credit codes (GB 32100) and phones: valid ones pass, wrong ones say why."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.registry.errors import RegistryInputError
from yiwang.registry.validation import (
    check_stated_identity,
    parse_credit_code,
    parse_id_number,
    parse_phone,
    uscc_check_character,
)

from .helpers import make_id


def test_a_valid_id_number_gives_birth_date_and_sex() -> None:
    identity = parse_id_number(make_id(dt.date(1990, 5, 17), seq=122))
    assert identity.birth_date == dt.date(1990, 5, 17)
    assert identity.sex == "F"
    assert parse_id_number(make_id(seq=121)).sex == "M"


def test_a_known_published_id_number_passes() -> None:
    # The sample number printed in GB 11643-1999 itself.
    assert parse_id_number("11010519491231002X").birth_date == dt.date(1949, 12, 31)


def test_a_lower_case_x_and_spaces_are_accepted() -> None:
    assert parse_id_number(" 110105 19491231 002x ").number == "11010519491231002X"


def test_a_wrong_check_character_names_the_expected_one() -> None:
    good = make_id()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    with pytest.raises(RegistryInputError) as err:
        parse_id_number(bad)
    assert err.value.field == "id_number"
    assert f"应为 {good[17]}" in err.value.zh
    assert f"should be {good[17]}" in err.value.en


@pytest.mark.parametrize(
    ("value", "zh"),
    [
        ("", "必填"),
        ("3702111980010112", "18 位"),
        ("99021119800101123X", "省级"),
        ("370211198013011230", "不是有效日期"),
        ("370211" + "2999" + "0101" + "1230", "不可能"),
    ],
)
def test_malformed_id_numbers_are_refused_with_a_reason(value: str, zh: str) -> None:
    with pytest.raises(RegistryInputError) as err:
        parse_id_number(value)
    assert zh in err.value.zh


def test_a_stated_birth_date_or_sex_that_contradicts_the_id_is_refused() -> None:
    identity = parse_id_number(make_id(dt.date(1980, 1, 1), seq=123))
    with pytest.raises(RegistryInputError) as err:
        check_stated_identity(identity, birth_date=dt.date(1980, 1, 2))
    assert err.value.field == "birth_date"
    with pytest.raises(RegistryInputError) as err:
        check_stated_identity(identity, sex="F")
    assert err.value.field == "sex"
    check_stated_identity(identity, sex="M", birth_date=dt.date(1980, 1, 1))


def test_a_published_credit_code_passes_and_a_changed_check_character_fails() -> None:
    # 91350100M000100Y43: the example used in GB 32100-2015's own annex.
    assert parse_credit_code("91350100M000100Y43") == "91350100M000100Y43"
    assert uscc_check_character("91350100M000100Y4") == "3"
    with pytest.raises(RegistryInputError) as err:
        parse_credit_code("91350100M000100Y44")
    assert "应为 3" in err.value.zh
    assert err.value.field == "credit_code"


def test_credit_codes_with_forbidden_letters_are_refused() -> None:
    with pytest.raises(RegistryInputError):
        parse_credit_code("91350100I000100Y43")


def test_phones_are_compacted_and_bad_ones_refused() -> None:
    assert parse_phone("+86 138 1234 1234") == "13812341234"
    assert parse_phone("0532-86881234") == "0532-86881234"
    assert parse_phone("") == ""
    with pytest.raises(RegistryInputError) as err:
        parse_phone("12345", field="contact_phone")
    assert err.value.field == "contact_phone"
