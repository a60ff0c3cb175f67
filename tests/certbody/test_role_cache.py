"""``roles.has_role`` reads a user's groups once per user object (issue #16: a grant asked the
matrix four times, four reads), and a change of that user's groups is seen at once."""

import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from certbody import roles
from certbody.models import User

pytestmark = pytest.mark.django_db


def test_the_groups_are_read_once_for_many_questions(market):
    user = User.objects.get(pk=market.pk)
    with CaptureQueriesContext(connection) as queries:
        answers = [roles.has_role(user, role) for role in (*roles.STAFF_ROLES, roles.MARKET)]
    assert answers[-1] is True and answers.count(True) == 2
    assert len(queries.captured_queries) == 1


def test_adding_or_removing_a_group_is_seen_at_once(market):
    user = User.objects.get(pk=market.pk)
    assert not roles.has_role(user, roles.DECISION_MAKER)
    group, _ = Group.objects.get_or_create(name=roles.DECISION_MAKER)
    user.groups.add(group)
    assert roles.has_role(user, roles.DECISION_MAKER)
    user.groups.remove(group)
    assert not roles.has_role(user, roles.DECISION_MAKER)
