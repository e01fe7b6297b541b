"""The quorum and pass rule of each meeting kind (editable afterwards in the admin).

村民委员会组织法 art. 22: 村民会议 needs more than half of the villagers aged 18+ (or representatives
of at least two thirds of the households) and decides by more than half of those present; art. 25:
村民代表会议 needs at least two thirds of the representatives and decides by more than half of those
present. 党员大会 (party rules): more than half of the members with a vote present, and more than
half of those expected to attend in favour. 两委联席会议: more than half of the members present,
more than half of those present in favour (民主集中制).
"""

from typing import Any

from django.db import migrations

RULES = [
    ("committees", "official", 1, 2, False, 1, 2, False, "present", "民主集中制：两委成员过半数到会，到会过半数同意"),
    ("party_members", "party_member", 1, 2, False, 1, 2, False, "eligible", "中国共产党章程：应到会有表决权的党员过半数到会、过半数赞成"),
    ("representatives", "representative", 2, 3, True, 1, 2, False, "present", "村民委员会组织法第二十五、二十六条：三分之二以上组成人员参加，到会人员过半数同意"),
    ("villagers", "any", 1, 2, False, 1, 2, False, "present", "村民委员会组织法第二十二条：过半数村民参加，到会人员过半数同意"),
]  # fmt: skip


def seed(apps: Any, schema_editor: Any) -> None:
    MeetingRule = apps.get_model("deliberation", "MeetingRule")
    for kind, flag, qn, qd, qi, pn, pd, pi, base, basis in RULES:
        MeetingRule.objects.update_or_create(
            kind=kind,
            defaults={
                "voter_flag": flag,
                "quorum_num": qn,
                "quorum_den": qd,
                "quorum_inclusive": qi,
                "pass_num": pn,
                "pass_den": pd,
                "pass_inclusive": pi,
                "pass_base": base,
                "legal_basis": basis,
            },
        )


def unseed(apps: Any, schema_editor: Any) -> None:
    apps.get_model("deliberation", "MeetingRule").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("deliberation", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
