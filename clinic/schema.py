"""Every table of the clinic's database, on one metadata (`clinic.db.metadata`): what the
migrations in `clinic/migrations/` build and are tested against. A module that declares a table
is listed here, so no table exists only when its module happens to be imported."""

from clinic import answers, db, escalations, sms  # noqa: F401  (each declares tables on db.metadata)
from console.admin import retention  # noqa: F401
from console.auth import accounts  # noqa: F401
from console.contact_requests import queries as contact_requests  # noqa: F401
from console.conversations import queries as conversations  # noqa: F401
from console.teaching import queries as teaching  # noqa: F401
from crisis import sweep  # noqa: F401
from projector import index  # noqa: F401
from retraining import runs as retraining  # noqa: F401

metadata = db.metadata
