"""Per-instance control: a readable label per instance, retries counted per instance, and a cap
on how many instances of one mapped task run at once."""

from datetime import datetime

from tradewind import dag, get_current_context, task


@dag(start_date=datetime(2025, 7, 1), schedule=None, tags=["mapping"])
def mapping_controls():
    @task(map_index_template="{{ city_label }}", max_active_tis_per_dagrun=2)
    def forecast(city: str) -> str:
        context = get_current_context()
        context["city_label"] = city.title()  # shown instead of the bare map index
        return f"sunny in {city}"

    forecast.expand(city=["oslo", "lima", "pune", "kyiv"])


mapping_controls()
