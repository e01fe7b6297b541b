"""What each action does beyond the table: assignments, counters, reasons, conflicts, side effects."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from tests.cases.conftest import IN_A2, WEDNESDAY, dispatched_case, in_progress_case, new_case
from tests.world import World
from yiwang.cases import actions
from yiwang.cases.choices import AssignmentRole, CaseStatus, EventKind, Satisfaction
from yiwang.cases.errors import CaseConflict, InvalidCaseInput, TransitionNotAllowed
from yiwang.cases.models import Assignment, Case, CaseEvent
from yiwang.cases.models.event import AppendOnlyError

LATER = WEDNESDAY + dt.timedelta(hours=1)


def snapshot(case: Case) -> tuple:
    row = Case.objects.get(pk=case.pk)
    return (
        row.status,
        row.version,
        row.resolve_due_at,
        row.extension_amount,
        CaseEvent.objects.filter(case=case).count(),
    )


def test_dispatch_creates_lead_and_assisting_assignments_and_starts_the_accept_clock(world: World) -> None:
    case = dispatched_case(world)
    rows = list(case.assignments.values_list("department_id", "role", "round", "active"))
    assert sorted(rows) == sorted(
        [(world.dept_a.pk, AssignmentRole.LEAD, 1, True), (world.dept_b.pk, AssignmentRole.ASSIST, 1, True)]
    )
    assert case.lead_department == world.dept_a
    assert case.accept_due_at == WEDNESDAY + dt.timedelta(hours=24)  # default policy: 24 hours
    event = case.events.get(kind=EventKind.DISPATCHED)
    assert event.data["assisting"] == [world.dept_b.pk]


def test_dispatch_to_an_unknown_department_writes_nothing(world: World) -> None:
    case = new_case(world)
    before = snapshot(case)
    with pytest.raises(InvalidCaseInput):
        actions.dispatch_case(case.pk, actor=world.dispatcher_a, lead=999_999)
    assert snapshot(case) == before
    assert not Assignment.objects.exists()


def test_sign_stops_the_accept_clock_and_starts_the_resolve_clock(world: World) -> None:
    case = in_progress_case(world)
    assert case.accept_due_at is None
    assert case.resolve_due_at == WEDNESDAY + dt.timedelta(days=7)
    assert case.assignments.get(role=AssignmentRole.LEAD).signed_at == WEDNESDAY


def test_sub_unit_handler_of_the_lead_may_not_sign_for_the_parent(world: World) -> None:
    case = dispatched_case(world)
    from yiwang.cases.errors import CaseNotFound

    with pytest.raises(CaseNotFound):  # dept_a_sub cannot even see a case led by dept_a
        actions.sign_case(case.pk, actor=world.handler_a_sub)


def test_parent_department_handler_may_act_for_a_sub_unit_lead(world: World) -> None:
    case = new_case(world)
    actions.dispatch_case(case.pk, actor=world.dispatcher_a, lead=world.dept_a_sub)
    assert actions.sign_case(case.pk, actor=world.handler_a).status == CaseStatus.IN_PROGRESS


@pytest.mark.parametrize("reason", ["", "   "])
def test_return_without_a_reason_is_refused_and_nothing_changes(world: World, reason: str) -> None:
    case = dispatched_case(world)
    before = snapshot(case)
    with pytest.raises(InvalidCaseInput) as exc:
        actions.return_case(case.pk, actor=world.handler_a, reason=reason)
    assert "原因" in exc.value.zh
    assert "reason" in exc.value.en
    assert snapshot(case) == before


def test_return_sends_the_case_back_to_the_dispatcher_and_keeps_history_visible(world: World) -> None:
    case = actions.return_case(dispatched_case(world).pk, actor=world.handler_a, reason="不属于本单位")
    assert case.status == CaseStatus.REGISTERED
    assert (case.lead_department, case.return_count, case.accept_due_at) == (None, 1, None)
    assert not case.assignments.filter(active=True).exists()
    assert Case.objects.visible_to(world.handler_a).filter(pk=case.pk).exists()
    again = actions.dispatch_case(case.pk, actor=world.dispatcher_a, lead=world.dept_b)
    assert again.round == 2


@pytest.mark.parametrize(("reason", "amount"), [("", 3), ("需要协调", 0), ("需要协调", "abc")])
def test_extension_needs_a_reason_and_a_positive_amount(world: World, reason: str, amount: object) -> None:
    case = in_progress_case(world)
    before = snapshot(case)
    with pytest.raises(InvalidCaseInput):
        actions.request_extension(case.pk, actor=world.handler_a, reason=reason, amount=amount)  # type: ignore[arg-type]
    assert snapshot(case) == before


def test_approved_extension_moves_the_deadline(world: World) -> None:
    case = in_progress_case(world)
    due = case.resolve_due_at
    assert due is not None
    actions.request_extension(case.pk, actor=world.handler_a, reason="需协调产权单位", amount=3, unit="days")
    with pytest.raises(TransitionNotAllowed):  # one pending request at a time
        actions.request_extension(case.pk, actor=world.handler_a, reason="再延", amount=1)
    case = actions.approve_extension(case.pk, actor=world.dispatcher_a)
    assert case.resolve_due_at == due + dt.timedelta(days=3)
    assert (case.extension_count, case.extension_amount) == (1, None)


def test_rejected_extension_keeps_the_deadline(world: World) -> None:
    case = in_progress_case(world)
    due = case.resolve_due_at
    actions.request_extension(case.pk, actor=world.handler_a, reason="需协调", amount=Decimal("1.5"))
    case = actions.reject_extension(case.pk, actor=world.dispatcher_a, reason="理由不充分")
    assert (case.resolve_due_at, case.extension_count, case.extension_amount) == (due, 0, None)
    with pytest.raises(TransitionNotAllowed):
        actions.approve_extension(case.pk, actor=world.dispatcher_a)


def test_urge_and_supervise_are_counted_and_recorded(world: World) -> None:
    case = dispatched_case(world)
    actions.urge_case(case.pk, actor=world.leader, note="尽快")
    case = actions.urge_case(case.pk, actor=world.dispatcher_a)
    assert case.urge_count == 2
    with pytest.raises(InvalidCaseInput):
        actions.supervise_case(case.pk, actor=world.leader, level=4)
    case = actions.supervise_case(case.pk, actor=world.leader, level=3)
    assert case.supervise_level == 3
    assert case.events.filter(kind=EventKind.SUPERVISED).get().data == {"level": 3}


def test_assisting_department_reports_progress(world: World) -> None:
    case = in_progress_case(world)
    actions.report_progress(case.pk, actor=world.handler_b, note="已配合排查管线")
    assert case.events.filter(kind=EventKind.PROGRESS_REPORTED, actor=world.handler_b).exists()


def test_failed_verification_sends_back_for_rework_with_a_fresh_clock(world: World) -> None:
    case = in_progress_case(world)
    actions.resolve_case(case.pk, actor=world.handler_a, result="已清运", at=LATER)
    with pytest.raises(InvalidCaseInput):
        actions.verify_case(case.pk, actor=world.grid_worker_a1, passed=False, note="")
    later = LATER + dt.timedelta(hours=2)
    case = actions.verify_case(
        case.pk, actor=world.grid_worker_a1, passed=False, note="现场仍有垃圾", at=later
    )
    assert (case.status, case.rework_count) == (CaseStatus.IN_PROGRESS, 1)
    assert case.resolve_due_at == later + dt.timedelta(days=7)


def test_unsatisfied_callback_allows_a_counted_second_round(world: World) -> None:
    case = in_progress_case(world)
    actions.resolve_case(case.pk, actor=world.handler_a, result="已清运")
    actions.verify_case(case.pk, actor=world.dispatcher_a, passed=True)
    case = actions.record_callback(
        case.pk, actor=world.operator, contacted=True, solved=False, satisfaction=Satisfaction.UNSATISFIED
    )
    assert (case.status, case.satisfaction) == (CaseStatus.CLOSED, Satisfaction.UNSATISFIED)
    case = actions.reopen_case(case.pk, actor=world.dispatcher_a, note="群众不满意")
    assert (case.status, case.reopen_count, case.round, case.satisfaction) == (
        CaseStatus.DISPATCHED,
        1,
        2,
        "",
    )
    assert case.lead_department == world.dept_a
    assert set(case.assignments.filter(active=True).values_list("department_id", flat=True)) == {
        world.dept_a.pk,
        world.dept_b.pk,
    }


def test_satisfied_case_cannot_be_reopened(world: World) -> None:
    case = in_progress_case(world)
    actions.resolve_case(case.pk, actor=world.handler_a, result="已清运")
    actions.verify_case(case.pk, actor=world.dispatcher_a, passed=True)
    actions.record_callback(
        case.pk, actor=world.operator, contacted=True, solved=True, satisfaction="satisfied"
    )
    with pytest.raises(TransitionNotAllowed):
        actions.reopen_case(case.pk, actor=world.dispatcher_a)


def test_callback_with_unknown_satisfaction_is_refused(world: World) -> None:
    case = in_progress_case(world)
    actions.resolve_case(case.pk, actor=world.handler_a, result="ok")
    actions.verify_case(case.pk, actor=world.dispatcher_a, passed=True)
    with pytest.raises(InvalidCaseInput):
        actions.record_callback(
            case.pk, actor=world.operator, contacted=True, solved=True, satisfaction="meh"
        )


def test_merge_into_an_open_case(world: World) -> None:
    target = new_case(world)
    duplicate = dispatched_case(world)
    merged = actions.merge_cases(duplicate.pk, actor=world.dispatcher_a, into=target.pk)
    assert (merged.status, merged.merged_into_id, merged.accept_due_at) == (
        CaseStatus.MERGED,
        target.pk,
        None,
    )
    assert merged.events.get(kind=EventKind.MERGED).data["into_number"] == target.number


def test_merge_into_itself_or_a_closed_case_is_refused(world: World) -> None:
    case = new_case(world)
    closed = actions.answer_directly(new_case(world).pk, actor=world.operator, answer="已解答")
    with pytest.raises(InvalidCaseInput):
        actions.merge_cases(case.pk, actor=world.dispatcher_a, into=case.pk)
    with pytest.raises(InvalidCaseInput):
        actions.merge_cases(case.pk, actor=world.dispatcher_a, into=closed.pk)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.REGISTERED


def test_merge_into_a_case_outside_the_actors_scope_is_not_found(world: World) -> None:
    from tests.cases.conftest import IN_B1
    from yiwang.cases.errors import CaseNotFound

    theirs = new_case(world, point=IN_B1)
    mine = new_case(world)
    with pytest.raises(CaseNotFound):
        actions.merge_cases(mine.pk, actor=world.dispatcher_a, into=theirs.pk)


def test_transfer_to_110_records_the_receipt(world: World) -> None:
    case = actions.transfer_to_110(new_case(world).pk, actor=world.operator, receipt_number="110-HZ-7788")
    assert (case.status, case.transfer_receipt) == (CaseStatus.TRANSFERRED, "110-HZ-7788")
    assert case.events.get(kind=EventKind.TRANSFERRED_TO_110).data == {"receipt": "110-HZ-7788"}
    with pytest.raises(InvalidCaseInput):
        actions.transfer_to_110(new_case(world).pk, actor=world.operator, receipt_number="")


def test_invalidate_and_answer_need_text(world: World) -> None:
    case = new_case(world)
    with pytest.raises(InvalidCaseInput):
        actions.invalidate(case.pk, actor=world.dispatcher_a, reason="")
    with pytest.raises(InvalidCaseInput):
        actions.answer_directly(case.pk, actor=world.operator, answer="")
    assert case.events.count() == 1


def test_stale_form_gets_a_conflict_and_the_first_dispatcher_wins(world: World) -> None:
    case = new_case(world, point=IN_A2)
    seen = Case.objects.get(pk=case.pk)  # both dispatchers loaded the same form
    actions.dispatch_case(
        case.pk,
        actor=world.dispatcher_a,
        lead=world.dept_a,
        expected_status=seen.status,
        expected_version=seen.version,
    )
    before = snapshot(case)
    with pytest.raises(CaseConflict) as exc:
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_b, expected_version=seen.version)
    assert "刷新" in exc.value.zh
    assert "reload" in exc.value.en
    with pytest.raises(CaseConflict):
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_b, expected_status=seen.status)
    with pytest.raises(TransitionNotAllowed):  # without a form token: the state check answers
        actions.dispatch_case(case.pk, actor=world.admin, lead=world.dept_b)
    assert snapshot(case) == before
    assert Case.objects.get(pk=case.pk).lead_department == world.dept_a


def test_notifications_are_sent_only_after_commit(world: World, django_capture_on_commit_callbacks) -> None:
    case = new_case(world)
    with django_capture_on_commit_callbacks() as callbacks:
        actions.dispatch_case(case.pk, actor=world.dispatcher_a, lead=world.dept_a)
    assert len(callbacks) == 1


def test_case_events_cannot_be_changed_or_deleted(world: World) -> None:
    event = new_case(world).events.get()
    event.note = "篡改"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.filter(pk=event.pk).update(note="x")
    with pytest.raises(AppendOnlyError):
        CaseEvent.objects.all().delete()
    assert CaseEvent.objects.get(pk=event.pk).note == ""


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_the_same_moment_exactly_one_wins_on_postgresql() -> None:
    import threading

    from django.db import connection

    from tests.world import build_world

    world = build_world()
    case = new_case(world)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def dispatch(actor, dept) -> None:  # type: ignore[no-untyped-def]
        barrier.wait()
        try:
            actions.dispatch_case(case.pk, actor=actor, lead=dept, expected_status=CaseStatus.REGISTERED)
            outcomes.append("won")
        except CaseConflict:
            outcomes.append("conflict")
        finally:
            connection.close()

    threads = [
        threading.Thread(target=dispatch, args=(world.dispatcher_a, world.dept_a)),
        threading.Thread(target=dispatch, args=(world.admin, world.dept_b)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "won"]
    assert CaseEvent.objects.filter(case=case, kind=EventKind.DISPATCHED).count() == 1
    assert Assignment.objects.filter(case=case).count() == 1
