"""Seed the key-group tags (重点人群). Administrators may edit them; a re-run never overwrites an
existing tag (update_or_create only fills missing codes)."""

from django.db import migrations

# (code, name, roles that may see it ([] = every role that sees the resident), sensitive, description)
TAGS = [
    ("elderly_alone", "独居老人", [], False, "独自居住的 60 周岁以上老人"),
    ("empty_nest", "空巢老人", [], False, "子女不在身边的老人"),
    ("veteran", "退役军人", [], False, ""),
    ("disabled", "残疾人", ["grid_worker", "administrator", "leader"], True, "持残疾人证；健康信息"),
    ("subsistence", "低保", ["grid_worker", "administrator", "leader"], True, "最低生活保障对象；财产信息"),
    ("left_behind_child", "留守儿童", ["grid_worker", "administrator"], True, "未成年人信息"),
    ("watch", "重点关注", ["grid_worker", "administrator"], True, "需网格员重点走访的人员"),
    ("community_correction", "社区矫正", ["administrator"], True, "特定身份信息：仅管理员可见"),
    ("mental_disorder", "严重精神障碍患者", ["administrator"], True, "医疗健康信息：仅管理员可见"),
]


def seed(apps, schema_editor):
    KeyGroupTag = apps.get_model("registry", "KeyGroupTag")
    for sort, (code, name, roles, sensitive, description) in enumerate(TAGS, start=1):
        if not KeyGroupTag.objects.filter(code=code).exists():
            KeyGroupTag.objects.create(
                code=code, name=name, roles=roles, is_sensitive=sensitive, description=description, sort=sort * 10
            )


def unseed(apps, schema_editor):
    apps.get_model("registry", "KeyGroupTag").objects.filter(code__in=[t[0] for t in TAGS]).delete()


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
