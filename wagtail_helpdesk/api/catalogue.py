"""The catalogue, read only: offices, services, report categories,
resolution types (active and inactive, with their ids for the ticket calls)."""

from ninja import Router

from ..models import Office, ReportCategory, ResolutionType, Service
from . import serialise
from .schemas import OfficeOut, ReportCategoryOut, ResolutionTypeOut, ServiceOut

router = Router(tags=["catalogue"])


@router.get("/offices/", response=list[OfficeOut], summary="Offices")
def offices(request):
    return [{"id": o.pk, "name": o.name, "slug": o.slug, "email": o.email, "phone": o.phone,
             "active": o.active} for o in Office.objects.order_by("name")]


@router.get("/services/", response=list[ServiceOut], summary="Services (assistance requests)")
def services(request):
    rows = Service.objects.select_related("category", "office").order_by("category__sort_order",
                                                                          "name")
    return [{"id": s.pk, "name": s.name, "slug": s.slug, "description": s.description,
             "category": serialise.ref(s.category), "office": serialise.ref(s.office),
             "sla_days": s.sla_days,
             "active": s.active} for s in rows]


@router.get("/report-categories/", response=list[ReportCategoryOut],
            summary="Report categories (segnalazioni)")
def report_categories(request):
    rows = ReportCategory.objects.select_related("office").order_by("sort_order", "name")
    return [{"id": c.pk, "name": c.name, "slug": c.slug, "description": c.description,
             "office": serialise.ref(c.office), "sla_days": c.sla_days, "active": c.active}
            for c in rows]


@router.get("/resolution-types/", response=list[ResolutionTypeOut],
            summary="Resolution types")
def resolution_types(request):
    return [{"id": r.pk, "name": r.name, "slug": r.slug,
             "counts_as_solved": r.counts_as_solved, "active": r.active}
            for r in ResolutionType.objects.order_by("sort_order", "name")]
