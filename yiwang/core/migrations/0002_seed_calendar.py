"""Seed the statutory holidays / 调休 workdays the installed chinese_calendar knows, and the default
working hours (a common 机关 schedule, editable in the admin)."""

from django.db import migrations


def seed(apps, schema_editor):
    from yiwang.core.calendar import package_exceptions, supported_years
    from yiwang.core.models import DEFAULT_WARNING_SHARE, default_work_periods

    CalendarDay = apps.get_model("core", "CalendarDay")
    WorkSchedule = apps.get_model("core", "WorkSchedule")
    taken = set(CalendarDay.objects.values_list("date", flat=True))
    CalendarDay.objects.bulk_create(
        CalendarDay(date=day, is_workday=work, name=name, source="chinese_calendar")
        for day, work, name in package_exceptions(supported_years())
        if day not in taken
    )
    if not WorkSchedule.objects.filter(is_active=True).exists():
        WorkSchedule.objects.create(
            name="机关作息", periods=default_work_periods(), warning_share=DEFAULT_WARNING_SHARE, is_active=True
        )


def unseed(apps, schema_editor):
    apps.get_model("core", "CalendarDay").objects.filter(source="chinese_calendar").delete()


class Migration(migrations.Migration):
    dependencies = [("core", "0001_calendar")]

    operations = [migrations.RunPython(seed, unseed)]
