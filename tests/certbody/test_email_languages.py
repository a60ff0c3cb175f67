"""Every e-mail is a whole letter in both languages (``templates/emails/<name>.txt`` in Chinese,
``templates/emails/en/<name>.txt`` in English), and each person reads their own: a staff
member's notification and mail, a client's mail and a password reset follow the user's stored
language; an address that belongs to nobody gets the site default (Chinese)."""

import re
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from django.template import engines
from django.utils import translation

from certbody import roles
from certbody.models import CertificationBody, Notification, OutgoingEmail
from certbody.notifications import notify_addresses, notify_staff, render_message
from tests.applications.factories import ClientUserFactory
from tests.conftest import make_staff

EMAILS = Path(settings.BASE_DIR) / "templates" / "emails"
CHINESE = sorted(path.name for path in EMAILS.glob("*.txt"))
ENGLISH = sorted(path.name for path in (EMAILS / "en").glob("*.txt"))
LETTERS = [name.removesuffix(".txt") for name in CHINESE if not name.startswith("_")]
# Han ideographs, CJK punctuation (【】、。), full-width forms (，：（）).
CJK = re.compile(r"[\u2e80-\u2fff\u3000-\u303f\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")
VALUE = "VALUE"
DATE_PARTS = {"year": 2027, "month": 6, "day": 30, "hour": 9, "minute": 5, "second": 0}


class Anything:
    """A permissive context value: any attribute or call is another one, it iterates over one
    of itself, passes for 30 June 2027 09:05 under ``|date``, and is truthy (or falsy) and
    equal to anything (or nothing) as asked, so one render takes every ``if`` branch and
    another every ``else``."""

    def __init__(self, truthy: bool):
        self.truthy = truthy

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return DATE_PARTS.get(name, self)  # the |date filter reads these

    def __call__(self, *args, **kwargs):
        return self

    def __iter__(self):
        return iter([self])

    def __bool__(self):
        return self.truthy

    def __eq__(self, other):
        return self.truthy

    def __hash__(self):
        return 0

    def __str__(self):
        return VALUE


def variables_of(name: str) -> dict[str, set[str]]:
    """The ``{{ variables }}`` (without filters) and ``{% if %}``/``{% for %}`` expressions of a
    letter, with the English-only spellings mapped to the Chinese ones."""
    text = (EMAILS / name).read_text(encoding="utf-8")
    text = text.replace("cb.display_name", "cb.name").replace("emails/en/", "emails/")
    shown = {m.split("|")[0].strip() for m in re.findall(r"{{(.*?)}}", text)}
    tags = {" ".join(m.split()) for m in re.findall(r"{%\s*((?:if|elif|for|include) .*?)%}", text)}
    return {"variables": shown, "tags": tags}


def test_every_letter_has_an_english_twin_and_every_twin_a_chinese_letter():
    assert CHINESE and "_signature.txt" in CHINESE
    assert ENGLISH == CHINESE


@pytest.mark.parametrize("name", CHINESE)
def test_the_twins_use_the_same_variables_and_conditions(name):
    assert variables_of(f"en/{name}") == variables_of(name)


@pytest.mark.parametrize("truthy", [True, False], ids=["if", "else"])
@pytest.mark.parametrize("template", LETTERS)
def test_every_english_letter_renders_with_no_chinese_outside_the_values(template, truthy):
    context = {
        variable.split(".")[0]: Anything(truthy)
        for variable in variables_of(f"{template}.txt")["variables"]
        if variable.split(".")[0] not in {"cb", "site_url"}
    }
    cb = Anything(truthy)

    subject, body = render_message(template, context, "en", cb=cb)
    chinese_subject, chinese_body = render_message(template, context, "zh-hans", cb=cb)

    assert subject and body.strip()
    text = subject + "\n" + body
    assert not CJK.findall(text), text
    assert CJK.search(chinese_subject + chinese_body)  # the Chinese letter stays the default
    assert (VALUE in subject) == (VALUE in chinese_subject)  # the subject carries the same facts


def test_the_english_letters_parse_as_django_templates():
    engine = engines["django"]
    for name in ENGLISH:
        engine.get_template(f"emails/en/{name}")  # a syntax error raises


def test_the_default_language_renders_the_chinese_letter(cb):
    subject, body = render_message("calendar_missing", {"year": 2027, "loaded": False})

    assert subject == "【工作日日历】2027 年法定节假日安排尚未录入"
    assert cb.name in body


