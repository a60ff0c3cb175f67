"""The CB's own identity, its people and the reference data no app owns."""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language, pgettext_lazy
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from certbody import cache

ACCREDITATION_CHOICES = [
    ("C", "CNAS"),
    ("A", "ANAB"),
    ("U", "UKAS"),
    ("Z", _("Not accredited")),
]
SCHEME_CHOICES = [("ZXRZ-2025", "ZXRZ 售后服务认证规则 (2025)"), ("CAS", "CAS 服务认证规则")]


class User(AbstractUser):
    """A staff member (is_staff, with role groups) or a client user of one organisation."""

    display_name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=30, blank=True)
    # Empty: follow the browser (Accept-Language). Set from the footer's language switch, so
    # the choice follows the person to every browser and survives the end of a session.
    language = models.CharField(
        _("language"), max_length=10, blank=True, choices=settings.LANGUAGES, default=""
    )
    organization = models.ForeignKey(
        "applications.Organization",
        verbose_name=_("organisation"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="users",
        help_text=_("Set for client users only; a client user belongs to one organisation."),
    )
    # Who had which role when: a change of the account or of its groups is
    # a history row with the actor. The password hash and the log-in time are not history.
    history = HistoricalRecords(excluded_fields=["password", "last_login"], m2m_fields=["groups"])

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.get_full_name() or self.username

    def save(self, *args, **kwargs):
        # A log-in only stamps last_login (django.contrib.auth's update_last_login): no history
        # row for it, or a user's history would drown in log-ins.
        if set(kwargs.get("update_fields") or ()) == {"last_login"}:
            self.skip_history_when_saving = True
            try:
                return super().save(*args, **kwargs)
            finally:
                del self.skip_history_when_saving
        return super().save(*args, **kwargs)

    @property
    def is_client(self) -> bool:
        return self.organization_id is not None and not self.is_staff


class CertificationBody(models.Model):
    """The CB running this deployment (one row). Identity is data, not code (domain.md §0)."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    website = models.CharField(_("website"), max_length=200, blank=True)
    cnca_approval_number = models.CharField(
        _("CNCA approval number"), max_length=40, help_text="e.g. CNCA-R-2018-123"
    )
    number_prefix = models.CharField(
        _("certificate number prefix"),
        max_length=4,
        validators=[RegexValidator(r"^(\d{3,4}|\d{2}F)$", _("3–4 digits, or 2 digits + F"))],
        help_text=_("Last 3–4 digits of the CNCA approval number (004 Appendix C)."),
    )
    accreditation = models.CharField(
        _("accreditation"), max_length=1, choices=ACCREDITATION_CHOICES, default="C"
    )
    accreditation_number = models.CharField(_("accreditation number"), max_length=40, blank=True)
    scheme = models.CharField(
        _("rule scheme"), max_length=20, choices=SCHEME_CHOICES, default="ZXRZ-2025"
    )
    standard = models.CharField(
        _("certification standard"),
        max_length=100,
        default="GB/T 27922-2011《商品售后服务评价体系》",
    )
    auto_suspend_overdue_surveillance = models.BooleanField(
        _("suspend automatically when surveillance is overdue"), default=False
    )
    # The tariff quotations follow (004 §5.1.1: the CB publishes its fees): the audit and
    # surveillance fees are the proposed auditor-days at the day rate (applications.quotations).
    day_rate = models.DecimalField(
        _("fee per auditor-day (CNY)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("3000"),
        validators=[MinValueValidator(Decimal(0))],
    )
    tariff_application_fee = models.DecimalField(
        _("application fee (CNY)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("1000"),
        validators=[MinValueValidator(Decimal(0))],
    )
    tariff_certificate_fee = models.DecimalField(
        _("certificate fee (CNY)"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("500"),
        validators=[MinValueValidator(Decimal(0))],
    )
    # Certificates and regulator reports carry the prefix and accreditation of their day: keep
    # every earlier value with who changed it.
    history = HistoricalRecords()

    CACHE_KEY = "certbody:certification-body"
    CACHE_SECONDS = 300

    class Meta:
        verbose_name = _("certification body")
        verbose_name_plural = _("certification body")

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # With the cache down the old profile may be served until it expires (CACHE_SECONDS).
        cache.delete(self.CACHE_KEY, what="the CB profile")

    @property
    def display_name(self) -> str:
        """The name for the reader's language: the English name in English when one is set."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    @classmethod
    def get(cls) -> "CertificationBody":
        """The CB's profile; raises CertificationBody.DoesNotExist when not configured.

        Read on every page (context processor): cached, but read from the database when the
        cache is unavailable (certbody.cache), so a stopped Redis never fails a page.
        """
        body = cache.read(cls.CACHE_KEY, what="the CB profile")
        if body is None:
            body = cls.objects.order_by("pk").first()
            if body is None:
                raise cls.DoesNotExist("The certification body's profile is not configured.")
            cache.write(cls.CACHE_KEY, body, cls.CACHE_SECONDS, what="the CB profile")
        return body


class BusinessScope(models.Model):
    """A business scope category of 004 Appendix B (loaded from certbody/data)."""

    code = models.PositiveSmallIntegerField(_("code"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    risk = models.CharField(_("risk"), max_length=20, default="low")

    class Meta:
        ordering = ["code"]
        verbose_name = _("business scope category")
        verbose_name_plural = _("business scope categories")

    def __str__(self):
        return f"{self.code:02d} {self.name}"


class CncaCode(models.Model):
    """One entry of a CNCA reporting platform code table (certbody/data/cnca_codes.json)."""

    table = models.CharField(_("table"), max_length=40)
    code = models.CharField(_("code"), max_length=10)
    label = models.CharField(_("label"), max_length=200)

    class Meta:
        ordering = ["table", "code"]
        constraints = [models.UniqueConstraint(fields=["table", "code"], name="uniq_cnca_code")]
        verbose_name = _("CNCA code")
        verbose_name_plural = _("CNCA codes")

    def __str__(self):
        return f"{self.table} {self.code} {self.label}"


class CalendarDay(models.Model):
    """A day whose working status differs from the Monday–Friday rule (domain.md §19).

    Only exceptions are stored: statutory holidays falling on any day and make-up working days
    (调休上班) falling on a weekend. Every other day is a working day from Monday to Friday and a
    rest day at the weekend. ``is_working_day`` is what the working-day functions read; ``kind``
    must agree with it (a constraint). Rows loaded from the chinesecalendar package have
    ``source="chinesecalendar"`` and are refreshed by ``manage.py load_calendar``; rows edited in
    the admin become ``source="staff"`` and a refresh never overwrites them (to cancel a package
    holiday, turn it into a working day rather than deleting it: a refresh would bring it back).
    """

    HOLIDAY = "holiday"
    MAKEUP_WORKDAY = "makeup_workday"
    KIND_CHOICES = [
        (HOLIDAY, _("holiday (no work)")),
        (MAKEUP_WORKDAY, _("make-up working day")),
    ]
    SOURCE_PACKAGE = "chinesecalendar"
    SOURCE_STAFF = "staff"
    SOURCE_CHOICES = [(SOURCE_PACKAGE, "chinesecalendar"), (SOURCE_STAFF, _("staff"))]

    date = models.DateField(_("date"), primary_key=True)
    is_working_day = models.BooleanField(_("working day"))
    kind = models.CharField(_("kind"), max_length=20, choices=KIND_CHOICES)
    name = models.CharField(_("name"), max_length=100, blank=True, help_text="e.g. 国庆节")
    source = models.CharField(
        _("source"), max_length=20, choices=SOURCE_CHOICES, default=SOURCE_STAFF
    )

    class Meta:
        ordering = ["date"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(kind="holiday", is_working_day=False)
                | models.Q(kind="makeup_workday", is_working_day=True),
                name="calendar_day_kind_matches_working_day",
                violation_error_message=_(
                    "A holiday is not a working day; a make-up working day is a working day."
                ),
            )
        ]
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")

    def __str__(self):
        return f"{self.date.isoformat()} {self.name or self.get_kind_display()}"


class CalendarYear(models.Model):
    """A year whose holiday arrangement has been published and entered in ``CalendarDay``.

    Working days in a year without a row fall back to Monday–Friday and are provisional.
    """

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(
        _("source"),
        max_length=20,
        choices=CalendarDay.SOURCE_CHOICES,
        default=CalendarDay.SOURCE_STAFF,
    )
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("published calendar year")
        verbose_name_plural = _("published calendar years")

    def __str__(self):
        return str(self.year)


class Notification(models.Model):
    """One message in a staff member's in-app list (also e-mailed), e.g. from a periodic job.

    Written by ``certbody.notifications.notify_staff``; ``kind`` names what sent it (the job's
    name), ``link`` is a site-relative URL to the object concerned. Read when ``read_at`` is set.
    """

    recipient = models.ForeignKey(
        User,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
    )
    kind = models.CharField(_("kind"), max_length=40, db_index=True)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("message"))
    link = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notification_unread")]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")

    def __str__(self):
        return self.subject


