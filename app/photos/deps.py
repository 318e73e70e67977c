from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.core.deps import SettingsDep
from app.core.storage import PhotoStorage
from app.photos.pool import PhotoPool
from app.photos.uploads import PhotoServices


async def get_photo_storage(request: Request) -> PhotoStorage:
    storage: PhotoStorage = request.app.state.photo_storage
    return storage


async def get_photo_pool(request: Request) -> PhotoPool:
    pool: PhotoPool = request.app.state.photo_pool
    return pool


PhotoStorageDep = Annotated[PhotoStorage, Depends(get_photo_storage)]
PhotoPoolDep = Annotated[PhotoPool, Depends(get_photo_pool)]


async def get_photo_services(
    settings: SettingsDep, storage: PhotoStorageDep, pool: PhotoPoolDep
) -> PhotoServices:
    return PhotoServices(settings=settings, storage=storage, pool=pool)


PhotoServicesDep = Annotated[PhotoServices, Depends(get_photo_services)]
