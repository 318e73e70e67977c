"""The organisation's HTTP routes: regions, communities and grids, units and pairings, courier
companies and branches, couriers' check-ins."""

from fastapi import APIRouter

from app.org import (
    router_check_ins,
    router_communities,
    router_couriers,
    router_regions,
    router_units,
)

router = APIRouter()
for _part in (router_regions, router_communities, router_units, router_couriers, router_check_ins):
    router.include_router(_part.router)
