"""Every table of the clinic's database, on one metadata (`clinic.db.metadata`): what the
migrations in `clinic/migrations/` build and are tested against. A module that declares a table
is listed here, so no table exists only when its module happens to be imported."""

from clinic import db, escalations, sms  # noqa: F401  (each declares tables on db.metadata)
from console import accounts, contact_requests, conversations, index, retention  # noqa: F401
from crisis import sweep  # noqa: F401

metadata = db.metadata
