"""``yiwang route --text … --lng … --lat …``: which category and departments a text at a place gets."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.preview import preview


class Command(BaseCommand):
    help = "预览：某段文本在某地点会被分到哪个分类、派给哪个单位"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--text", required=True)
        parser.add_argument("--lng", type=float, required=True)
        parser.add_argument("--lat", type=float, required=True)
        parser.add_argument("--category", help="指定分类代码（不给则用分类建议的第一项）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = preview(
                options["text"], options["lng"], options["lat"], category_code=options["category"]
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        for s in result.suggestions:
            self.stdout.write(f"建议分类: {s.code} {s.name} {s.confidence:.3f}")
        if not result.suggestions:
            self.stdout.write("建议分类: 无")
        self.stdout.write(f"区划: {' / '.join(d.name for d in result.divisions) or '未定位'}")
        if result.route is None:
            self.stdout.write("派单: 无匹配规则，也无属地单位")
        else:
            helpers = "、".join(d.name for d in result.route.assisting) or "-"
            self.stdout.write(f"主办: {result.route.lead.name}  协办: {helpers}")
            self.stdout.write(f"依据: {result.route.explanation}")
