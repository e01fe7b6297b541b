"""``yiwang classify``: evaluate the classifier on labelled CSV files, or suggest categories.

    yiwang classify evaluate --train TRAIN.csv --test TEST.csv [--text-column text] [--label-column label]
    yiwang classify evaluate --train FILE.csv --cv 5
    yiwang classify predict "小区门口垃圾没人清运"

``evaluate`` prints one JSON object: macro_f1, accuracy, n_train, n_test, train_seconds,
predict_per_second (and ece, the calibration error; with --cv also per-fold values in ``folds``).
CSV files may be UTF-8 (with or without BOM) or GBK. ``--fallback-text-column`` names a column used
where the text column is empty; for the teddy2020 附件2 reconstruction:
``--text-column 主题加详情 --fallback-text-column 分词文本 --label-column 一级分类``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.classifier import ClassifierInputError, suggest_categories
from yiwang.dispatch.classifier.evaluate import cross_validate, evaluate_split, read_csv


class Command(BaseCommand):
    help = "评估分类模型（evaluate）或给出分类建议（predict）"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        evaluate = sub.add_parser("evaluate", help="在带标签的 CSV 上训练并评估")
        evaluate.add_argument("--train", required=True, type=Path)
        evaluate.add_argument("--test", type=Path)
        evaluate.add_argument("--cv", type=int, help="k 折分层交叉验证（不给 --test 时）")
        evaluate.add_argument("--text-column", default="text")
        evaluate.add_argument(
            "--fallback-text-column",
            default=None,
            help="文本列为空时改用此列（teddy2020 附件2：--text-column 主题加详情 --fallback-text-column 分词文本 "
            "--label-column 一级分类）",
        )
        evaluate.add_argument("--label-column", default="label")
        evaluate.add_argument("--c", type=float, default=1.0)
        predict = sub.add_parser("predict", help="给出一段文本的分类建议（使用当前启用的模型）")
        predict.add_argument("text")
        predict.add_argument("--limit", type=int, default=3)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "evaluate":
                result = self._evaluate(options)
                self.stdout.write(json.dumps(result, ensure_ascii=False))
            else:
                self._predict(options["text"], options["limit"])
        except ClassifierInputError as exc:
            raise CommandError(str(exc)) from exc

    def _evaluate(self, options: dict[str, Any]) -> dict[str, Any]:
        columns = {
            "text_column": options["text_column"],
            "label_column": options["label_column"],
            "fallback_text_column": options["fallback_text_column"],
        }
        train = read_csv(options["train"], **columns)
        if options["test"] is not None and options["cv"] is not None:
            raise CommandError("--test 与 --cv 只能选一个 / give either --test or --cv")
        if options["test"] is not None:
            result = evaluate_split(train, read_csv(options["test"], **columns), c=options["c"])
            result.pop("reliability", None)
            return result
        if options["cv"] is None:
            raise CommandError("需要 --test 或 --cv / give --test or --cv")
        return cross_validate(train, options["cv"], c=options["c"])

    def _predict(self, text: str, limit: int) -> None:
        suggestions = suggest_categories(text, limit=limit)
        if not suggestions:
            self.stdout.write("无建议（没有启用的模型、模型文件不可用，或文本无内容）/ no suggestion")
        for s in suggestions:
            self.stdout.write(f"{s.code}\t{s.name}\t{s.confidence:.3f}")
