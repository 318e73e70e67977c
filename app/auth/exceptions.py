from app.core.errors import RateLimited, Unauthorized


class InvalidCredentials(Unauthorized):
    # One message for a wrong username and a wrong password: never say which part was wrong.
    def __init__(self) -> None:
        super().__init__("Incorrect username or password")


class InvalidRefreshToken(Unauthorized):
    def __init__(self, detail: str = "The refresh token is not valid") -> None:
        super().__init__(detail)


class LoginLocked(RateLimited):
    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many failed logins; try again later", retry_after_seconds=retry_after_seconds
        )
