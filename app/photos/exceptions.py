"""Why a photo is refused: one HTTP problem (422 ``photo_rejected``) with a machine-readable
``reason_code`` per cause."""

from __future__ import annotations

from app.core.errors import DomainError


class PhotoRejected(DomainError):
    status_code, code, title = 422, "photo_rejected", "Photo rejected"

    def __init__(self, reason_code: str, message: str) -> None:
        super().__init__(message)
        self.reason_code = reason_code
        self.message = message


class PhotoTooLarge(PhotoRejected):
    def __init__(self, message: str) -> None:
        super().__init__("too_large", message)


class NotAnImage(PhotoRejected):
    def __init__(self, message: str) -> None:
        super().__init__("not_an_image", message)


class UnsupportedFormat(PhotoRejected):
    def __init__(self, message: str) -> None:
        super().__init__("unsupported_format", message)


class CorruptedImage(PhotoRejected):
    def __init__(self, message: str) -> None:
        super().__init__("corrupted", message)


class TooManyPixels(PhotoRejected):
    def __init__(self, message: str) -> None:
        super().__init__("too_many_pixels", message)


class PhotosRejected(DomainError):
    """One or more photos of a request were refused; ``errors`` names each by index and name."""

    status_code, code, title = 422, "photo_rejected", "Photo rejected"
