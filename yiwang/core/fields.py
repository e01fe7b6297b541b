"""Model fields for personal information.

``EncryptedCharField`` keeps a short personal value (phone, ID number, a resident's name) encrypted
in the database and plaintext in Python. Ciphertext is randomised, so the column cannot be searched:
every lookup except ``isnull`` is refused with a clear error. A model that needs exact-match search
stores :func:`yiwang.core.pii.lookup_hash` in a separate indexed column. The empty string is stored
as is (it holds no personal data), so ``blank=True`` fields stay cheap and filterable by ``isnull``.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core import validators
from django.core.exceptions import FieldError
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.expressions import Expression
from django.utils.functional import cached_property

from yiwang.core import pii


class EncryptedCharField(models.TextField):
    """A character value encrypted at rest (Fernet, keys in ``settings.YIWANG_PII_KEYS``).

    ``max_length`` limits the plaintext (validated by ``full_clean`` and forms); the column itself
    is a ``text`` column because ciphertext is several times longer than the value. ``pii_kind``
    (``phone``, ``id_number``, ``name`` or ``""``) selects the mask used by :meth:`masked`.
    """

    description = "Encrypted text (personal information)"

    def __init__(self, *args: Any, pii_kind: str = "", **kwargs: Any) -> None:
        if pii_kind not in pii.KINDS:
            raise ValueError(f"pii_kind must be one of {pii.KINDS}, not {pii_kind!r}")
        self.pii_kind = pii_kind
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.pii_kind:
            kwargs["pii_kind"] = self.pii_kind
        return name, path, args, kwargs

    @cached_property
    def validators(self) -> list[Any]:
        extra = [validators.MaxLengthValidator(self.max_length)] if self.max_length is not None else []
        return [*super().validators, *extra]

    def from_db_value(
        self, value: str | None, expression: Expression, connection: BaseDatabaseWrapper
    ) -> str | None:
        if not value:
            return value
        return pii.decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return pii.encrypt(value)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(
            f"加密字段 {self.name} 不能按内容查询（仅支持 isnull）；请改用 lookup_hash 列 / "
            f"encrypted field {self.name!r} supports only the isnull lookup, not {lookup_name!r}; "
            "filter on a lookup_hash column instead"
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"encrypted field {self.name!r} does not support transforms such as {lookup_name!r}")

    def formfield(self, **kwargs: Any) -> Any:
        # A one-line input, not the textarea TextField would give.
        return super().formfield(**{"widget": forms.TextInput, **kwargs})

    def masked(self, instance: models.Model) -> str:
        """The masked display value of this field on ``instance``."""
        return pii.masked(getattr(instance, self.attname), self.pii_kind)
