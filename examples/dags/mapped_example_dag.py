from airflow.decorators import dag, task
from datetime import datetime


@dag(start_date=datetime(2025, 7, 1), schedule_interval="@daily", catchup=False)
def mapped_example_dag():

    @task
    def generate_inputs():
        return ["foo", "bar", "baz"]

    @task
    def process(item):
        print(f"Processing: {item}")

    inputs = generate_inputs()
    process.expand(item=inputs)


mapped_example_dag()
