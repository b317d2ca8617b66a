"""relance — recouvrement amiable des factures impayées."""

__version__ = "0.1.0"
