"""Demo data for ``manage.py seed_demo``: a small, realistic CB with every lifecycle state.

Two halves:

- ``plan_demo()`` is pure (no database): from ``random.Random(DEMO_SEED)`` it plans ~30 client
  organisations (names, USCCs built with ``build_uscc`` from real administrative division codes,
  addresses, people, headcounts, business scopes, sites) and the story each one goes through.
  Same seed, same plan: tests compare two plans instead of seeding twice.
- ``build_demo()`` creates the CB profile, the staff and client users and the organisations, then
  plays every story through the real services (applications → audits → certificates), never
  touching a state field. The stories are generators that yield the date of their next step; a
  small scheduler runs all steps in date order, so certificate sequences follow issue dates.

Scored audits: every stage 2, surveillance and recertification audit that completes
gets a score sheet filled through ``audits.score_sheets`` and signed off by its team leader,
landing in a planned grade (``SCORE_PROFILES``; the certificate is granted at the sheet's
grade). One stage 2 fails its evaluation and is refused. Surveillances are maintained by the
team leader's conclusion or a decision maker. Nonconformities are raised, answered and
reviewed through ``audits.nonconformities`` so that one is in each state (``NC_STORIES``),
and the audit reports of decided audits with NCs are signed and delivered to the clients.
The stage 2 in progress (team leader ``auditor1``, client ``client09``) has an open NC and no
score sheet: the browser test of a scored audit takes it to a grant.

Every date passed to a service is a fixed past date no later than ``DEMO_LAST_DATE``
(2026-11-15), because the services refuse future decision and signature dates.

Log-ins: every demo user's password is ``demo-<username>-2026`` (``demo_password``).
"""
