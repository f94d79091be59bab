from airflow import DAG
from airflow.operators.dummy import DummyOperator
from datetime import datetime

clients = ["client_a", "client_b", "client_c"]

for client in clients:
    with DAG(
        dag_id=f"process_data_{client}",
        start_date=datetime(2025, 7, 1),
        schedule_interval="@daily",
        catchup=False,
        tags=["dynamic"],
    ) as dag:
        start = DummyOperator(task_id="start")
        end = DummyOperator(task_id="end")

        start >> end

        globals()[dag.dag_id] = dag  # Register the DAG
