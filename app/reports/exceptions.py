from app.core.errors import DomainError


class PhotosRejected(DomainError):
    """One or more photos of a request were refused; ``errors`` names each by index and name."""

    status_code, code, title = 422, "photo_rejected", "Photo rejected"
