"""``yiwang calendar``: seed and inspect the working-day calendar.

yiwang calendar seed [--from 2024 --to 2026]   # from the chinese_calendar package; manual rows kept
yiwang calendar show 2025-10                   # the month, rest days in brackets
yiwang calendar check 2025-10-01               # is it a working day, and why
yiwang calendar due "2025-09-30 16:00" 4 work_hours   # deadline arithmetic for support questions
"""

from __future__ import annotations

import calendar as stdlib_calendar
import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from yiwang.core.calendar import (
    TZ,
    TimeUnit,
    get_calendar,
    invalidate_calendar,
    seed_calendar,
    supported_years,
)


def _parse_month(text: str) -> tuple[int, int]:
    try:
        parsed = dt.datetime.strptime(text, "%Y-%m")
    except ValueError as exc:
        raise CommandError(f"月份格式应为 YYYY-MM / month must be YYYY-MM: {text!r}") from exc
    return parsed.year, parsed.month


def _parse_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"日期格式应为 YYYY-MM-DD / date must be YYYY-MM-DD: {text!r}") from exc


def _parse_moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise CommandError(f"时间格式应为 'YYYY-MM-DD HH:MM' / bad datetime: {text!r}") from exc
    return moment.replace(tzinfo=TZ) if moment.tzinfo is None else moment


class Command(BaseCommand):
    help = "工作日历：seed / show / check / due (working-day calendar)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        seed = sub.add_parser(
            "seed", help="从 chinese_calendar 导入法定节假日与调休 / seed from chinese_calendar"
        )
        seed.add_argument("--from", dest="first", type=int, help="first year (default: first supported)")
        seed.add_argument("--to", dest="last", type=int, help="last year (default: last supported)")
        show = sub.add_parser("show", help="显示某月 / print a month")
        show.add_argument("month", help="YYYY-MM")
        check = sub.add_parser("check", help="查询某日 / is this day a working day")
        check.add_argument("date", help="YYYY-MM-DD")
        due = sub.add_parser("due", help="计算期限 / compute a deadline")
        due.add_argument("start", help="'YYYY-MM-DD HH:MM' (Beijing time unless an offset is given)")
        due.add_argument("amount")
        due.add_argument("unit", choices=TimeUnit.values)

    def handle(self, *args: Any, **options: Any) -> None:
        getattr(self, "do_" + options["action"])(options)

    def do_seed(self, options: dict[str, Any]) -> None:
        supported = supported_years()
        first = options["first"] or supported.start
        last = options["last"] or supported.stop - 1
        if first > last:
            raise CommandError(f"起始年份晚于结束年份 / --from {first} is after --to {last}")
        wanted = range(first, last + 1)
        skipped = [y for y in wanted if y not in supported]
        if skipped:
            self.stderr.write(
                f"chinese_calendar 仅支持 {supported.start}–{supported.stop - 1} 年，跳过 / "
                f"skipped unsupported years: {skipped[0]}–{skipped[-1]}"
            )
        changed = seed_calendar(wanted)
        self.stdout.write(
            self.style.SUCCESS(f"已写入 {changed} 行 / {changed} rows written ({first}–{last})")
        )

    def do_show(self, options: dict[str, Any]) -> None:
        year, month = _parse_month(options["month"])
        invalidate_calendar()
        cal = get_calendar()
        self.stdout.write(f"{year}年{month}月   [n] 休息 / rest   n* 调休上班 / make-up workday")
        self.stdout.write(" ".join(f"{d:>4}" for d in ("一", "二", "三", "四", "五", "六", "日")))
        notes: list[str] = []
        for week in stdlib_calendar.Calendar().monthdatescalendar(year, month):
            cells = []
            for day in week:
                if day.month != month:
                    cells.append(" " * 5)
                    continue
                info = cal.day_info(day)
                mark = f"{day.day}*" if info.is_workday and day.weekday() >= 5 else str(day.day)
                cells.append(f"{mark:>5}" if info.is_workday else f"[{day.day}]".rjust(5))
                if info.is_exception:
                    notes.append(f"  {day.isoformat()} {'上班' if info.is_workday else '休息'} {info.name}")
            self.stdout.write("".join(cells))
        for note in notes:
            self.stdout.write(note)
        hours = "，".join(
            f"{s // 3600:02d}:{s % 3600 // 60:02d}–{e // 3600:02d}:{e % 3600 // 60:02d}"
            for s, e in cal.periods
        )
        self.stdout.write(
            f"工作时间 / hours: {hours}; 本月工作日 / workdays: "
            f"{cal.workdays_between(dt.date(year, month, 1), dt.date(year, month, stdlib_calendar.monthrange(year, month)[1]))}"
        )

    def do_check(self, options: dict[str, Any]) -> None:
        day = _parse_date(options["date"])
        invalidate_calendar()
        info = get_calendar().day_info(day)
        verdict = "工作日 / workday" if info.is_workday else "休息日 / rest day"
        why = info.name or ("例外日 / exception" if info.is_exception else "默认规则 / default Mon–Fri rule")
        self.stdout.write(f"{day.isoformat()} 周{'一二三四五六日'[day.weekday()]}: {verdict} ({why})")
        if day.year not in supported_years() and not info.is_exception:
            self.stderr.write("注意：该年份无法定节假日数据 / note: no statutory data for this year")

    def do_due(self, options: dict[str, Any]) -> None:
        start = _parse_moment(options["start"])
        try:
            amount = Decimal(options["amount"])
            due = get_calendar().add(start, amount, TimeUnit(options["unit"]))
        except (InvalidOperation, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(due.isoformat(sep=" ", timespec="minutes"))
