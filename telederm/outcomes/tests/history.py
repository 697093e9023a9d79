"""A history of 44 referrals with known answers (the expected figures are in test_queries).

Referral *i* (1…40) is sent at 08:00 on day ``base + (i - 1) // 2`` and answered 6·i hours
later, by Disa (unit X, odd *i*) or Dan (unit X, even *i*). Two more referrals are open and two
were sent before the period. The follow-ups (1…19) and PAD results are listed in ``CASES``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.utils import timezone

from telederm.accounts.models import Role, User
from telederm.accounts.tests.factories import member
from telederm.outcomes.tests import helpers
from telederm.referrals.models import Referral
from telederm.testing import World

EXC, REF, SVF, FU, NONE = "excision", "refer", "svf", "follow_up", "none"
MIS, INV, ATY, NAE, BCC, SEB, DF = (
    "melanoma_in_situ",
    "invasive_melanoma",
    "atypical_naevus",
    "benign_naevus",
    "bcc",
    "seborrhoeic_keratosis",
    "dermatofibroma",
)

# i: (teledermoscopy diagnosis, action, follow-up outcome, place, lead days, PAD, Breslow)
CASES: dict[int, tuple[str, str, str, str, int, str, float | None]] = {
    1: (MIS, EXC, "excised", "clinic", 10, MIS, None),
    2: (INV, EXC, "excised", "clinic", 12, MIS, None),
    3: (INV, EXC, "excised", "dermatology", 20, INV, 0.8),
    4: (ATY, EXC, "excised", "dermatology", 30, INV, 1.5),
    5: (BCC, EXC, "excised", "clinic", 14, BCC, None),
    6: (BCC, EXC, "excised", "clinic", 16, BCC, None),
    7: (ATY, EXC, "excised", "clinic", 5, ATY, None),
    8: (ATY, EXC, "excised", "clinic", 7, ATY, None),
    9: (ATY, EXC, "excised", "clinic", 9, ATY, None),
    10: (ATY, EXC, "excised", "clinic", 11, NAE, None),
    11: (ATY, EXC, "excised", "clinic", 13, NAE, None),
    12: (ATY, EXC, "excised", "other", 40, NAE, None),
    13: (MIS, REF, "excised", "dermatology", 25, NAE, None),
    14: (MIS, REF, "excised", "dermatology", 35, NAE, None),
    15: (MIS, REF, "excised", "dermatology", 45, NAE, None),
    16: (SEB, REF, "excised", "dermatology", 28, SEB, None),
    17: (INV, SVF, "excised", "dermatology", 8, "", None),  # PAD not back yet
    18: (MIS, SVF, "excised", "dermatology", 6, "", None),
    19: (MIS, SVF, "seen", "dermatology", 4, "", None),  # seen, not excised
    20: (INV, SVF, "", "", 0, "", None),  # nothing registered: awaiting follow-up
}
for _i in range(21, 31):
    CASES[_i] = (ATY, FU, "", "", 0, "", None)
for _i, _diagnosis in zip(range(31, 41), [NAE] * 6 + [SEB] * 2 + [DF] * 2, strict=True):
    CASES[_i] = (_diagnosis, NONE, "", "", 0, "", None)
# i: complement round (days after sending: question, reply)
COMPLEMENTS = {21: (1.0, 2.5), 22: (0.5, 1.0), 23: (1.0, 3.0)}
WARNINGS = {1, 2, 3, 4}


@dataclass
class History:
    base: date
    today: date
    referrals: dict[int, Referral]
    second_derm: User


def build(world: World) -> History:
    today = timezone.localdate()
    base = today - timedelta(days=70)
    dan = member(world.unit_x, Role.DERMATOLOGIST, first_name="Dan")
    referrals: dict[int, Referral] = {}
    for i in range(1, 41):
        sent = helpers.local(base + timedelta(days=(i - 1) // 2))
        referral = helpers.sent_referral(world, sent, warning=i in WARNINGS)
        diagnosis, action, outcome, place, lead, pad, breslow = CASES[i]
        helpers.answer(
            referral,
            world.derm_x if i % 2 else dan,
            diagnosis=diagnosis,
            action=action,
            answered_at=sent + timedelta(hours=6 * i),
            complement=COMPLEMENTS.get(i),
        )
        referral.refresh_from_db()
        if outcome:
            helpers.follow_up(
                referral,
                world.gp_a,
                outcome=outcome,
                done_on=sent.date() + timedelta(days=lead),
                place=place,
                pad_diagnosis=pad,
                breslow_mm=breslow,
            )
        referrals[i] = referral
    # Two still open, sent three days ago; two sent before the period (one with a warning).
    for n in (41, 42):
        referrals[n] = helpers.sent_referral(world, helpers.local(today - timedelta(days=3)))
    for n in (43, 44):
        sent = helpers.local(base - timedelta(days=5))
        referrals[n] = helpers.sent_referral(world, sent, warning=True)
        helpers.answer(
            referrals[n],
            world.derm_x,
            diagnosis=MIS,
            action=NONE,
            answered_at=sent + timedelta(hours=1),
        )
    return History(base=base, today=today, referrals=referrals, second_derm=dan)
