"""A data holder's gateway: its own program (``python -m gateway``), one per data-holding agency.

It checks a consent on chain, logs the pull on chain (``recordPulls``), then answers with the
holder's data sealed to the requesting agency. A different trust party from the platform: its
own settings (``GOVCHAIN_GATEWAY_*``), its own table and migrations, and it imports only
:mod:`chain`, :mod:`identity` and the HTTP plumbing every service shares (:mod:`httpkit`),
never :mod:`api` (checked by import-linter, ``make lint``).
"""
