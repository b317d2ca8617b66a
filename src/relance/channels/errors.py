"""How a channel reports a failure: temporary (retry with back-off) or permanent."""


class DeliveryError(Exception):
    pass


class TemporaryFailure(DeliveryError):
    """Server down, timeout, SMTP 4xx: try again later."""


class PermanentFailure(DeliveryError):
    """SMTP 5xx, no address: retrying will not help; a person must look."""


class UncertainDelivery(DeliveryError):
    """The message was being transmitted (SMTP: its DATA content) when the connection dropped or
    the final reply never came: it may have been delivered. Never resent automatically: a
    person checks (« À vérifier »)."""


class HandOverDeclined(DeliveryError):
    """The sender declined at the last moment, before anything was transmitted (its claim was
    taken back, or the invoices changed): nothing left."""
