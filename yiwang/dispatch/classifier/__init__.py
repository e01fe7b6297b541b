"""Category classifier: text → category suggestions with calibrated confidence (issue 5 item 1)."""

from yiwang.dispatch.classifier.artifacts import FORMAT_VERSION, ModelFileError
from yiwang.dispatch.classifier.model import ALGORITHM, ClassifierInputError, TextClassifier, fit, prepare
from yiwang.dispatch.classifier.service import Suggestion, active_classifier, reset_cache, suggest_categories

__all__ = [
    "ALGORITHM",
    "FORMAT_VERSION",
    "ClassifierInputError",
    "ModelFileError",
    "Suggestion",
    "TextClassifier",
    "active_classifier",
    "fit",
    "prepare",
    "reset_cache",
    "suggest_categories",
]
