"""`PaperExchangeError`: a refusal in Kite's terms (error type, message, HTTP status), and one maker per type."""

from __future__ import annotations


class PaperExchangeError(Exception):
    """A refusal in Kite's terms: its error type, message and HTTP status."""

    def __init__(self, error_type: str, message: str, status_code: int) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.status_code = status_code


def input_error(message: str, status_code: int = 400) -> PaperExchangeError:
    return PaperExchangeError("InputException", message, status_code)


def token_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("TokenException", message, 403)


def order_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("OrderException", message, 400)


def margin_error(message: str) -> PaperExchangeError:
    return PaperExchangeError("MarginException", message, 400)


def network_error(message: str, status_code: int) -> PaperExchangeError:
    return PaperExchangeError("NetworkException", message, status_code)
