# The seed's "map over a list of dicts" snippet, verbatim inside a DAG (the snippet itself has no DAG).
from airflow.decorators import dag, task
from datetime import datetime


@dag(start_date=datetime(2025, 7, 1), schedule="@daily", catchup=False, tags=["seed"])
def map_list_of_dicts():
    @task
    def process_config(cfg):
        print(cfg["source"], cfg["target"])

    configs = [{"source": "s3://bucket1", "target": "db1"}, {"source": "s3://bucket2", "target": "db2"}]

    process_config.expand(cfg=configs)


map_list_of_dicts()
