"""Client portal for applications: registration by invitation, the online application with its
documents, following the review, more documents, the contract sign-off, downloads; and every
URL refusing another organisation's records with 404."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from applications import services
from applications.models import (
    Application,
    ApplicationDocument,
    ApplicationReview,
    ClientInvitation,
    Contract,
)
from applications.pending_uploads import PendingUpload
from certbody.lifecycle import RuleViolation
from certbody.models import User
from tests.applications.factories import ClientUserFactory, OrganizationFactory
from tests.certbody.test_uploads import DOCX, JPEG, PDF, PNG, XLSX, upload

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("cb")]

Kind = ApplicationDocument.Kind


@pytest.fixture
def organization():
    return OrganizationFactory(name="华东家电服务有限公司")


@pytest.fixture
def own(organization):
    return ClientUserFactory(organization=organization, display_name="赵六")


@pytest.fixture
def stranger():
    return ClientUserFactory(display_name="别家")


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def documents_data(**replace) -> dict:
    """POST data with one good file for each required kind (``replace``: field → file(s))."""
    data = {
        f"documents_{kind}": upload(f"{kind}.pdf", PDF) for kind in ApplicationDocument.REQUIRED
    }
    data.update(replace)
    return data


def application_data(**extra) -> dict:
    return {
        "scope_text": "家用电器的销售及售后服务（配送、安装、维修）",
        "headcount": "80",
        "business_scope_codes": ["24"],
        "requested_grade": "four_star",
        "outsourced_processes": "",
        **documents_data(),
        **extra,
    }


def apply_online(client, user, **extra):
    client.force_login(user)
    return client.post(reverse("applications_portal:new"), application_data(**extra))


def submitted(organization, actor):
    return services.application_submit_online(
        organization=organization,
        actor=actor,
        documents=[(kind.value, upload(f"{kind}.pdf", PDF)) for kind in Kind if kind != Kind.OTHER],
        scope_text="家用电器的销售及售后服务",
        headcount=80,
        business_scope_codes=[24],
    )


def accept(application, market):
    services.application_start_review(application=application, actor=market)
    services.application_review_record(
        application=application, actor=market, checks=dict.fromkeys(ApplicationReview.CHECKS, True)
    )
    services.application_accept(application=application, actor=market)
    return services.contract_create(application=application, actor=market, fee=20000)


# --- invitation and registration ------------------------------------------------------------


def invite(organization, market, email="zhao@example.cn"):
    return services.client_invite(organization=organization, actor=market, email=email)


def test_market_invites_by_email_with_an_unguessable_link_valid_for_14_days(
    organization, market, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        invitation = invite(organization, market)
    invitation.refresh_from_db()
    assert len(invitation.token) >= 40
    assert invitation.token not in invitation.token_hash  # only the hash is stored
    assert invitation.invited_by == market and invitation.accepted_at is None
    assert abs(invitation.expires_at - invitation.created_at - timedelta(days=14)) < timedelta(
        seconds=5
    )
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["zhao@example.cn"]
    assert "华东家电服务有限公司" in message.subject
    link = reverse("applications_portal:register", args=[invitation.token])
    assert link in message.body and "注册" in message.body


def test_only_the_market_department_invites(organization, planner, technical_manager):
    for actor in (planner, technical_manager):
        with pytest.raises(RuleViolation, match="无权执行此操作"):
            invite(organization, actor)
    assert not ClientInvitation.objects.exists()


def test_an_address_with_an_account_is_not_invited(organization, market, own):
    own.email = "zhao@example.cn"
    own.save()
    with pytest.raises(RuleViolation, match="已有账户"):
        invite(organization, market, "ZHAO@example.cn")


def test_a_new_invitation_replaces_the_open_one(client, organization, market):
    first = invite(organization, market)
    second = invite(organization, market)
    assert client.get(reverse("applications_portal:register", args=[first.token])).status_code == (
        410
    )
    assert client.get(reverse("applications_portal:register", args=[second.token])).status_code == (
        200
    )


def register_data(**extra):
    return {
        "username": "zhaoliu",
        "display_name": "赵六",
        "password1": "Shouhou-Fuwu-2025",
        "password2": "Shouhou-Fuwu-2025",
        **extra,
    }


def test_the_invitee_registers_is_signed_in_and_sees_the_portal(client, organization, market):
    invitation = invite(organization, market)
    url = reverse("applications_portal:register", args=[invitation.token])
    page = client.get(url)
    assert page.status_code == 200
    assert "华东家电服务有限公司" in page.content.decode()

    response = client.post(url, register_data())
    assert response.status_code == 302
    assert response["Location"] == reverse("applications_portal:list")
    user = User.objects.get(username="zhaoliu")
    assert user.is_active and not user.is_staff and not user.is_superuser
    assert user.organization == organization and user.email == "zhao@example.cn"
    assert user.display_name == "赵六" and user.check_password("Shouhou-Fuwu-2025")
    invitation.refresh_from_db()
    assert invitation.user == user and invitation.accepted_at is not None
    assert client.get(reverse("applications_portal:list")).status_code == 200  # signed in


def test_a_used_invitation_cannot_register_again(client, organization, market):
    invitation = invite(organization, market)
    url = reverse("applications_portal:register", args=[invitation.token])
    client.post(url, register_data())
    client.logout()
    response = client.get(url)
    assert response.status_code == 410
    assert "已被使用" in response.content.decode() or "already been used" in (
        response.content.decode()
    )
    response = client.post(url, register_data(username="someone-else"))
    assert response.status_code == 410
    assert User.objects.filter(organization=organization).count() == 1
    with pytest.raises(RuleViolation, match="已被使用"):
        services.client_register(invitation=invitation, username="x2", password="Shouhou-2025-x")


def test_an_expired_invitation_is_refused(client, organization, market):
    invitation = invite(organization, market)
    ClientInvitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    url = reverse("applications_portal:register", args=[invitation.token])
    assert client.get(url).status_code == 410
    assert client.post(url, register_data()).status_code == 410
    assert not User.objects.filter(username="zhaoliu").exists()
    invitation.refresh_from_db()
    with pytest.raises(RuleViolation, match="已过期"):
        services.client_register(invitation=invitation, username="x", password="Shouhou-2025-x")


def test_an_unknown_link_is_404(client):
    for token in ("not-a-token", "x" * 43, "y" * 300):
        response = client.get(reverse("applications_portal:register", args=[token]))
        assert response.status_code == 404
        assert 'id="invitation-error"' in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"password1": "12345678", "password2": "12345678"}, "password1"),  # numeric, common
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"password1": "zhaoliu-x", "password2": "zhaoliu-x"}, "password1"),  # like the name
        ({"password2": "Something-else-2025"}, "password2"),
        ({"username": "bad name!"}, "username"),
    ],
)
def test_weak_passwords_and_bad_names_are_refused(client, organization, market, data, field):
    invitation = invite(organization, market)
    url = reverse("applications_portal:register", args=[invitation.token])
    response = client.post(url, register_data(**data))
    assert response.status_code == 422
    assert response.context["form"].errors[field]
    assert not User.objects.filter(organization=organization).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_a_taken_user_name_is_refused(client, organization, market, own):
    invitation = invite(organization, market)
    url = reverse("applications_portal:register", args=[invitation.token])
    response = client.post(url, register_data(username=own.username.upper()))
    assert response.status_code == 422
    assert response.context["form"].errors["username"]


# --- online application ---------------------------------------------------------------------


def test_client_applies_online_with_the_documents_and_the_application_is_submitted(
    client, own, organization
):
    response = apply_online(
        client,
        own,
        documents_licences=[upload("许可证.jpg", JPEG), upload("许可证2.png", PNG)],
        documents_outlets=upload("网点清单.xlsx", XLSX),
        documents_service_documents=upload("服务手册.docx", DOCX),
    )
    application = Application.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("applications_portal:detail", args=[application.pk])
    assert application.organization == organization
    assert application.state == Application.State.SUBMITTED
    assert application.kind == Application.Kind.INITIAL
    assert application.requested_grade == "four_star" and application.headcount == 80
    assert list(application.business_scopes.values_list("code", flat=True)) == [24]
    assert application.history.first().history_user == own
    documents = application.documents.all()
    assert {d.kind for d in documents} == {*ApplicationDocument.REQUIRED, Kind.LICENCES}
    assert documents.count() == len(ApplicationDocument.REQUIRED) + 2
    outlets = documents.get(kind=Kind.OUTLETS)
    assert outlets.original_name == "网点清单.xlsx" and outlets.content_type.endswith("sheet")
    assert outlets.uploaded_by == own and outlets.size == len(XLSX)
    # generated names under the organisation and application, outside any web root
    assert outlets.file.name.startswith(f"applications/{organization.pk}/{application.pk}/")
    assert "网点" not in outlets.file.name
    assert len(stored_files()) == documents.count()


def test_missing_required_documents_are_named_and_nothing_is_kept(client, own):
    data = documents_data()
    del data["documents_self_assessment"]
    del data["documents_outlets"]
    client.force_login(own)
    response = client.post(
        reverse("applications_portal:new"),
        {**{k: v for k, v in application_data().items() if not k.startswith("documents_")}, **data},
    )
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert "documents_self_assessment" in errors and "documents_outlets" in errors
    assert not Application.objects.exists() and not ApplicationDocument.objects.exists()
    # The good files wait for the next attempt as pending uploads (issue #14), nothing else.
    assert stored_files() and all("pending" in path.parts for path in stored_files())


@pytest.mark.parametrize(
    ("replace", "message"),
    [
        ({"documents_legal_status": upload("营业执照.pdf", PNG)}, "内容与其 .pdf 扩展名不符"),
        ({"documents_other": upload("说明.html", b"<script>x</script>")}, "类型不允许"),
        (
            {"documents_other": upload("扫描件.pdf", PDF + b"0" * (10 * 1024 * 1024))},
            "超过 10 MB",
        ),
        (
            {"documents_other": [upload(f"附件{i}.pdf", PDF) for i in range(4)]},
            "最多上传 10 个文件",
        ),  # 7 required + 4 = 11
    ],
)
def test_a_bad_upload_refuses_the_whole_application_and_writes_nothing(
    client, own, replace, message
):
    response = apply_online(client, own, **replace)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Application.objects.exists()
    assert not ApplicationDocument.objects.exists()
    # Only files that passed the checks wait as pending uploads (issue #14).
    assert all("pending" in path.parts for path in stored_files())
    assert not PendingUpload.objects.filter(
        original_name__in=["营业执照.pdf", "说明.html", "扫描件.pdf"]
    )


def test_the_service_checks_the_files_again_and_cleans_up_when_it_refuses(own, organization):
    with pytest.raises(RuleViolation, match="扩展名不符"):
        services.application_submit_online(
            organization=organization,
            actor=own,
            documents=[(k.value, upload("a.pdf", PDF)) for k in ApplicationDocument.REQUIRED]
            + [("other", upload("b.png", JPEG))],
            scope_text="x",
            headcount=5,
            business_scope_codes=[24],
        )
    # refused late (no business scope category: after the files were written)
    with pytest.raises(RuleViolation, match="业务范围"):
        services.application_submit_online(
            organization=organization,
            actor=own,
            documents=[(k.value, upload("a.pdf", PDF)) for k in ApplicationDocument.REQUIRED],
            scope_text="x",
            headcount=5,
        )
    assert not Application.objects.exists() and stored_files() == []


def test_a_client_applies_only_for_their_own_organisation(own, stranger, organization):
    with pytest.raises(RuleViolation, match="本组织"):
        submitted(organization, stranger)
    with pytest.raises(RuleViolation, match="本组织"):
        services.application_create(
            organization=organization, actor=stranger, scope_text="x", headcount=3
        )
    assert not Application.objects.exists()


def test_staff_without_the_market_role_cannot_create_an_application(organization, planner):
    with pytest.raises(RuleViolation, match="无权执行此操作"):
        services.application_create(
            organization=organization, actor=planner, scope_text="x", headcount=3
        )


def test_an_inactive_client_user_cannot_apply(own, organization):
    own.is_active = False
    own.save()
    with pytest.raises(RuleViolation, match="无权执行此操作"):
        submitted(organization, own)


def test_staff_and_users_without_organisation_get_403_on_the_application_form(client, market):
    client.force_login(market)
    assert client.get(reverse("applications_portal:new")).status_code == 403
    client.force_login(ClientUserFactory(organization=None))
    assert client.get(reverse("applications_portal:new")).status_code == 403
    assert client.post(reverse("applications_portal:new"), application_data()).status_code == 403
    assert not Application.objects.exists()


def test_the_form_page_lists_every_kind_of_document(client, own):
    client.force_login(own)
    page = client.get(reverse("applications_portal:new")).content.decode()
    for kind in Kind:
        assert f'name="documents_{kind}"' in page
    assert 'enctype="multipart/form-data"' in page


# --- following the review -------------------------------------------------------------------


def test_the_list_shows_the_organisations_applications_with_their_progress(
    client, own, stranger, organization, market
):
    mine = submitted(organization, own)
    services.application_start_review(application=mine, actor=market)
    theirs = submitted(stranger.organization, stranger)
    client.force_login(own)
    response = client.get(reverse("applications_portal:list"))
    page = response.content.decode()
    assert mine.reference in page and theirs.reference not in page
    (row,) = response.context["rows"]
    assert [status for _key, _label, status in row["steps"]] == [
        "done",
        "current",
        "todo",
        "todo",
    ]
    assert reverse("applications_portal:new") in page


def test_the_progress_follows_the_review_to_the_signed_contract(own, organization, market):
    from applications.portal import review_progress

    application = submitted(organization, own)
    contract = accept(application, market)
    application.refresh_from_db()
    assert [s for _k, _l, s in review_progress(application)] == ["done"] * 3 + ["current"]
    services.contract_sign(
        contract=contract, actor=market, signed_on=timezone.localdate(), signed_by_client="王"
    )
    application = Application.objects.select_related("contract").get(pk=application.pk)
    assert [s for _k, _l, s in review_progress(application)] == ["done"] * 4


def test_a_rejected_application_shows_the_reasons(client, own, organization, market):
    application = submitted(organization, own)
    services.application_start_review(application=application, actor=market)
    services.application_reject(application=application, actor=market, reason="运行不足 3 个月")
    client.force_login(own)
    response = client.get(reverse("applications_portal:detail", args=[application.pk]))
    assert "运行不足 3 个月" in response.content.decode()
    assert [s for _k, _l, s in response.context["steps"]][2] == "refused"
    assert response.context["documents_form"] is None  # decided: no more documents


def test_the_portal_link_is_in_the_clients_navigation(client, own):
    client.force_login(own)
    page = client.get(reverse("applications_portal:list")).content.decode()
    assert f'href="{reverse("applications_portal:list")}"' in page


def test_staff_are_sent_to_the_workspace(client, market, own, organization):
    application = submitted(organization, own)
    client.force_login(market)
    assert client.get(reverse("applications_portal:list"))["Location"] == reverse(
        "workspace:list", args=["applications"]
    )
    assert client.get(reverse("applications_portal:detail", args=[application.pk]))[
        "Location"
    ] == reverse("workspace:object", args=["applications", application.pk])


def test_anonymous_visitors_are_sent_to_log_in(client, own, organization):
    application = submitted(organization, own)
    document = application.documents.first()
    for url in (
        reverse("applications_portal:list"),
        reverse("applications_portal:new"),
        reverse("applications_portal:detail", args=[application.pk]),
        reverse("applications_portal:sign", args=[application.pk]),
        reverse("applications_portal:document", args=[document.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login")


# --- documents ------------------------------------------------------------------------------


def test_documents_download_as_attachments_for_the_client_and_staff(
    client, own, organization, planner
):
    application = submitted(organization, own)
    document = application.documents.get(kind=Kind.LEGAL_STATUS)
    url = reverse("applications_portal:document", args=[document.pk])
    client.force_login(own)
    page = client.get(reverse("applications_portal:detail", args=[application.pk]))
    assert url in page.content.decode()
    for user in (own, planner):
        client.force_login(user)
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Type"] == "application/pdf"
        # The test client closes the response (and its file) once the content is read; an
        # extra close() would send request_finished and close the PostgreSQL connection.
        assert b"".join(response.streaming_content) == PDF
    assert client.post(url).status_code == 405


def test_client_adds_documents_while_the_application_is_reviewed(client, own, organization, market):
    application = submitted(organization, own)
    services.application_start_review(application=application, actor=market)
    client.force_login(own)
    url = reverse("applications_portal:documents", args=[application.pk])
    response = client.post(
        url, {"kind": "licences", "files": [upload("许可证.pdf", PDF), upload("b.jpg", JPEG)]}
    )
    assert response.status_code == 302
    added = application.documents.filter(original_name__in=["许可证.pdf", "b.jpg"])
    assert {(d.kind, d.uploaded_by) for d in added} == {(Kind.LICENCES, own)}
    assert added.count() == 2

    count = ApplicationDocument.objects.count()
    files = len(stored_files())
    response = client.post(
        url, {"kind": "licences", "files": [upload("ok.pdf", PDF), upload("伪装.pdf", PNG)]}
    )
    assert response.status_code == 422 and "扩展名不符" in response.content.decode()
    assert ApplicationDocument.objects.count() == count and len(stored_files()) == files


def test_no_documents_are_added_after_the_decision(client, own, organization, market):
    application = submitted(organization, own)
    accept(application, market)
    client.force_login(own)
    response = client.post(
        reverse("applications_portal:documents", args=[application.pk]),
        {"kind": "other", "files": upload("迟到.pdf", PDF)},
        follow=True,
    )
    assert response.redirect_chain[-1][0] == reverse(
        "applications_portal:detail", args=[application.pk]
    )
    assert "不能再补充文件" in response.content.decode()
    assert not application.documents.filter(kind=Kind.OTHER).exists()


# --- contract sign-off ----------------------------------------------------------------------


def test_client_signs_off_the_drafted_contract(client, own, organization, market):
    application = submitted(organization, own)
    contract = accept(application, market)
    client.force_login(own)
    detail = client.get(reverse("applications_portal:detail", args=[application.pk]))
    sign_url = reverse("applications_portal:sign", args=[application.pk])
    assert sign_url in detail.content.decode()
    assert client.get(sign_url).status_code == 200
    assert client.post(sign_url, {}).status_code == 422  # must tick the box
    response = client.post(sign_url, {"agree": "on"})
    assert response.status_code == 302
    contract.refresh_from_db()
    assert contract.state == Contract.State.SIGNED
    assert contract.signed_on == timezone.localdate() and contract.signed_by_client == "赵六"
    assert contract.history.first().history_user == own
    # signed: no button, and the page sends the client back
    detail = client.get(reverse("applications_portal:detail", args=[application.pk]))
    assert sign_url not in detail.content.decode()
    assert client.get(sign_url).status_code == 302


def test_no_sign_off_without_a_contract(client, own, organization):
    application = submitted(organization, own)
    client.force_login(own)
    assert client.get(reverse("applications_portal:sign", args=[application.pk])).status_code == (
        404
    )


def test_staff_cannot_sign_for_the_client_in_the_portal(client, own, organization, market):
    application = submitted(organization, own)
    contract = accept(application, market)
    client.force_login(market)
    response = client.post(
        reverse("applications_portal:sign", args=[application.pk]), {"agree": "on"}
    )
    assert response.status_code == 403
    contract.refresh_from_db()
    assert contract.state == Contract.State.DRAFT


def test_a_client_cannot_sign_another_organisations_contract_through_the_service(
    own, stranger, organization, market
):
    contract = accept(submitted(organization, own), market)
    with pytest.raises(RuleViolation, match="本组织"):
        services.contract_sign(
            contract=contract,
            actor=stranger,
            signed_on=timezone.localdate(),
            signed_by_client="别家",
        )


# --- another organisation: 404 everywhere ---------------------------------------------------


def test_another_organisations_records_are_404_on_every_portal_url(
    client, own, stranger, organization, market
):
    application = submitted(organization, own)
    accept(application, market)
    document = application.documents.first()
    client.force_login(stranger)
    for method, url, data in (
        ("get", reverse("applications_portal:detail", args=[application.pk]), None),
        ("get", reverse("applications_portal:sign", args=[application.pk]), None),
        ("post", reverse("applications_portal:sign", args=[application.pk]), {"agree": "on"}),
        (
            "post",
            reverse("applications_portal:documents", args=[application.pk]),
            {"kind": "other", "files": upload("x.pdf", PDF)},
        ),
        ("get", reverse("applications_portal:document", args=[document.pk]), None),
    ):
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
        assert response.status_code == 404, url
    assert (
        application.reference
        not in client.get(reverse("applications_portal:list")).content.decode()
    )
    assert Contract.objects.get().state == Contract.State.DRAFT
    assert not ApplicationDocument.objects.filter(kind=Kind.OTHER).exists()
