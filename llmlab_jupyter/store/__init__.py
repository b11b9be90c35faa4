"""The database: SQLAlchemy tables, queries per resource, Alembic migrations.

The only package that imports SQLAlchemy, Alembic and psycopg; it returns ``models``
records and imports nothing above itself (services, gateway, server).
"""
