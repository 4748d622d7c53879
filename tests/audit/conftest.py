from tests.api.conftest import api, clock, http  # noqa: F401  (the real API fixtures, for the audit routes)
