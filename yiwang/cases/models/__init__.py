"""Models of the case pipeline: categories and deadline policies, cases, assignments, events."""

from yiwang.cases.models.attachment import Attachment
from yiwang.cases.models.attribute import AttributeDatatype, CategoryAttribute
from yiwang.cases.models.case import Assignment, Case, CaseNumberCounter, CaseQuerySet
from yiwang.cases.models.category import Category, DeadlinePolicy
from yiwang.cases.models.event import CaseEvent, CaseEventQuerySet

__all__ = [
    "Assignment",
    "Attachment",
    "AttributeDatatype",
    "Case",
    "CaseEvent",
    "CaseEventQuerySet",
    "CaseNumberCounter",
    "CaseQuerySet",
    "Category",
    "CategoryAttribute",
    "DeadlinePolicy",
]