def test_english_letters_are_signed_with_the_english_name_and_dated_in_words(cb):
    cb.name_en = "Zhongxin Certification Co., Ltd."
    cb.save()
    before = translation.get_language()
    context = {"certificate": _Certificate(), "deadline": date(2027, 3, 31)}
    context["deadline_reached"] = False

    subject, body = render_message("recertification_reminder_client", context, "en")
    chinese_subject, chinese_body = render_message(
        "recertification_reminder_client", context, "zh-hans"
    )

    assert subject == "Recertification reminder: your certificate expires on 30 June 2027"
    assert "no later than 31 March 2027 (3 months before the certificate expires)" in body
    assert "Zhongxin Certification Co., Ltd." in body and "中信认证有限公司" not in body
    assert chinese_subject.endswith("2027-06-30 到期") and "中信认证有限公司" in chinese_body
    assert translation.get_language() == before  # nothing leaks out


@pytest.fixture
def staff_pair(cb):
    english = make_staff("tm-english", roles.TECHNICAL_MANAGER)
    chinese = make_staff("tm-chinese", roles.TECHNICAL_MANAGER)
    default = make_staff("tm-default", roles.TECHNICAL_MANAGER)
    for user, language in ((english, "en"), (chinese, "zh-hans"), (default, "")):
        user.email = f"{user.username}@cb.example.cn"
        user.language = language
        user.save(update_fields=["email", "language"])
    return english, chinese, default


def test_staff_notified_together_each_read_their_own_language(
    staff_pair, django_capture_on_commit_callbacks
):
    english, chinese, default = staff_pair

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        rows = notify_staff(
            roles=[roles.TECHNICAL_MANAGER],
            template="calendar_missing",
            context={"year": 2027, "loaded": False},
            kind="calendar_check",
            link="/workspace/",
        )

    assert len(rows) == 3
    english_subject = "Working-day calendar: public holidays for 2027 not entered yet"
    chinese_subject = "【工作日日历】2027 年法定节假日安排尚未录入"
    subjects = {n.recipient.username: n.subject for n in Notification.objects.all()}
    assert subjects == {
        "tm-english": english_subject,
        "tm-chinese": chinese_subject,
        "tm-default": chinese_subject,  # no stored choice: the site default
    }
    bodies = {n.recipient.username: n.body for n in Notification.objects.all()}
    assert "manage.py load_calendar --year 2027" in bodies["tm-english"]
    assert cb_name_only(bodies["tm-english"])
    assert "法定节假日" in bodies["tm-chinese"]
    outbox = {row.to: row.subject for row in OutgoingEmail.objects.all()}
    assert outbox == {
        english.email: english_subject,
        chinese.email: chinese_subject,
        default.email: chinese_subject,
    }
    sent = {message.to[0]: message for message in mail.outbox}
    assert sent[english.email].subject == english_subject
    assert sent[english.email].body.endswith("/workspace/\n")
    assert sent[chinese.email].subject == chinese_subject


def cb_name_only(text: str) -> bool:
    """The English letters carry Chinese only inside values: here the CB's name and address."""
    cb = CertificationBody.get()
    return not CJK.search(text.replace(cb.name, "").replace(cb.address, ""))


