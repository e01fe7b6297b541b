"""``yiwang apikey create NAME`` / ``revoke PREFIX`` / ``list``: Open311 API keys from the shell."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.api.actions import ApiKeyError, create_api_key, revoke_api_key
from yiwang.api.models import ApiKey
from yiwang.people.models import User


class Command(BaseCommand):
    help = "管理 Open311 API 密钥 / manage Open311 API keys (create, revoke, list)"

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a key; the raw key is printed once")
        create.add_argument("name")
        create.add_argument("--organisation", default="")
        create.add_argument("--rate-limit", type=int, default=100, help="POSTs per hour (default 100)")
        create.add_argument("--by", default="", help="username of the administrator issuing the key")
        revoke = sub.add_parser("revoke", help="revoke a key by its prefix")
        revoke.add_argument("prefix")
        revoke.add_argument("--by", default="", help="username of the administrator revoking the key")
        sub.add_parser("list", help="list keys (prefix, name, state)")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self._create(options)
            elif options["action"] == "revoke":
                key = revoke_api_key(self._actor(options["by"]), options["prefix"])
                self.stdout.write(f"revoked {key.prefix} ({key.name}) at {key.revoked_at:%Y-%m-%d %H:%M}")
            else:
                self._list()
        except ApiKeyError as exc:
            raise CommandError(str(exc)) from exc

    def _actor(self, username: str) -> User | None:
        if not username:
            return None
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"没有用户 {username} / no active user {username!r}")
        return user

    def _create(self, options: dict[str, Any]) -> None:
        key, raw = create_api_key(
            self._actor(options["by"]),
            options["name"],
            organisation=options["organisation"],
            rate_limit_per_hour=options["rate_limit"],
        )
        self.stdout.write(f"prefix: {key.prefix}")
        self.stdout.write(f"api_key: {raw}")
        self.stderr.write("这是唯一一次显示完整密钥 / this is the only time the full key is shown")

    def _list(self) -> None:
        for key in ApiKey.objects.order_by("created_at", "id"):
            state = f"revoked {key.revoked_at:%Y-%m-%d}" if key.revoked_at else "active"
            used = f"{key.last_used_at:%Y-%m-%d %H:%M}" if key.last_used_at else "-"
            self.stdout.write(
                f"{key.prefix}\t{key.name}\t{key.organisation or '-'}\t{key.rate_limit_per_hour}/h\t{state}\t{used}"
            )
