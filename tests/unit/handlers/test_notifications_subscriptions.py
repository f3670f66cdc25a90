"""handlers/notifications/subscriptions.py: what users allowed for subscribe
messages, from the mini-program's answers and from WeChat's pushes."""

from __future__ import annotations

from typing import Any

from app.models import CallbackReceipt, Subscription
from handlers.notifications.subscriptions import quotas, record_answers, record_push, templates_for
from tests.unit.handlers.conftest import World, county_with

NEW_CASE, ESCALATION, UPDATE = (
    "TPL_NEW_CASE_PLACEHOLDER",
    "TPL_ESCALATION_PLACEHOLDER",
    "TPL_CASE_UPDATE_PLACEHOLDER",
)


def test_the_client_is_given_the_countys_template_per_purpose(world: World) -> None:
    assert templates_for(world.ctx.county) == {
        "new_case": NEW_CASE,
        "escalation": ESCALATION,
        "case_update": UPDATE,
    }


def test_each_accept_of_a_one_time_template_allows_one_more_message(world: World) -> None:
    user = world.user("resident")
    assert record_answers(world.ctx, user.id, {UPDATE: "accept"}) == {UPDATE: 1}
    assert record_answers(world.ctx, user.id, {UPDATE: "accept", NEW_CASE: "accept"}) == {
        UPDATE: 2,
        NEW_CASE: 1,
    }
    assert quotas(world.ctx, user.id) == {UPDATE: 2, NEW_CASE: 1}


def test_a_refusal_is_recorded_and_grants_nothing(world: World) -> None:
    user = world.user("resident")
    record_answers(world.ctx, user.id, {UPDATE: "accept"})
    assert record_answers(world.ctx, user.id, {UPDATE: "reject", ESCALATION: "ban", NEW_CASE: "filter"}) == {
        UPDATE: 1,
        ESCALATION: 0,
        NEW_CASE: 0,
    }
    statuses = {s.template_id: s.status for s in world.rows(Subscription, Subscription.user_id == user.id)}
    assert statuses == {UPDATE: "reject", ESCALATION: "ban", NEW_CASE: "filter"}


def test_unknown_templates_answers_and_shapes_are_ignored(world: World) -> None:
    user = world.user("resident")
    answers: dict[str, Any] = {"TPL_SOMEONE_ELSES": "accept", UPDATE: "maybe", NEW_CASE: 1}
    assert record_answers(world.ctx, user.id, answers) == {}
    assert world.count(Subscription) == 0


def test_a_long_term_template_counts_no_quota(world: World) -> None:
    templates = county_with().subscribe_templates
    raw = {
        p: {"id": t.id, "long_term": p == "case_update", "fields": dict(t.fields)}
        for p, t in templates.items()
    }
    world.ctx.county = county_with(subscribe_templates=raw)
    user = world.user("resident")
    assert record_answers(world.ctx, user.id, {UPDATE: "accept"}) == {UPDATE: 0}
    sub = world.one(Subscription, Subscription.user_id == user.id)
    assert sub is not None and (sub.status, sub.long_term) == ("accept", True)


def test_a_popup_push_grants_like_the_clients_answer_and_a_repeat_changes_nothing(world: World) -> None:
    user = world.user("resident")
    assert record_push(
        world.ctx,
        "o-resident",
        "o-resident:1700000000:popup",
        [(UPDATE, "accept")],
        "subscribe_msg_popup_event",
    )
    assert not record_push(
        world.ctx,
        "o-resident",
        "o-resident:1700000000:popup",
        [(UPDATE, "accept")],
        "subscribe_msg_popup_event",
    )
    assert quotas(world.ctx, user.id) == {UPDATE: 1}
    assert world.count(CallbackReceipt) == 1


def test_a_settings_change_re_allows_a_template_but_grants_no_message(world: World) -> None:
    user = world.user("resident")
    record_answers(world.ctx, user.id, {UPDATE: "accept"})
    record_push(world.ctx, "o-resident", "k1", [(UPDATE, "reject")], "subscribe_msg_change_event")
    sub = world.one(Subscription, Subscription.user_id == user.id)
    assert sub is not None and (sub.status, sub.quota) == ("reject", 1)
    record_push(world.ctx, "o-resident", "k2", [(UPDATE, "accept")], "subscribe_msg_change_event")
    sub = world.one(Subscription, Subscription.user_id == user.id)
    assert sub is not None and (sub.status, sub.quota) == ("accept", 1)


def test_a_settings_change_to_accept_creates_nothing_for_a_template_never_answered(world: World) -> None:
    user = world.user("resident")
    record_push(world.ctx, "o-resident", "k1", [(UPDATE, "accept")], "subscribe_msg_change_event")
    assert quotas(world.ctx, user.id) == {}


def test_a_push_for_someone_we_do_not_know_is_acknowledged_and_changes_nothing(world: World) -> None:
    assert record_push(world.ctx, "o-stranger", "k1", [(UPDATE, "accept")], "subscribe_msg_popup_event")
    assert world.count(Subscription) == 0
    assert world.count(CallbackReceipt) == 1
