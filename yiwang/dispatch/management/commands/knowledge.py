"""``yiwang knowledge ask "question" [--limit 3] [--user NAME] [--json]``: past answers to similar
questions (closed cases with a result)."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.dispatch.knowledge import similar_answers


class Command(BaseCommand):
    help = "知识库：为咨询问题查找相似的历史答复"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        ask = sub.add_parser("ask", help="answers to similar past questions")
        ask.add_argument("question")
        ask.add_argument("--limit", type=int, default=3)
        ask.add_argument("--user", help="only cases this user may see (username)")
        ask.add_argument("--json", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if not options["question"].strip():
            raise CommandError("问题不能为空 / the question is empty")
        user = None
        if options["user"]:
            try:
                user = get_user_model().objects.get(username=options["user"])
            except get_user_model().DoesNotExist as exc:
                raise CommandError(f"用户不存在 / no such user: {options['user']}") from exc
        answers = similar_answers(options["question"], limit=options["limit"], user=user)
        if options["json"]:
            rows = [
                {
                    "number": a.number,
                    "title": a.title,
                    "score": a.score,
                    "answer": a.answer,
                    "closed_at": a.closed_at.isoformat() if a.closed_at else None,
                    "category": a.category,
                }
                for a in answers
            ]
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=1))
            return
        if not answers:
            self.stdout.write("没有找到相似的历史答复 / no similar answers")
        for n, a in enumerate(answers, start=1):
            self.stdout.write(f"{n}. [{a.score:.2f}] {a.number} {a.title}\n   {a.answer[:300]}")
