"""Every table of the platform's database, registered on ``chain.db.Base.metadata``: what the
platform's migrations (``api/migrations``) describe. Import this module, not the model modules one
by one, wherever the whole schema is needed (the Alembic environment, schema comparisons).

It sits apart from :mod:`api.models` so that no model module imports another package's models
(a feature package's services import ``api.models``; ``api.models`` importing the feature
packages back made an import cycle)."""

from api import models  # noqa: F401  (the platform's own tables)
from api.agency_signing import models as agency_signing_models  # noqa: F401  (agency signature requests)
from api.audit import models as audit_models  # noqa: F401  (the audit index)
from chain import events, outbox  # noqa: F401  (event cursors, the outbox)
