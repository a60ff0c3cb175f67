"""The fixtures built once per module (tests/shared.py): built once, copied into each test, and
whatever a test changes, in the database or in memory, is gone before the next one."""

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from certbody.models import BusinessScope
from tests import shared
from tests.conftest import _REAL, STUB_PDF
from tests.shared import shared_fixture

BUILT = []


@shared_fixture
def scope(cb):
    BUILT.append(1)
    default_storage.save("shared/built.txt", ContentFile(b"built once"))
    return BusinessScope.objects.create(code=99, name="共享类别")


def test_built_once_per_module_and_visible_to_the_test(scope):
    assert len(BUILT) == 1
    assert BusinessScope.objects.get(code=99).pk == scope.pk
    # the files the builder stored are in the test's own media directory
    assert (settings.MEDIA_ROOT / "shared" / "built.txt").read_bytes() == b"built once"
    assert shared.open_media is not None and shared.open_media != settings.MEDIA_ROOT


def test_a_change_in_the_database_and_in_memory(scope):
    scope.name = "改过的名字"
    scope.save()
    BusinessScope.objects.create(code=98, name="另一个类别")
    (settings.MEDIA_ROOT / "shared" / "built.txt").write_bytes(b"changed")


def test_is_gone_before_the_next_test(scope):
    assert len(BUILT) == 1
    assert scope.name == "共享类别"
    assert BusinessScope.objects.get(code=99).name == "共享类别"
    assert not BusinessScope.objects.filter(code=98).exists()
    assert (settings.MEDIA_ROOT / "shared" / "built.txt").read_bytes() == b"built once"


def test_each_test_gets_its_own_copy(scope, _shared_scope):
    assert scope is not _shared_scope and scope.pk == _shared_scope.pk


def test_a_transactional_test_is_refused_inside_the_module_transaction(scope):
    with pytest.raises(pytest.fail.Exception, match="transactional test cannot run"):
        shared.refuse_transactional(True)
    shared.refuse_transactional(False)  # a test in a savepoint is what the module is for


def test_the_module_was_built_with_stub_pdfs_and_a_test_keeps_them(scope):
    import certbody.pdf

    assert certbody.pdf.html_to_pdf("<p>x</p>") == STUB_PDF


@pytest.mark.pdf
@pytest.mark.after_commit
def test_a_test_marked_pdf_or_after_commit_gets_the_real_functions_inside_the_module(scope):
    import certbody.pdf
    import certificates.pdf

    assert certbody.pdf.html_to_pdf is _REAL["certbody.pdf"]["html_to_pdf"]
    assert certificates.pdf.after_commit is _REAL["certificates.pdf"]["after_commit"]


def test_base_data_a_flush_took_unnoticed_is_put_back_before_a_module_transaction(db):
    from django.contrib.auth.models import Group

    from certbody import roles
    from tests import conftest

    Group.objects.filter(name=roles.MARKET).delete()
    conftest._base_data_flushed = False  # the flush was not seen
    conftest.restore_base_data()
    assert Group.objects.filter(name=roles.MARKET).exists()
