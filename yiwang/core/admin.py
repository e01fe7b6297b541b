"""Admin for the work calendar: exceptions to the Mon–Fri rule and the working hours.

Saving here is how administrators maintain calendar data, so every save or delete drops the process
cache (:func:`~yiwang.core.calendar.invalidate_calendar`); other processes notice within seconds.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from yiwang.core.calendar import invalidate_calendar
from yiwang.core.models import CalendarDay, CalendarSource, WorkSchedule


class YearFilter(admin.SimpleListFilter):
    title = _("年份")
    parameter_name = "year"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        years = CalendarDay.objects.dates("date", "year", order="DESC")
        return [(str(d.year), str(d.year)) for d in years]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        return queryset.filter(date__year=int(value)) if value and value.isdigit() else queryset


class InvalidatesCalendar(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        invalidate_calendar()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)
        invalidate_calendar()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)
        invalidate_calendar()


@admin.register(CalendarDay)
class CalendarDayAdmin(InvalidatesCalendar):
    list_display = ("date", "weekday", "is_workday", "name", "source", "updated_at")
    list_filter = (YearFilter, "is_workday", "source")
    search_fields = ("name",)
    date_hierarchy = "date"
    ordering = ("date",)
    readonly_fields = ("source", "created_at", "updated_at")

    @admin.display(description=_("星期"))
    def weekday(self, obj: CalendarDay) -> str:
        # Django's own catalogue names the day in the active language (星期一 / Monday).
        return date_format(obj.date, "l")

    def save_model(self, request: HttpRequest, obj: CalendarDay, form: Any, change: bool) -> None:
        # An administrator's word is final: an edited row is manual, so a reseed never reverts it.
        obj.source = CalendarSource.MANUAL
        super().save_model(request, obj, form, change)


@admin.register(WorkSchedule)
class WorkScheduleAdmin(InvalidatesCalendar):
    list_display = ("name", "periods", "warning_share", "is_active", "updated_at")
    list_filter = ("is_active",)
    readonly_fields = ("created_at", "updated_at")
