"""The organisation's HTTP routes: regions, communities and grids, units and pairings, courier
companies and branches, couriers' check-ins."""

from fastapi import APIRouter

from app.org.check_ins.router import router as check_ins_router
from app.org.communities.router import router as communities_router
from app.org.couriers.router import router as couriers_router
from app.org.regions.router import router as regions_router
from app.org.units.router import router as units_router

router = APIRouter()
for _part in (
    regions_router,
    communities_router,
    units_router,
    couriers_router,
    check_ins_router,
):
    router.include_router(_part)
