"""Alembic migrations of the metadata store, run by :func:`tradewind.store.engine.migrate`."""
