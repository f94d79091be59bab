"""Builds every client pipeline configured in YAML under this folder (dag-factory's loader,
unchanged: it runs on tradewind without Airflow or dag-factory installed)."""

from dagfactory import load_yaml_dags

load_yaml_dags(globals_dict=globals())
