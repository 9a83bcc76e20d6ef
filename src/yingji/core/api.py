from ninja import Router, Schema

from yingji.core.models import Department

router = Router(tags=["core"])


class DepartmentOut(Schema):
    id: int
    name: str
    kind: str
    aliases: list[str]


@router.get("/departments", response=list[DepartmentOut])
def list_departments(request):
    return [
        DepartmentOut(id=d.id, name=d.name, kind=d.kind, aliases=[a.alias for a in d.aliases.all()])
        for d in Department.objects.filter(merged_into__isnull=True).prefetch_related("aliases")
    ]
