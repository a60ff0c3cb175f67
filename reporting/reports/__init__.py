"""Report builders: from the database to rows with the platforms' Chinese column names.

Each builder takes its period (local dates) and returns a ``certbody.spreadsheets.Report``;
it runs a constant number of queries whatever the number of rows (select_related /
prefetch_related / annotate; tested at two sizes). Codes are those of
``certbody/data/cnca_codes.json``.

- ``organisations_monthly(start, end)`` — 获证组织基本信息月报 (002 §4.3.3; 004 §9.3): one row
  per certificate event (issue, reissue, suspension, restoration, withdrawal, cancellation,
  expiry, replacement) and per certificate maintained by a surveillance or special audit decided
  in the period. An empty sheet when nothing happened (002 §4.3.3.2 注).
- ``register()`` — every certificate event ever, in the monthly columns: the certificate register
  that ``certificates.importer`` reads back.
- ``status_change(event)`` — the 2-working-day report of one suspension, restoration, withdrawal
  or cancellation (002 §4.3.8.3; 004 §9.4): the head certificate's row and its sub-certificates'.
- ``failures_monthly(start, end)`` — 初评/再认证审核未通过的组织基本信息月报 (002 §4.3.4):
  initial and recertification audits refused in the period, with the reasons.
- ``cb_changes_monthly(start, end)`` — 认证机构信息（变更）月报 (002 §4.3.2): the CB's changes
  entered by staff, plus appeals and complaints received or decided and major accidents at
  certified clients learned of in the period (items 10 and 9); sent even when empty.
- ``platform_upload(start, end)`` — 认证信息上报（平台结构）(issue #17): the month's certificate
  events in the platform's upload structure, three sheets (certificates, audit teams, audit
  plans; ``reporting.reports.platform``).
- ``statistics_annual(year)`` — 获证组织信息分类统计年报 (002 §4.3.5): head certificates
  (sub-certificates excluded) by status, valid ones by business scope category (a certificate in
  two categories counts in each), by province and by standard. The province totals must equal
  the number of valid certificates: ``ReportCheckError`` otherwise.
- ``auditors_annual(year)`` — 审核人员基本信息年报 (002 §4.3.6): every auditor and technical
  expert with qualification, competence codes and audit-days in the year.
"""

from __future__ import annotations

from collections.abc import Callable

from certbody.masking import mask_all, mask_id_number, mask_phone
from reporting.reports.annual import (
    AUDITOR_COLUMNS,
    auditors_annual,
    member_days,
    statistics_annual,
    status_on_queryset,
)
from reporting.reports.platform import platform_upload
from reporting.reports.register import (
    CB_CHANGE_COLUMNS,
    FAILURE_COLUMNS,
    KEYS,
    REGISTER_HEADERS,
    STATUS_EVENTS,
    ReportCheckError,
    _each,
    cb_changes_monthly,
    failures_monthly,
    organisations_monthly,
    register,
    status_change,
)

__all__ = [
    "AUDITOR_COLUMNS",
    "CB_CHANGE_COLUMNS",
    "FAILURE_COLUMNS",
    "KEYS",
    "PERSONAL_COLUMNS",
    "REGISTER_PERSONAL_FIELDS",
    "REGISTER_HEADERS",
    "STATUS_EVENTS",
    "ReportCheckError",
    "auditors_annual",
    "cb_changes_monthly",
    "failures_monthly",
    "member_days",
    "organisations_monthly",
    "platform_upload",
    "register",
    "statistics_annual",
    "status_change",
    "status_on_queryset",
]

# --- personal data in the reports ----------------------------------------------------------------

# Each report's columns that hold personal data (header → masking, certbody.masking): only users
# with ``certbody.view_personal_data`` download them in full; everyone else gets the same file
# with these columns masked (reporting.privacy). A report missing here holds no personal data.
# The client's contact phone and the team's ID numbers (002 §4.3.3.1); the auditors' ID numbers,
# birth months and regions of residence (002 §4.3.6.1).
REGISTER_PERSONAL_COLUMNS = {"联系电话": mask_phone, "身份证件号码": _each(mask_id_number)}
# The same by field name, for reports written through a layout that renames the headers
# (reporting.layouts; reporting.privacy.personal_columns).
REGISTER_PERSONAL_FIELDS = {"phone": mask_phone, "team_ids": _each(mask_id_number)}
PERSONAL_COLUMNS: dict[str, dict[str, Callable[[str | None], str]]] = {
    "organisations_monthly": REGISTER_PERSONAL_COLUMNS,
    "status_change": REGISTER_PERSONAL_COLUMNS,
    # the client's phone when a loaded template asks for it on the certificate sheet
    "platform_upload": {"联系电话": mask_phone},
    "failures_monthly": {"联系电话": mask_phone},
    "auditors_annual": {"出生年月": mask_all, "身份证件号码": mask_id_number, "居住地区": mask_all},
}