def test_an_address_of_an_english_client_gets_english_and_an_unknown_address_chinese(
    cb, django_capture_on_commit_callbacks
):
    ClientUserFactory(email="Service@Client.example.cn", language="en")
    ClientUserFactory(email="old@client.example.cn", language="en", is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        count = notify_addresses(
            ["service@client.example.cn", "nobody@client.example.cn", "old@client.example.cn"],
            template="calendar_missing",
            context={"year": 2027, "loaded": True},
        )

    assert count == 3
    subjects = {message.to[0]: message.subject for message in mail.outbox}
    assert subjects == {
        "service@client.example.cn": "Working-day calendar: public holidays for 2027 loaded",
        "nobody@client.example.cn": "【工作日日历】2027 年法定节假日安排已载入",
        "old@client.example.cn": "【工作日日历】2027 年法定节假日安排已载入",  # inactive: nobody's
    }
    assert OutgoingEmail.objects.count() == 3


def test_addresses_are_matched_to_users_in_one_query(
    cb, django_assert_num_queries, django_capture_on_commit_callbacks
):
    ClientUserFactory(email="a@client.example.cn", language="en")
    ClientUserFactory(email="b@client.example.cn", language="zh-hans")
    CertificationBody.get()  # the profile is cached for every page; not this test's concern

    # One query for the users, one insert for the rows of every language.
    with django_capture_on_commit_callbacks(execute=False), django_assert_num_queries(2):
        notify_addresses(
            ["a@client.example.cn", "b@client.example.cn", "c@client.example.cn"],
            template="calendar_missing",
            context={"year": 2027, "loaded": True},
        )


def test_a_shared_address_whose_users_disagree_gets_the_default(
    cb, django_capture_on_commit_callbacks
):
    ClientUserFactory(email="shared@client.example.cn", language="en")
    ClientUserFactory(email="shared@client.example.cn", language="zh-hans")

    with django_capture_on_commit_callbacks(execute=True):
        notify_addresses(
            ["shared@client.example.cn"],
            template="calendar_missing",
            context={"year": 2027, "loaded": True},
        )

    assert mail.outbox[0].subject == "【工作日日历】2027 年法定节假日安排已载入"


@pytest.mark.parametrize(
    ("stored", "asked_in", "english"),
    [
        ("en", "", True),
        ("en", "zh-hans", True),  # the stored choice wins over the page
        ("", "en", True),  # never chose: the language the reset was asked in
        ("", "", False),
        ("zh-hans", "en", False),
    ],
)
def test_the_password_reset_mail_is_in_the_users_language(
    db, client, settings, django_capture_on_commit_callbacks, stored, asked_in, english
):
    settings.SITE_URL = "http://testserver"
    CertificationBody.objects.update_or_create(
        pk=1,
        defaults={
            "name": "中信认证有限公司",
            "name_en": "Zhongxin Certification",
            "address": "北京市朝阳区建国路 88 号",
            "cnca_approval_number": "CNCA-R-2018-123",
            "number_prefix": "0123",
        },
    )
    user = ClientUserFactory(email="reset@client.example.cn", language=stored)
    headers = {"HTTP_ACCEPT_LANGUAGE": asked_in} if asked_in else {}

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/password_reset/", {"email": user.email}, **headers)

    (message,) = mail.outbox
    if english:
        assert message.subject == "Password reset: Zhongxin Certification"
        assert f"(user name: {user.username})" in message.body
        assert "http://testserver/accounts/password_reset/" in message.body
        assert not CJK.search(message.body.replace("北京市朝阳区建国路 88 号", ""))
    else:
        assert message.subject == "【密码重置】中信认证有限公司"


class _Certificate:
    number = "0123SV2024000001"
    organization_name = "苏州市金桥电器有限公司"

    expires_on = date(2027, 6, 30)


def test_english_letters_about_real_records_read_english_labels(cb):
    from audits.selectors import next_step
    from certificates import causes
    from tests.applications.factories import OrganizationFactory
    from tests.audits.nc_factories import raise_nc, stage2_in_progress
    from tests.certificates.factories import Staff, issued_certificate

    staff = Staff()
    certificate = issued_certificate(OrganizationFactory(name="苏州市金桥电器有限公司"), staff)
    stage2 = stage2_in_progress(OrganizationFactory(name="上海国美商贸有限公司"), staff)
    nc = raise_nc(stage2, staff)
    organization = stage2.programme.organization
    cause = causes.withdrawal_cause(causes.SUSPENSION_ENDED_UNRESOLVED)
    nc_context = {
        "nc": nc,
        "audit": nc.audit,
        "organization": organization,
        "days_left": 12,
        "next_step": next_step(nc),
        "overdue": False,
        "awaiting_client": True,
        "portal_path": "/portal/",
    }
    letters = {
        "nonconformity_due": nc_context,
        "nonconformity_due_client": nc_context,
        "certificate_expired_client": {"certificate": certificate},
        "suspension_ended": {"certificate": certificate, "cause": cause},
        "surveillance_overdue_suspended_client": {
            "certificate": certificate,
            "audit": stage2,
            "today": date(2026, 1, 5),
            "ends_on": date(2026, 7, 4),
        },
    }
    # Chinese only inside the records' own values (names, the rule's cause, the portal's
    # plain-words next step, the CB's address).
    values = [
        str(organization),
        organization.name,
        certificate.organization_name,
        str(cause.label),
        str(nc_context["next_step"]),
        cb.address,
        cb.name,
    ]
    for template, context in letters.items():
        subject, body = render_message(template, context, "en")
        text = subject + "\n" + body
        for value in sorted(values, key=len, reverse=True):
            text = text.replace(value, "")
        assert not CJK.search(text), (template, text)

    subject, body = render_message("nonconformity_due", nc_context, "en")
    with translation.override("en"):
        severity = nc.get_severity_display()
    assert f"The {severity.lower()} nonconformity NC-{nc.number:02d}" in body
    assert subject.startswith(f"Nonconformity reminder: {organization.name} NC-")
    _subject, body = render_message(
        "surveillance_overdue_suspended_client",
        letters["surveillance_overdue_suspended_client"],
        "en",
    )
    assert "from 5 January 2026 until 4 July 2026" in body
