"""The category classifier: normalisation, suggestions, calibration, model files, activation."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.dispatch.classifier_helpers import corpus, message
from yiwang.dispatch import actions
from yiwang.dispatch.classifier import (
    ClassifierInputError,
    ModelFileError,
    artifacts,
    fit,
    prepare,
    reset_cache,
    service,
    suggest_categories,
)
from yiwang.dispatch.classifier.evaluate import expected_calibration_error
from yiwang.dispatch.classifier.features import CharTfidf
from yiwang.dispatch.models import ClassifierModel
from yiwang.dispatch.text import normalize

LABELS = {"garbage": "SX-G", "water": "SX-W", "noise": "SX-N"}


@pytest.fixture(autouse=True)
def _fresh_model_cache(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(service, "RECHECK_SECONDS", 0.0)
    reset_cache()
    yield
    reset_cache()


@pytest.fixture
def data_dir(settings: Any, tmp_path: Path) -> Path:
    settings.DATA_DIR = tmp_path
    return tmp_path


@pytest.fixture(scope="module")
def trained() -> Any:
    texts, labels = corpus(LABELS, per_class=40)
    return fit(texts, labels)


def register(model: Any, activate: bool = True, name: str = "m") -> ClassifierModel:
    return actions.register_model(
        model, actor=None, name=name, source="synthetic", n_train=120, label_counts={}, activate=activate
    )


# --- normalisation ------------------------------------------------------------------------------
def test_normalize_folds_full_width_traditional_and_whitespace() -> None:
    assert normalize("  ＡＢＣ１２３　路燈壞了\n\n") == "abc123 路灯坏了"


def test_normalize_caps_a_run_of_one_symbol() -> None:
    assert normalize("！" * 4000) == "!!!"


def test_normalize_of_empty_or_whitespace_is_empty() -> None:
    assert normalize("") == ""
    assert normalize(" \t\n　") == ""


def test_prepare_drops_spaces_between_chinese_but_keeps_latin_words_apart() -> None:
    assert prepare("小区 垃圾 没人 清运 wifi signal") == "小区垃圾没人清运 wifi signal"
    assert prepare("3号 楼 a 栋 漏水 ok 好") == "3号楼 a 栋漏水 ok 好"


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("甲乙丙é。a1 ,\t"))))
def test_prepare_drops_exactly_the_spaces_with_non_ascii_on_both_sides(text: str) -> None:
    import re

    normal = normalize(text)
    assert prepare(text) == re.sub(r"(?<=[^\x00-\x7f]) (?=[^\x00-\x7f])", "", normal)


def test_features_do_not_depend_on_the_other_texts_in_the_batch() -> None:
    tfidf = CharTfidf(min_df=1)
    tfidf.fit_transform(["垃圾清运", "水管漏水", "夜间施工噪音"])
    alone = tfidf.transform(["水管漏水"]).toarray()
    batched = tfidf.transform(["垃圾清运", "水管漏水", ""]).toarray()
    assert np.allclose(alone[0], batched[1])
    assert not batched[2].any() or np.isclose(np.linalg.norm(batched[2]), 1.0)


# --- suggestions ----------------------------------------------------------------------------------
def test_model_ranks_the_matching_topic_first(trained: Any) -> None:
    ranked = trained.top("幸福路水管爆裂漏水，停水一整天了", 3)
    assert ranked[0][0] == "SX-W"
    assert [label for label, _p in ranked] == sorted(
        [label for label, _p in ranked], key=lambda lab: -dict(ranked)[lab]
    )
    assert trained.predict_proba(["幸福路水管爆裂漏水"]).sum() == pytest.approx(1.0)
    # No confidence beyond what the calibration texts can vouch for (rule of succession).
    assert ranked[0][1] <= trained.max_confidence < 1.0


def test_suggestions_come_from_the_active_model(db: None, data_dir: Path, trained: Any) -> None:
    register(trained)
    suggestions = suggest_categories("小区门口垃圾堆放好几天没人清运，苍蝇很多", limit=2)
    assert len(suggestions) == 2
    assert suggestions[0].code == "SX-G"
    assert suggestions[0].name == "SX-G"  # no such category in the table: the code stands in
    assert 0.5 < suggestions[0].confidence <= 1.0


def test_no_active_model_gives_no_suggestion(db: None) -> None:
    assert suggest_categories("水管漏水") == []


@pytest.mark.parametrize("text", ["", "   \n\t", "！" * 4000, "…………", "🙂🙂🙂"])
def test_empty_or_symbol_only_text_gives_no_suggestion(
    db: None, data_dir: Path, trained: Any, text: str
) -> None:
    register(trained)
    assert suggest_categories(text) == []


def test_mixed_language_text_still_gets_suggestions(db: None, data_dir: Path, trained: Any) -> None:
    register(trained)
    suggestions = suggest_categories("Building 3 楼下 noise 噪音 施工 at night 夜间扰民 睡不着")
    assert suggestions
    assert suggestions[0].code == "SX-N"


def test_non_string_or_zero_limit_gives_no_suggestion(db: None, data_dir: Path, trained: Any) -> None:
    register(trained)
    assert suggest_categories(None) == []  # type: ignore[arg-type]
    assert suggest_categories("水管漏水", limit=0) == []


# --- calibration -----------------------------------------------------------------------------------
def test_confidence_is_calibrated_on_unseen_texts(trained: Any) -> None:
    texts, labels = corpus(LABELS, per_class=60, seed=99)
    proba = trained.predict_proba(texts)
    truth = np.array([trained.classes.index(label) for label in labels])
    ece, table = expected_calibration_error(proba, truth)
    accuracy = float((proba.argmax(axis=1) == truth).mean())
    assert accuracy > 0.9
    assert ece < 0.15
    assert sum(row["n"] for row in table) == len(texts)


def test_ambiguous_text_gets_lower_confidence_than_a_clear_one(trained: Any) -> None:
    clear, mixed = trained.predict_proba(["停水了，水管爆裂漏水，水压很低，自来水供水中断", "垃圾 停水 噪音"])
    assert mixed.max() < clear.max()


# --- bad training sets ---------------------------------------------------------------------------
def test_one_class_training_set_is_refused_with_a_clear_error() -> None:
    with pytest.raises(ClassifierInputError, match="一个类别"):
        fit(["垃圾没人清运"] * 5, ["SX-G"] * 5)


def test_empty_training_set_is_refused() -> None:
    with pytest.raises(ClassifierInputError, match="没有训练样本"):
        fit([], [])


def test_tiny_classes_train_without_calibration_folds() -> None:
    model = fit(["垃圾清运", "水管漏水"], ["SX-G", "SX-W"])
    assert model.temperature == 1.0
    assert model.top("水管漏水", 1)[0][0] == "SX-W"


# --- model files -------------------------------------------------------------------------------
@pytest.mark.parametrize("which", ["trained", "ensemble"])
def test_model_file_roundtrip_gives_the_same_probabilities(
    tmp_path: Path, which: str, request: pytest.FixtureRequest
) -> None:
    trained = request.getfixturevalue(which)
    sha, size = artifacts.save(trained, tmp_path / "m.pkl")
    loaded = artifacts.load(tmp_path / "m.pkl", sha)
    texts = [message("noise", __import__("random").Random(1)), "水管漏水"]
    assert size > 0
    assert np.allclose(loaded.predict_proba(texts), trained.predict_proba(texts))


def test_altered_model_file_is_refused_before_unpickling(tmp_path: Path, trained: Any) -> None:
    sha, _size = artifacts.save(trained, tmp_path / "m.pkl")
    (tmp_path / "m.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ModelFileError, match="校验失败"):
        artifacts.load(tmp_path / "m.pkl", sha)


def test_model_file_of_another_format_version_is_refused(
    tmp_path: Path, trained: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = artifacts.FORMAT_VERSION
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", 99)
    sha, _size = artifacts.save(trained, tmp_path / "m.pkl")
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", current)
    with pytest.raises(ModelFileError, match="不受支持"):
        artifacts.load(tmp_path / "m.pkl", sha)


def test_corrupt_active_model_file_gives_no_suggestion_and_logs(
    db: None, data_dir: Path, trained: Any, caplog: pytest.LogCaptureFixture
) -> None:
    row = register(trained)
    Path(row.file_path).write_bytes(b"\x80\x05garbage")
    with caplog.at_level(logging.ERROR, logger="yiwang.dispatch.classifier.service"):
        assert suggest_categories("水管漏水停水") == []
    assert any("校验失败" in r.getMessage() for r in caplog.records)


def test_missing_active_model_file_gives_no_suggestion(db: None, data_dir: Path, trained: Any) -> None:
    row = register(trained)
    Path(row.file_path).unlink()
    assert suggest_categories("水管漏水停水") == []


# --- activation and rollback ---------------------------------------------------------------------
def test_exactly_one_model_is_active_after_activation(db: None, data_dir: Path, trained: Any) -> None:
    first = register(trained, name="first")
    second = register(trained, name="second")
    assert list(ClassifierModel.objects.filter(is_active=True)) == [second]
    actions.activate_model(None, first)
    assert list(ClassifierModel.objects.filter(is_active=True).values_list("name", flat=True)) == ["first"]


def test_rollback_reactivates_the_previous_model_and_suggestions_follow(db: None, data_dir: Path) -> None:
    texts, labels = corpus(LABELS, per_class=20)
    old = register(fit(texts, labels), name="old")
    renamed = ["X-" + label for label in labels]
    register(fit(texts, renamed), name="new")
    assert suggest_categories("水管漏水停水")[0].code == "X-SX-W"
    back = actions.rollback_model(None)
    assert back.pk == old.pk
    assert suggest_categories("水管漏水停水")[0].code == "SX-W"


def test_rollback_without_history_is_refused(db: None) -> None:
    with pytest.raises(actions.DispatchActionError, match="没有可回退"):
        actions.rollback_model(None)


def test_activating_a_model_with_a_broken_file_is_refused(db: None, data_dir: Path, trained: Any) -> None:
    good = register(trained, name="good")
    bad = register(trained, name="bad", activate=False)
    Path(bad.file_path).write_bytes(b"broken")
    with pytest.raises(actions.DispatchActionError, match="模型文件不可用"):
        actions.activate_model(None, bad)
    good.refresh_from_db()
    assert good.is_active


def test_registered_model_records_its_metadata(db: None, data_dir: Path, trained: Any) -> None:
    row = register(trained)
    assert row.sha256 == artifacts.sha256_of(Path(row.file_path))
    assert Path(row.file_path).parent == data_dir / "models"
    assert row.classes == ["SX-G", "SX-N", "SX-W"]
    assert row.format_version == artifacts.FORMAT_VERSION
    assert "temperature" in row.params


def test_model_file_of_the_previous_format_version_is_refused_with_a_retrain_hint(
    tmp_path: Path, trained: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = artifacts.FORMAT_VERSION
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", current - 1)
    sha, _size = artifacts.save(trained, tmp_path / "old.pkl")
    monkeypatch.setattr(artifacts, "FORMAT_VERSION", current)
    with pytest.raises(ModelFileError, match="retrain"):
        artifacts.load(tmp_path / "old.pkl", sha)


# --- pipeline options ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ensemble() -> Any:
    texts, labels = corpus(LABELS, per_class=40)
    return fit(texts, labels, head_chars=30, nbsvm=True)


def test_defaults_train_the_svm_nbsvm_average_with_head_features(trained: Any) -> None:
    assert trained.head is not None
    assert trained.head_chars == 30
    assert trained.params["nbsvm"] is True
    assert trained.coef.shape == (trained.features.n_features + trained.head.n_features, 3)


def test_opening_characters_get_a_feature_block_of_their_own(ensemble: Any) -> None:
    trained = ensemble
    assert trained.head is not None
    assert trained.head_chars == 30
    assert trained.coef.shape == (trained.features.n_features + trained.head.n_features, 3)
    # A topic named only in the opening characters still counts for more than the same words later.
    body = "，已经好几天了" * 12
    early = trained.predict_proba(["水管漏水" + body + "垃圾"])[0]
    late = trained.predict_proba(["垃圾" + body + "水管漏水"])[0]
    water = trained.classes.index("SX-W")
    assert early[water] > late[water]


def test_single_svm_without_head_features_still_trains_and_ranks() -> None:
    texts, labels = corpus(LABELS, per_class=30)
    model = fit(texts, labels, head_chars=0, nbsvm=False)
    assert model.head is None
    assert model.coef.shape == (model.features.n_features, 3)
    assert model.top("幸福路水管爆裂漏水，停水一整天了", 1)[0][0] == "SX-W"
    assert model.params["nbsvm"] is False


def test_svm_and_nbsvm_average_is_a_single_linear_model(ensemble: Any) -> None:
    import scipy.sparse as sp

    trained = ensemble
    texts = ["小区门口垃圾堆放", "夜间施工噪音扰民", "水表坏了"]
    assert trained.head is not None
    x = sp.hstack([trained.features.transform(texts), trained.head.transform([t[:30] for t in texts])])
    expected = np.asarray(x @ trained.coef) + trained.intercept
    assert np.allclose(trained.decision(texts), expected, atol=1e-5)
    assert trained.params["nbsvm"] is True


def test_two_class_training_set_works_with_both_linear_models() -> None:
    texts, labels = corpus({"garbage": "SX-G", "water": "SX-W"}, per_class=25)
    model = fit(texts, labels, head_chars=30, nbsvm=True)
    assert model.top("水管漏水停水", 1)[0][0] == "SX-W"
    assert model.top("垃圾清运堆放", 1)[0][0] == "SX-G"


# --- solvers and speed-ups -----------------------------------------------------------------------
def test_sgd_solver_learns_the_same_topics_as_the_svm() -> None:
    texts, labels = corpus(LABELS, per_class=40)  # sorted by category: SGD must shuffle
    model = fit(texts, labels, solver="sgd")
    assert model.params["solver"] == "sgd"
    assert model.top("幸福路水管爆裂漏水，停水一整天了", 1)[0][0] == "SX-W"
    assert model.top("夜间施工噪音扰民，睡不着", 1)[0][0] == "SX-N"
    held, truth = corpus(LABELS, per_class=30, seed=5)
    assert np.mean(np.array(model.predict(held)) == np.array(truth)) > 0.9


def test_large_training_sets_use_the_streaming_solver_with_a_held_out_calibration_share(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yiwang.dispatch.classifier import model as model_module

    monkeypatch.setattr(model_module, "_SMALL", 50)
    monkeypatch.setattr(model_module, "_SGD_CHUNK", 16)  # several chunks per pass
    texts, labels = corpus(LABELS, per_class=40)
    model = fit(texts, labels)
    assert model.params["solver"] == "sgd"
    assert model.temperature != 1.0  # calibrated on the held-out tenth
    assert model.max_confidence == pytest.approx(13 / 14)  # 12 held-out texts
    assert model.top("小区门口垃圾堆放好几天没人清运", 1)[0][0] == "SX-G"


def test_streaming_solver_also_trains_the_nbsvm_average(monkeypatch: pytest.MonkeyPatch) -> None:
    import scipy.sparse as sp

    from yiwang.dispatch.classifier import model as model_module

    monkeypatch.setattr(model_module, "_SMALL", 50)
    monkeypatch.setattr(model_module, "_SGD_CHUNK", 16)
    texts, labels = corpus(LABELS, per_class=30)
    model = fit(texts, labels, nbsvm=True)
    assert model.params["solver"] == "sgd"
    assert model.params["nbsvm"] is True
    assert model.top("夜间施工噪音扰民，睡不着", 1)[0][0] == "SX-N"
    probe = [prepare(t) for t in ["小区门口垃圾堆放", "水表坏了"]]
    assert model.head is not None
    x = sp.hstack([model.features.transform(probe), model.head.transform([t[:30] for t in probe])])
    assert np.allclose(model.decision(probe), np.asarray(x @ model.coef) + model.intercept, atol=1e-5)


def test_unknown_solver_is_refused() -> None:
    texts, labels = corpus(LABELS, per_class=5)
    with pytest.raises(ValueError, match="solver"):
        fit(texts, labels, solver="newton")


def test_decision_values_do_not_depend_on_how_a_large_batch_is_chunked(
    trained: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yiwang.dispatch.classifier import model as model_module

    texts = [prepare(t) for t in corpus(LABELS, per_class=10, seed=3)[0]]
    whole = trained.decision(texts)
    monkeypatch.setattr(model_module, "_SGD_CHUNK", 7)
    assert np.allclose(trained.decision(texts), whole, atol=1e-5)


def test_one_text_scores_the_same_alone_as_in_a_batch(trained: Any) -> None:
    texts = [prepare(t) for t in corpus(LABELS, per_class=4, seed=11)[0]] + ["", "!!!", "水"]
    batch = trained.decision(texts)
    for i, text in enumerate(texts):
        assert np.allclose(trained.decision([text])[0], batch[i], atol=1e-5)


def test_serving_copy_halves_the_weights_and_keeps_the_ranking(
    trained: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from yiwang.dispatch.classifier import model as model_module

    serving = trained.for_serving()
    assert serving.coef.dtype == np.float16
    assert trained.coef.dtype == np.float32
    assert serving.coef.nbytes * 2 == trained.coef.nbytes
    texts = [prepare(t) for t in corpus(LABELS, per_class=6, seed=5)[0]]
    monkeypatch.setattr(model_module, "_WIDEN_CLASSES", 2)  # several blocks even with three classes
    for batch in (texts, texts[:1]):
        full, half = trained.predict_proba_prepared(batch), serving.predict_proba_prepared(batch)
        assert np.abs(full - half).max() < 1e-3
        assert (full.argmax(axis=1) == half.argmax(axis=1)).all()


def test_active_model_is_served_with_float16_weights(db: None, data_dir: Path, trained: Any) -> None:
    register(trained)
    served = service.active_classifier()
    assert served is not None
    assert served.coef.dtype == np.float16
