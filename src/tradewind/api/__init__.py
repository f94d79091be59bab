"""The REST API: Airflow 3's public API v2 paths and JSON shapes over the store and the
serialized DAGs (FastAPI; ``pip install 'tradewind[server]'``). It never imports user code and
never runs the DAG processor. See docs/adr/0010-api-ui-and-auth.md for what differs from Airflow.

    from tradewind.api.app import create_app
    app = create_app()      # the configured store; serve with `tradewind api-server`
"""
