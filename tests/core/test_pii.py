"""Masking, encryption at rest (with key rotation), lookup hashes and EncryptedCharField."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ValidationError
from django.db import models
from django.test import override_settings

from tests.core.pii_helpers import raw_column, resident_model_fixture  # noqa: F401 - a fixture
from yiwang.core import pii
from yiwang.core.fields import EncryptedCharField

OLD_KEY = Fernet.generate_key().decode()
NEW_KEY = Fernet.generate_key().decode()


# --- masking --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("13812341234", "138****1234"),
        ("138 1234 1234", "138****1234"),
        ("+86 138-1234-1234", "138****1234"),
        ("１３８１２３４１２３４", "138****1234"),  # full-width digits
        ("0532-86881234", "0532-****1234"),
        ("053286881234", "0532-****1234"),
        ("010-12345678", "010-****5678"),
        ("0532-86881234-801", "0532-****1234"),  # the extension is dropped
        ("12345", "*****"),  # too short to show anything
        ("", ""),
        (None, ""),
        ("abc", "***"),
    ],
)
def test_mask_phone(value: object, expected: str) -> None:
    assert pii.mask_phone(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("37021119800101123X", "370211********123X"),
        ("37021119800101123x", "370211********123X"),
        ("370211800101123", "370211*****1123"),  # old 15-digit number
        ("3702111980", "**********"),  # malformed: reveal nothing
        ("", ""),
        (None, ""),
    ],
)
def test_mask_id_number(value: object, expected: str) -> None:
    assert pii.mask_id_number(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("张三丰", "张*丰"),
        ("张三", "张*"),
        ("张", "*"),
        ("欧阳娜娜", "欧**娜"),
        (" 李四 ", "李*"),
        ("", ""),
        (None, ""),
    ],
)
def test_mask_name(value: object, expected: str) -> None:
    assert pii.mask_name(value) == expected


def test_masked_dispatches_by_kind_and_hides_unknown_values() -> None:
    assert pii.masked("13812341234", "phone") == "138****1234"
    assert pii.masked("37021119800101123X", "id_number") == "370211********123X"
    assert pii.masked("张三丰", "name") == "张*丰"
    assert pii.masked("A1234567", "") == "******67"
    assert pii.masked("ab", "") == "**"


def test_masked_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="unknown PII kind"):
        pii.masked("x", "email")


@pytest.mark.parametrize("value", [12345678901, 3.5, object(), "\x00\x01", "☃" * 40])
def test_masking_never_crashes_on_odd_input(value: object) -> None:
    for kind in pii.KINDS:
        result = pii.masked(value, kind)
        assert isinstance(result, str)


# --- encryption -----------------------------------------------------------------------------------


@override_settings(YIWANG_PII_KEYS=[NEW_KEY])
def test_encrypt_decrypt_round_trip_with_unicode() -> None:
    token = pii.encrypt("张三丰 13812341234")
    assert "13812341234" not in token
    assert pii.decrypt(token) == "张三丰 13812341234"


@override_settings(YIWANG_PII_KEYS=[NEW_KEY])
def test_encryption_is_randomised() -> None:
    assert pii.encrypt("13812341234") != pii.encrypt("13812341234")


def test_rotation_old_key_still_decrypts_and_new_key_encrypts() -> None:
    with override_settings(YIWANG_PII_KEYS=[OLD_KEY]):
        old_token = pii.encrypt("13812341234")
    with override_settings(YIWANG_PII_KEYS=[NEW_KEY, OLD_KEY]):
        assert pii.decrypt(old_token) == "13812341234"
        new_token = pii.encrypt("13812341234")
        rotated = pii.rotate_token(old_token)
    with override_settings(YIWANG_PII_KEYS=[NEW_KEY]):
        assert pii.decrypt(new_token) == "13812341234"
        assert pii.decrypt(rotated) == "13812341234"
    with override_settings(YIWANG_PII_KEYS=[OLD_KEY]), pytest.raises(pii.PIIDecryptionError):
        pii.decrypt(new_token)


def test_a_non_fernet_secret_is_stretched_but_a_short_one_is_refused() -> None:
    from django.core.exceptions import ImproperlyConfigured

    with override_settings(YIWANG_PII_KEYS=["x" * 50]):
        assert pii.decrypt(pii.encrypt("ok")) == "ok"
    with override_settings(YIWANG_PII_KEYS=["short"]), pytest.raises(ImproperlyConfigured):
        pii.encrypt("ok")


def test_decrypting_garbage_raises_a_clear_error() -> None:
    with pytest.raises(pii.PIIDecryptionError, match="cannot be decrypted"):
        pii.decrypt("not-a-token")


# --- lookup hashes --------------------------------------------------------------------------------


def test_lookup_hash_is_stable_and_normalised() -> None:
    assert pii.lookup_hash("13812341234", "phone") == pii.lookup_hash("+86 138-1234-1234", "phone")
    assert pii.lookup_hash("37021119800101123x", "id_number") == pii.lookup_hash(
        "37021119800101123X", "id_number"
    )
    assert len(pii.lookup_hash("13812341234")) == 64


def test_lookup_hash_differs_per_value_kind_and_key() -> None:
    a = pii.lookup_hash("13812341234", "phone")
    assert a != pii.lookup_hash("13812341235", "phone")
    assert a != pii.lookup_hash("13812341234", "id_number")
    with override_settings(YIWANG_PII_HASH_KEY="another-key"):
        assert a != pii.lookup_hash("13812341234", "phone")


def test_lookup_hash_of_empty_is_empty() -> None:
    assert pii.lookup_hash("") == ""
    assert pii.lookup_hash(None) == ""


# --- EncryptedCharField ---------------------------------------------------------------------------


def test_encrypted_field_stores_ciphertext_and_returns_plaintext(resident_model: type[models.Model]) -> None:
    obj = resident_model.objects.create(name="张三丰", phone="13812341234")
    stored = raw_column("phone", obj.pk)
    assert stored is not None
    assert "13812341234" not in stored
    assert pii.decrypt(stored) == "13812341234"
    fresh = resident_model.objects.get(pk=obj.pk)
    assert (fresh.name, fresh.phone) == ("张三丰", "13812341234")
    assert resident_model._meta.get_field("phone").masked(fresh) == "138****1234"


def test_encrypted_field_keeps_null_and_empty_as_is(resident_model: type[models.Model]) -> None:
    empty = resident_model.objects.create(name="李四", phone="")
    missing = resident_model.objects.create(name="王五", phone=None)
    assert raw_column("phone", empty.pk) == ""
    assert raw_column("phone", missing.pk) is None
    assert list(resident_model.objects.filter(phone__isnull=True)) == [missing]


def test_encrypted_field_refuses_content_lookups(resident_model: type[models.Model]) -> None:
    with pytest.raises(FieldError, match="isnull"):
        resident_model.objects.filter(phone="13812341234")
    with pytest.raises(FieldError, match="isnull"):
        resident_model.objects.filter(phone__startswith="138")


def test_encrypted_field_validates_max_length_of_the_plaintext(resident_model: type[models.Model]) -> None:
    too_long = resident_model(name="一二三四五六七八九十十一", phone="13812341234")
    with pytest.raises(ValidationError) as excinfo:
        too_long.full_clean()
    assert "name" in excinfo.value.message_dict
    resident_model(name="张三丰", phone="13812341234").full_clean()  # ciphertext length does not count


def test_encrypted_field_deconstructs_for_migrations() -> None:
    field = EncryptedCharField(max_length=20, pii_kind="phone", blank=True)
    _name, path, args, kwargs = field.deconstruct()
    assert path == "yiwang.core.fields.EncryptedCharField"
    assert kwargs == {"max_length": 20, "pii_kind": "phone", "blank": True}
    rebuilt = EncryptedCharField(*args, **kwargs)
    assert (rebuilt.max_length, rebuilt.pii_kind) == (20, "phone")


def test_encrypted_field_rejects_an_unknown_kind() -> None:
    with pytest.raises(ValueError, match="pii_kind"):
        EncryptedCharField(max_length=20, pii_kind="email")


def test_reencrypt_moves_every_row_to_the_new_key(resident_model: type[models.Model]) -> None:
    with override_settings(YIWANG_PII_KEYS=[OLD_KEY]):
        ids = [resident_model.objects.create(name=f"居民{i}", phone=f"1381234123{i}").pk for i in range(3)]
        resident_model.objects.create(name="空号", phone="")
    with override_settings(YIWANG_PII_KEYS=[NEW_KEY, OLD_KEY]):
        assert pii.reencrypt(resident_model, "phone", batch_size=2) == 3
    with override_settings(YIWANG_PII_KEYS=[NEW_KEY]):
        phones = [resident_model.objects.only("phone").get(pk=pk).phone for pk in ids]
    assert phones == ["13812341230", "13812341231", "13812341232"]
