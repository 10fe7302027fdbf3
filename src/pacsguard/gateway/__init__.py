"""``pacsguard gateway``: a DICOM node that de-identifies at copy time and never loses an
acknowledged instance (durable spool, per-destination queues, retry and dead-letter)."""

from pacsguard.gateway.service import Gateway, GatewayConfig

__all__ = ["Gateway", "GatewayConfig"]
