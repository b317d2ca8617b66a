"""How a channel reports a failure: temporary (retry with back-off) or permanent."""


class DeliveryError(Exception):
    pass


class TemporaryFailure(DeliveryError):
    """Server down, timeout, SMTP 4xx: try again later."""


class PermanentFailure(DeliveryError):
    """SMTP 5xx, no address: retrying will not help; a person must look."""
