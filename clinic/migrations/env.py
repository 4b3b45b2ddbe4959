"""Alembic's environment: the connection `clinic.migrate` hands over, the clinic's tables."""

from alembic import context

from clinic.migrate import VERSION_TABLE, include_name
from clinic.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying the table
    compare_type=True,
    include_name=include_name,
)
with context.begin_transaction():
    context.run_migrations()