class OutgoingEmail(models.Model):
    """One e-mail to one address, kept until it is sent (the outbox).

    Written by ``certbody.notifications`` in the same transaction as what caused it (a job's
    step, a service), so a rolled-back cause sends nothing and a committed one is never lost to
    a mail outage: it is tried right after commit, then again by the periodic job ``outbox``
    at ``next_attempt_at`` (growing waits) until sent, or until ``attempts`` reaches the limit,
    when it stays ``failed`` for staff to see (and retry) on the outbox desk.
    ``next_attempt_at`` is set only while pending: the job asks "what is due now?" of it.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        FAILED = "failed", pgettext_lazy("e-mail", "failed")

    to = models.EmailField(pgettext_lazy("e-mail", "to"), max_length=254)
    subject = models.CharField(pgettext_lazy("e-mail", "subject"), max_length=200)
    body = models.TextField(_("message"))
    kind = models.CharField(_("kind"), max_length=40, blank=True)
    link = models.CharField(_("link"), max_length=300, blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(
        _("next attempt at"), null=True, blank=True, db_index=True, default=timezone.now
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("outgoing e-mail")
        verbose_name_plural = _("outgoing e-mails")

    def __str__(self):
        return f"{self.to}: {self.subject}"


class JobMark(models.Model):
    """That the periodic job ``job`` acted on object ``object_id`` at ``threshold``.

    A step inserts its mark before acting, inside the step's transaction: a second run (or a
    concurrent worker) finds the mark, or fails on the unique constraint, and does nothing.
    ``failed`` with ``note`` records a refusal (e.g. a service's RuleViolation), which is not
    retried: the staff notified decide.
    """

    job = models.CharField(_("job"), max_length=40)
    object_id = models.PositiveBigIntegerField(_("object id"))
    threshold = models.CharField(_("threshold"), max_length=40)
    acted_on = models.DateField(_("acted on"))
    failed = models.BooleanField(_("failed"), default=False)
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        # The table kept its name when the model moved here from reporting (its rows are the
        # record of what every job did): certbody 0009 / reporting 0003.
        db_table = "reporting_jobmark"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "object_id", "threshold"], name="uniq_job_mark")
        ]
        verbose_name = _("job record")
        verbose_name_plural = _("job records")

    def __str__(self):
        return f"{self.job} #{self.object_id} {self.threshold}"


class SavedFilter(models.Model):
    """A list's filters a staff member saved under a name (issue #14): the query string of a
    workspace list (``desk`` is the desk's key), applied by opening the list with it. Only its
    owner sees it (``certbody.workspace.saved``)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="saved_filters", verbose_name=_("user")
    )
    desk = models.CharField(_("list"), max_length=40)
    name = models.CharField(_("name"), max_length=80)
    query = models.CharField(_("filters"), max_length=1000, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["user", "desk", "name"], name="uniq_saved_filter")
        ]
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")

    def __str__(self):
        return self.name


class ApiToken(models.Model):
    """A per-client token for the staff read API (issue #17): the CB's website, ERP, invoicing.

    Created by a superuser in the admin; the secret is shown once and only its SHA-256 is kept.
    ``scopes`` name rows of the permission matrix (``certbody.policy.API_SCOPES``); a token acts
    as a principal holding exactly those rows (``certbody.api.TokenPrincipal``).
    """

    name = models.CharField(_("client"), max_length=100, unique=True)
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    key_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        editable=False,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return self.name
