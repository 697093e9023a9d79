"""Benchmark: server time of the statistics pages (``/outcomes/``) and the capacity forecast.

Target: each answers "in well under a second" with 100 000 referrals. Run from the repository
root after filling a PostgreSQL database with ``manage.py generate_history`` (commands in
docs/performance.md, "Statistics pages at 100 000 referrals"):

    .venv/bin/python bench/stats.py --add-follow-ups \\
        --db postgres://postgres@127.0.0.1:5432/telederm_bench_100k [--runs 20]

The generated history has answers but no follow-ups; ``--add-follow-ups`` registers one (once)
for every answer that calls for one, straight in SQL like the generator (85 % excised, 90 % of
those with a PAD result), so the outcome tables have rows to count. The pages are timed the
way ``bench/latency.py`` times its pages (its ``time_pages``: Django's test client in a child
process, the server's own time without network, five warm-up requests) and set against a
trivial view (``/healthz``) measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from latency import run_child, setup_django, time_pages

TARGET_MS = 1000


def add_follow_ups() -> int:
    """One follow-up per answered referral whose answer recommends excision, referral or SVF,
    unless it has one. Deterministic (by referral id); the database's check constraints hold."""
    from django.db import connection

    from telederm.outcomes.models import FollowUp
    from telederm.referrals.models import Referral
    from telederm.review.models import Answer

    sql = f"""
        INSERT INTO {FollowUp._meta.db_table} (
            public_id, referral_id, outcome, done_on, place, pad_diagnosis, pad_invasion,
            breslow_mm, pad_reference, version, registered_by_id, registered_at, changed_by_id,
            changed_at)
        SELECT gen_random_uuid(), r.id, f.outcome,
            CASE WHEN f.outcome = 'not_done' THEN NULL ELSE LEAST(current_date,
                (r.sent_at AT TIME ZONE 'Europe/Stockholm')::date + (5 + r.id % 60)::int) END,
            CASE WHEN f.outcome = 'not_done' THEN ''
                 ELSE (ARRAY['clinic', 'dermatology', 'other'])[1 + r.id % 3] END,
            f.pad, CASE WHEN f.pad IN ('melanoma_in_situ') THEN 'in_situ'
                        WHEN f.pad IN ('invasive_melanoma', 'bcc', 'scc') THEN 'invasive'
                        ELSE '' END,
            CASE WHEN f.pad = 'invasive_melanoma' THEN 0.2 + (r.id % 40) / 10.0 END,
            CASE WHEN f.pad <> '' THEN 'PAD-' || r.id ELSE '' END,
            1, r.author_id, r.answered_at + interval '40 days', r.author_id,
            r.answered_at + interval '40 days'
        FROM {Referral._meta.db_table} r
        JOIN {Answer._meta.db_table} a ON a.referral_id = r.id
        CROSS JOIN LATERAL (SELECT
            CASE WHEN r.id % 20 = 0 THEN 'not_done' WHEN r.id % 20 < 3 THEN 'seen'
                 ELSE 'excised' END AS outcome) o
        CROSS JOIN LATERAL (SELECT o.outcome,
            CASE WHEN o.outcome <> 'excised' OR r.id % 10 = 0 THEN ''
                 WHEN r.id % 7 = 0 THEN 'benign_naevus'
                 WHEN r.id % 11 = 0 THEN 'atypical_naevus'
                 ELSE a.diagnosis END AS pad) f
        WHERE r.status = 'answered' AND a.sent_at IS NOT NULL
          AND a.action IN ('excision', 'refer', 'svf')
          AND NOT EXISTS (SELECT 1 FROM {FollowUp._meta.db_table} x WHERE x.referral_id = r.id)
    """  # noqa: S608 (table names from the models, no input)
    with connection.cursor() as cursor:
        cursor.execute(sql)
        added = cursor.rowcount
        cursor.execute(f"ANALYZE {FollowUp._meta.db_table}")
    return added


def _child(runs: int, follow_ups: bool) -> dict[str, Any]:
    setup_django()
    from datetime import timedelta
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils import timezone

    from telederm.accounts.models import Membership, Organisation, OrganisationKind, Role
    from telederm.outcomes.models import FollowUp
    from telederm.referrals.models import Referral

    added = add_follow_ups() if follow_ups else 0
    admin = Membership.objects.filter(role=Role.REGION_ADMIN).order_by("pk").first()
    derm = Membership.objects.filter(role=Role.DERMATOLOGIST).order_by("pk").first()
    gp = Membership.objects.filter(role=Role.GP).order_by("pk").first()
    if admin is None or derm is None or gp is None:
        sys.exit("no bench personas: run manage.py generate_history first")
    clinic = gp.organisation
    unit = Organisation.objects.filter(kind=OrganisationKind.REVIEW_UNIT).order_by("pk").first()
    assert unit is not None
    stats = reverse("outcomes:stats")
    today = timezone.localdate()
    # The longest period the form allows (five years; the history spans five years).
    five_years = {"start": (today - timedelta(days=5 * 365)).isoformat()}
    pages = {
        "trivial view (/healthz)": (None, reverse("web:healthz")),
        "region, whole region": (admin.user, stats),
        "region, one clinic": (admin.user, f"{stats}?clinic={clinic.public_id}"),
        "region, one reviewer": (admin.user, f"{stats}?reviewer={derm.user.public_id}"),
        "region, five years": (admin.user, f"{stats}?{urlencode(five_years)}"),
        "clinic (its GP)": (gp.user, stats),
        "unit (its dermatologist)": (derm.user, stats),
        "CSV reviewer months": (
            admin.user,
            reverse("outcomes:export", args=["reviewer_months"]),
        ),
        "forecast page": (admin.user, reverse("outcomes:unit", args=[unit.public_id])),
    }
    return {
        "referrals": Referral.objects.count(),
        "follow_ups": FollowUp.objects.count(),
        "added": added,
        "pages": time_pages(pages, runs),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", help="DATABASE_URL of a generated history (PostgreSQL)")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--add-follow-ups", action="store_true")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args.runs, args.add_follow_ups)))
        return
    if not args.db:
        parser.error("give --db")
    extra = ["--add-follow-ups"] if args.add_follow_ups else []
    result = run_child(__file__, args.db, ["--runs", str(args.runs), *extra])
    pages = result["pages"]
    trivial = pages["trivial view (/healthz)"]["p50"]
    print(
        f"referrals: {result['referrals']:,}; follow-ups: {result['follow_ups']:,} "
        f"({result['added']:,} added now); runs {args.runs}"
    )
    print(f"{'page':26} {'p50':>9} {'p95':>9} {'vs trivial':>10} {'queries':>8}  target")
    for name, figures in pages.items():
        verdict = "ok" if figures["p95"] < TARGET_MS else "SLOW"
        print(
            f"{name:26} {figures['p50']:7.1f}ms {figures['p95']:7.1f}ms "
            f"{figures['p50'] / trivial:9.0f}× {figures['queries']:>8}  {verdict}"
        )
    print(f"trivial view p50: {trivial:.2f} ms; target: p95 under {TARGET_MS} ms")


if __name__ == "__main__":
    main()
