"""Storage on SQLAlchemy 2 Core, identical on SQLite (the embedded default) and PostgreSQL.

- ``engine.py``: ``create_engine(url)``, the only two supported databases and their settings.
- ``types.py``: exact ``Decimal`` and aware-UTC ``datetime`` columns on both databases.
- ``tables.py``: the schema, one ``MetaData``; ``migrations/`` builds it, ``migrate.py`` runs them.
- ``repositories/``: row <-> domain translation behind the ports of ``services/unit_of_work.py``.
- ``unit_of_work.py``: ``SqlAlchemyUnitOfWork``, one transaction over every repository.
- ``errors.py``: ``StorageError``, what every driver or SQLAlchemy error becomes at this boundary.

Nothing connects at import time; ``bootstrap`` builds the engine from settings (STYLE.md).
"""
