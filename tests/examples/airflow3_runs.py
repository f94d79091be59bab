"""What Airflow 3.3.2 gave for ``airflow dags test DAG_ID 2026-11-29`` on more of its own example
DAGs: the run's state, and each task instance's state and return value (``task[i]`` for map index
i). Read from the metadata database of a real Airflow 3.3.2 run (SQLite, LocalExecutor defaults) by
``python scripts/airflow_examples.py observe --airflow PYTHON DAG_ID ...``."""

from __future__ import annotations

from typing import Any


class _Varies:
    """A value that depends on the date, the machine or chance: equal to anything."""

    def __eq__(self, other: object) -> bool:
        return True

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "VARIES"


VARIES: Any = _Varies()

RUNS: dict[str, tuple[str, str, dict[str, tuple[str, Any]]]] = {
    "asset_consumes_1": ("example_assets.py", "success", {"consuming_1": ("success", "")}),
    "asset_consumes_1_and_2": ("example_assets.py", "success", {"consuming_2": ("success", "")}),
    "asset_consumes_1_never_scheduled": ("example_assets.py", "success", {"consuming_3": ("success", "")}),
    "asset_consumes_unknown_never_scheduled": ("example_assets.py", "success", {"unrelated_task": ("success", "")}),
    "asset_produces_1": ("example_assets.py", "success", {"producing_task_1": ("success", "")}),
    "asset_produces_2": ("example_assets.py", "success", {"producing_task_2": ("success", "")}),
    "conditional_asset_and_time_based_timetable": (
        "example_assets.py",
        "success",
        {"conditional_asset_and_time_based_timetable": ("success", "")},
    ),
    "consume_1_and_2_with_asset_expressions": (
        "example_assets.py",
        "success",
        {"consume_1_and_2_with_asset_expressions": ("success", "")},
    ),
    "consume_1_or_2_with_asset_expressions": (
        "example_assets.py",
        "success",
        {"consume_1_or_2_with_asset_expressions": ("success", "")},
    ),
    "consume_1_or_both_2_and_3_with_asset_expressions": (
        "example_assets.py",
        "success",
        {"consume_1_or_both_2_and_3_with_asset_expressions": ("success", "")},
    ),
    "aggregate_regional_sales": ("example_asset_partition.py", "success", {"aggregate_sales": ("success", None)}),
    "clean_and_combine_player_stats": (
        "example_asset_partition.py",
        "success",
        {"combine_player_stats": ("success", None)},
    ),
    "compute_player_odds": ("example_asset_partition.py", "success", {"compute_player_odds": ("success", None)}),
    "daily_inference": ("example_asset_partition.py", "success", {"run_inference": ("success", None)}),
    "daily_team_a_rollup": ("example_asset_partition.py", "success", {"summarise_team_a_day": ("success", None)}),
    "ingest_region_stats": ("example_asset_partition.py", "success", {"ingest_region": ("success", None)}),
    "ingest_regional_sales": ("example_asset_partition.py", "success", {"ingest_sales": ("success", None)}),
    "ingest_team_a_player_stats": ("example_asset_partition.py", "success", {"ingest_team_a_stats": ("success", None)}),
    "live_region_player_stats": (
        "example_asset_partition.py",
        "success",
        {"live_region_player_stats": ("success", None)},
    ),
    "monthly_team_a_rollup": ("example_asset_partition.py", "success", {"summarise_team_a_month": ("success", None)}),
    "multi_region_player_stats": (
        "example_asset_partition.py",
        "success",
        {"multi_region_player_stats": ("success", None)},
    ),
    "player_odds_quality_check_wont_ever_to_trigger": (
        "example_asset_partition.py",
        "success",
        {"check_partition_alignment": ("success", None)},
    ),
    "regional_stats_breakdown": (
        "example_asset_partition.py",
        "success",
        {"regional_stats_breakdown": ("success", None)},
    ),
    "scatter_live_region_to_segments": (
        "example_asset_partition.py",
        "success",
        {"process_region_segment": ("success", None)},
    ),
    "segment_region_stats_early_rollup": (
        "example_asset_partition.py",
        "success",
        {"aggregate_available_regions": ("success", None)},
    ),
    "segment_region_stats_rollup": (
        "example_asset_partition.py",
        "success",
        {"aggregate_all_regions": ("success", None)},
    ),
    "summarize_live_region_stats": (
        "example_asset_partition.py",
        "success",
        {"summarize_live_region": ("success", None)},
    ),
    "team_b_player_stats": ("example_asset_partition.py", "success", {"team_b_player_stats": ("success", None)}),
    "team_c_player_stats": ("example_asset_partition.py", "success", {"team_c_player_stats": ("success", None)}),
    "trailing_week_inference": ("example_asset_partition.py", "success", {"run_trailing_inference": ("success", None)}),
    "train_weekly_model": ("example_asset_partition.py", "success", {"train_model": ("success", None)}),
    "example_task_state_store_async": (
        "example_task_state_store_async.py",
        "failed",
        {"ingest_pages": ("failed", None)},
    ),
    # Airflow's `dags test` creates no run: the weight rule is not registered as a plugin
    "example_custom_weight": ("example_custom_weight.py", "error: SerializationError", {}),
    # asset examples, as Airflow 3.3.2 runs each alone with `dags test` (a consumer is run by hand)
    "asset_s3_bucket_producer_with_no_taskflow": (
        "example_asset_alias_with_no_taskflow.py",
        "success",
        {"produce_asset_events": ("success", None)},
    ),
    "asset_alias_example_alias_producer_with_no_taskflow": (
        "example_asset_alias_with_no_taskflow.py",
        "success",
        {"produce_asset_events_through_asset_alias_with_no_taskflow": ("success", None)},
    ),
    "asset_s3_bucket_consumer_with_no_taskflow": (
        "example_asset_alias_with_no_taskflow.py",
        "success",
        {"consume_asset_event": ("success", None)},
    ),
    "asset_alias_example_alias_consumer_with_no_taskflow": (
        "example_asset_alias_with_no_taskflow.py",
        "success",
        {"consume_asset_event_from_asset_alias": ("success", None)},
    ),
    "asset1_producer": ("example_asset_decorator.py", "success", {"asset1_producer": ("success", None)}),
    "asset2_producer": ("example_asset_decorator.py", "success", {"asset2_producer": ("success", None)}),
    "consumes_asset_decorator": ("example_asset_decorator.py", "success", {"process_nothing": ("success", None)}),
    "team_analytics_producer": (
        "example_asset_allow_teams.py",
        "success",
        {"produce_shared_data": ("success", "Producing shared data for cross-team consumption")},
    ),
    "team_ml_consumer": (
        "example_asset_allow_teams.py",
        "success",
        {"consume_shared_data": ("success", "Consuming shared data from team_analytics")},
    ),
    "example_asset_with_watchers": ("example_asset_with_watchers.py", "success", {"test_task": ("success", None)}),
    "asset_s3_bucket_producer": ("example_asset_alias.py", "success", {"produce_asset_events": ("success", None)}),
    "asset_alias_example_alias_producer": (
        "example_asset_alias.py",
        "success",
        {"produce_asset_events_through_asset_alias": ("success", None)},
    ),
    "asset_s3_bucket_consumer": ("example_asset_alias.py", "success", {"consume_asset_event": ("success", None)}),
    "asset_alias_example_alias_consumer": (
        "example_asset_alias.py",
        "success",
        {"consume_asset_event_from_asset_alias": ("success", None)},
    ),
    "example_asset_state_store_producer": ("example_asset_state_store.py", "success", {"load": ("success", VARIES)}),
    "example_asset_state_store_consumer": ("example_asset_state_store.py", "success", {"consume": ("success", None)}),
    "read_asset_event": ("example_inlet_event_extra.py", "success", {"read_asset_event": ("success", None)}),
    "read_asset_event_from_classic": (
        "example_inlet_event_extra.py",
        "failed",
        {"read_asset_event_from_classic": ("failed", None)},
    ),
    "asset_with_extra_by_yield": (
        "example_outlet_event_extra.py",
        "success",
        {"asset_with_extra_by_yield": ("success", None)},
    ),
    "asset_with_extra_by_context": (
        "example_outlet_event_extra.py",
        "success",
        {"asset_with_extra_by_context": ("success", None)},
    ),
    "asset_with_extra_from_classic_operator": (
        "example_outlet_event_extra.py",
        "success",
        {"asset_with_extra_from_classic_operator": ("success", "")},
    ),
    "tutorial": (
        "tutorial.py",
        "success",
        {"print_date": ("success", VARIES), "sleep": ("success", ""), "templated": ("success", "2026-12-06")},
    ),
    "tutorial_dag": (
        "tutorial_dag.py",
        "success",
        {"extract": ("success", None), "load": ("success", None), "transform": ("success", None)},
    ),
    "tutorial_taskflow_api_virtualenv": (
        "tutorial_taskflow_api_virtualenv.py",
        "success",
        {
            "extract": ("success", {"1001": 301.27, "1002": 433.21, "1003": 502.22}),
            "load": ("success", None),
            "transform": ("success", {"total_order_value": 1236.7}),
        },
    ),
    "example_dynamic_task_mapping": (
        "example_dynamic_task_mapping.py",
        "success",
        {
            "add_one[0]": ("success", 2),
            "add_one[1]": ("success", 3),
            "add_one[2]": ("success", 4),
            "sum_it": ("success", None),
        },
    ),
    "example_task_mapping_second_order": (
        "example_dynamic_task_mapping.py",
        "success",
        {
            "get_nums": ("success", [1, 2, 3]),
            "times_2[0]": ("success", 2),
            "times_2[1]": ("success", 4),
            "times_2[2]": ("success", 6),
            "add_10[0]": ("success", 12),
            "add_10[1]": ("success", 14),
            "add_10[2]": ("success", 16),
        },
    ),
    "example_task_group_mapping": (
        "example_dynamic_task_mapping.py",
        "success",
        {
            "op.add_1[0]": ("success", 2),
            "op.add_1[1]": ("success", 3),
            "op.add_1[2]": ("success", 4),
            "op.mul_2[0]": ("success", 4),
            "op.mul_2[1]": ("success", 6),
            "op.mul_2[2]": ("success", 8),
        },
    ),
    "example_dynamic_task_mapping_with_no_taskflow_operators": (
        "example_dynamic_task_mapping_with_no_taskflow_operators.py",
        "success",
        {
            "add_one[0]": ("success", 2),
            "add_one[1]": ("success", 3),
            "add_one[2]": ("success", 4),
            "sum_it": ("success", 9),
        },
    ),
    "example_task_group": (
        "example_task_group.py",
        "success",
        {
            "start": ("success", None),
            "section_1.task_1": ("success", None),
            "section_1.task_2": ("success", "1"),
            "section_1.task_3": ("success", None),
            "section_2.task_1": ("success", None),
            "section_2.inner_section_2.task_2": ("success", "1"),
            "section_2.inner_section_2.task_3": ("success", None),
            "section_2.inner_section_2.task_4": ("success", None),
            "end": ("success", None),
        },
    ),
    "example_task_group_decorator": (
        "example_task_group_decorator.py",
        "success",
        {
            "task_start": ("success", "[Task_start]"),
            **{
                f"task_group_function{'' if i == 0 else f'__{i}'}.{name}": ("success", value)
                for i in range(5)
                for name, value in (
                    ("task_1", f"[ Task1 {i} ]"),
                    ("task_2", f"[ Task2 [ Task1 {i} ] ]"),
                    ("task_3", None),
                )
            },
            "task_end": ("success", None),
        },
    ),
    # Airflow's `dags test` creates no run: a required param has no value
    "example_params_ui_tutorial": ("example_params_ui_tutorial.py", "error: ParamValidationError", {}),
    # Airflow's `dags test` creates no run: the timetable is not registered as a plugin
    "example_workday_timetable": ("example_workday_timetable.py", "error: SerializationError", {}),
    # without network (the API is not reached)
    "tutorial_objectstorage": (
        "tutorial_objectstorage.py",
        "failed",
        {"get_air_quality_data": ("failed", None), "analyze": ("upstream_failed", None)},
    ),
    "example_dag_decorator": (
        "example_dag_decorator.py",
        "failed",
        {
            "get_ip": ("failed", None),
            "prepare_command": ("upstream_failed", None),
            "echo_ip_info": ("upstream_failed", None),
        },
    ),
    "example_task_state_store": ("example_task_state_store.py", "success", {"run_job": ("success", VARIES)}),
    "example_task_state_store_mapped": (
        "example_task_state_store_mapped.py",
        "success",
        {
            "get_tables": ("success", ["orders", "customers", "products"]),
            **{f"process_table[{i}]": ("success", VARIES) for i in range(3)},
        },
    ),
    "example_passing_params_via_test_command": (
        "example_passing_params_via_test_command.py",
        "failed",
        {
            "run_this": ("success", 1),
            "env_var_test_task": ("success", None),
            "also_run_this": ("failed", None),
        },
    ),
    "tutorial_taskflow_templates": (
        "tutorial_taskflow_templates.py",
        "success",
        {"template_test": ("success", None)},
    ),
    "example_retry_policy": ("example_retry_policy.py", "failed", {"call_external_api": ("failed", None)}),
    "example_setup_teardown": (
        "example_setup_teardown.py",
        "success",
        {
            "root_setup": ("success", "Hello from root_setup"),
            "normal": ("success", "I am just a normal task"),
            "root_teardown": ("success", "Goodbye from root_teardown"),
            "section_1.taskgroup_setup": ("success", "Hello from taskgroup_setup"),
            "section_1.normal": ("success", "I am just a normal task"),
            "section_1.taskgroup_teardown": ("success", "Hello from taskgroup_teardown"),
        },
    ),
    "example_setup_teardown_taskflow": (
        "example_setup_teardown_taskflow.py",
        "success",
        {
            "my_first_task": ("success", None),
            "my_second_task": ("success", None),
            "my_third_task": ("success", None),
            "outer_setup": ("success", "some cluster id"),
            "outer_work": ("success", None),
            "outer_teardown": ("success", None),
            "section_1.inner_setup": ("success", "some_cluster_id"),
            "section_1.inner_work": ("success", None),
            "section_1.inner_teardown": ("success", None),
        },
    ),
    "example_skip_dag": (
        "example_skip_dag.py",
        "success",
        {
            "skip_operator_1": ("skipped", None),
            "always_true_1": ("success", None),
            "skip_operator_2": ("skipped", None),
            "always_true_2": ("success", None),
            "all_success": ("skipped", None),
            "one_success": ("success", None),
            "final_1": ("skipped", None),
            "final_2": ("success", None),
        },
    ),
    "example_branch_labels": (
        "example_branch_labels.py",
        "success",
        {
            task_id: ("success", None)
            for task_id in (
                "ingest",
                "analyze",
                "check_integrity",
                "describe_integrity",
                "save",
                "email_error",
                "report",
            )
        },
    ),
    "example_xcom": (
        "example_xcom.py",
        "success",
        {
            "bash_push": ("success", "value_by_return"),
            "push_by_returning": ("success", {"a": "b"}),
            "push": ("success", None),
            "bash_pull": ("success", None),
            "pull_value_from_bash_push": ("success", None),
            "puller": ("success", None),
        },
    ),
    "example_time_delta_sensor_async": (
        "example_time_delta_sensor_async.py",
        "success",
        {"finish": ("success", None), "wait": ("success", True)},
    ),
    "example_complex": (
        "example_complex.py",
        "success",
        {
            "create_entry_gcs": ("success", "create_entry_gcs"),
            "create_entry_gcs_result": ("success", "create_entry_gcs_result"),
            "create_entry_gcs_result2": ("success", "create_entry_gcs_result2"),
            "create_entry_group": ("success", "create_entry_group"),
            "create_entry_group_result": ("success", "create_entry_group_result"),
            "create_entry_group_result2": ("success", "create_entry_group_result2"),
            "create_tag": ("success", "create_tag"),
            "create_tag_result": ("success", "create_tag_result"),
            "create_tag_result2": ("success", "create_tag_result2"),
            "create_tag_template": ("success", "create_tag_template"),
            "create_tag_template_field": ("success", "create_tag_template_field"),
            "create_tag_template_field_result": ("success", "create_tag_template_field_result"),
            "create_tag_template_field_result2": ("success", "create_tag_template_field_result"),
            "create_tag_template_result": ("success", "create_tag_template_result"),
            "create_tag_template_result2": ("success", "create_tag_template_result2"),
            "delete_entry": ("success", "delete_entry"),
            "delete_entry_group": ("success", "delete_entry_group"),
            "delete_tag": ("success", "delete_tag"),
            "delete_tag_template": ("success", "delete_tag_template"),
            "delete_tag_template_field": ("success", "delete_tag_template_field"),
            "get_entry": ("success", "get_entry"),
            "get_entry_group": ("success", "get_entry_group"),
            "get_entry_group_result": ("success", "get_entry_group_result"),
            "get_entry_result": ("success", "get_entry_result"),
            "get_tag_template": ("success", "get_tag_template"),
            "get_tag_template_result": ("success", "get_tag_template_result"),
            "list_tags": ("success", "list_tags"),
            "list_tags_result": ("success", "list_tags_result"),
            "lookup_entry": ("success", "lookup_entry"),
            "lookup_entry_result": ("success", "lookup_entry_result"),
            "rename_tag_template_field": ("success", "rename_tag_template_field"),
            "search_catalog": ("success", "search_catalog"),
            "search_catalog_result": ("success", "search_catalog_result"),
            "update_entry": ("success", "update_entry"),
            "update_tag": ("success", "update_tag"),
            "update_tag_template": ("success", "update_tag_template"),
            "update_tag_template_field": ("success", "update_tag_template_field"),
        },
    ),
    "example_failed_dag": ("example_failed_dag.py", "failed", {"fail_task": ("failed", None)}),
    "example_nested_branch_dag": (
        "example_nested_branch_dag.py",
        "success",
        {
            "branch_1": ("success", None),
            "branch_2": ("skipped", None),
            "false_1": ("skipped", None),
            "false_2": ("skipped", None),
            "false_3": ("skipped", None),
            "join_1": ("success", None),
            "join_2": ("skipped", None),
            "true_1": ("success", None),
            "true_2": ("skipped", None),
        },
    ),
    "example_display_name": (
        "example_display_name.py",
        "success",
        {"sample_task_1": ("success", None), "sample_task_2": ("success", None)},
    ),
    "example_simplest_dag": ("example_simplest_dag.py", "success", {"my_task": ("success", None)}),
    "example_trigger_target_dag": (
        "example_trigger_target_dag.py",
        "success",
        {"bash_task": ("success", "Here is the message: None"), "run_this": ("success", None)},
    ),
    "example_xcom_args": (
        "example_xcomargs.py",
        "success",
        {"generate_value": ("success", "Bring me a shrubbery!"), "print_value": ("success", None)},
    ),
    "example_xcom_args_with_operators": (
        "example_xcomargs.py",
        "success",
        {
            "c": ("success", "c"),
            "d": ("success", "c"),
            "print_value": ("success", None),
            "print_value__1": ("success", None),
        },
    ),
    "example_params_trigger_ui": (
        "example_params_trigger_ui.py",
        "success",
        {
            "get_names": ("success", ["Linda", "Martha", "Thomas"]),
            "print_greetings": ("success", None),
            "select_languages": (
                "success",
                ["generate_english_greeting", "generate_german_greeting", "generate_french_greeting"],
            ),
            "generate_english_greeting[0]": ("success", "Hello Linda!"),
            "generate_french_greeting[0]": ("success", "Bonjour Linda!"),
            "generate_german_greeting[0]": ("success", "Sehr geehrter Herr/Frau Linda."),
            "generate_english_greeting[1]": ("success", "Hello Martha!"),
            "generate_french_greeting[1]": ("success", "Bonjour Martha!"),
            "generate_german_greeting[1]": ("success", "Sehr geehrter Herr/Frau Martha."),
            "generate_english_greeting[2]": ("success", "Hello Thomas!"),
            "generate_french_greeting[2]": ("success", "Bonjour Thomas!"),
            "generate_german_greeting[2]": ("success", "Sehr geehrter Herr/Frau Thomas."),
        },
    ),
    "tutorial_taskflow_api": (
        "tutorial_taskflow_api.py",
        "success",
        {
            "extract": ("success", {"1001": 301.27, "1002": 433.21, "1003": 502.22}),
            "load": ("success", None),
            "transform": ("success", {"total_order_value": 1236.7}),
        },
    ),
    "latest_only_with_trigger": (
        "example_latest_only_with_trigger.py",
        "success",
        {
            "latest_only": ("success", ["task1"]),
            "task1": ("success", None),
            "task2": ("success", None),
            "task3": ("success", None),
            "task4": ("success", None),
        },
    ),
    "example_branch_dop_operator_v3": (
        "example_branch_python_dop_operator_3.py",
        "success",
        {"should_run": ("success", None), "empty_task_1": ("success", None), "empty_task_2": ("skipped", None)},
    ),
}

# the example file that defines each DAG, as Airflow 3.3.2 reads them (also the DAGs of files
# tradewind cannot import)
FILES: dict[str, str] = {
    "asset_alias_example_alias_consumer": "example_asset_alias.py",
    "asset_alias_example_alias_producer": "example_asset_alias.py",
    "asset_s3_bucket_consumer": "example_asset_alias.py",
    "asset_s3_bucket_producer": "example_asset_alias.py",
    "asset_alias_example_alias_consumer_with_no_taskflow": "example_asset_alias_with_no_taskflow.py",
    "asset_alias_example_alias_producer_with_no_taskflow": "example_asset_alias_with_no_taskflow.py",
    "asset_s3_bucket_consumer_with_no_taskflow": "example_asset_alias_with_no_taskflow.py",
    "asset_s3_bucket_producer_with_no_taskflow": "example_asset_alias_with_no_taskflow.py",
    "team_analytics_producer": "example_asset_allow_teams.py",
    "team_ml_consumer": "example_asset_allow_teams.py",
    "asset1_producer": "example_asset_decorator.py",
    "asset2_producer": "example_asset_decorator.py",
    "consumes_asset_decorator": "example_asset_decorator.py",
    "aggregate_regional_sales": "example_asset_partition.py",
    "clean_and_combine_player_stats": "example_asset_partition.py",
    "compute_player_odds": "example_asset_partition.py",
    "daily_inference": "example_asset_partition.py",
    "daily_team_a_rollup": "example_asset_partition.py",
    "ingest_region_stats": "example_asset_partition.py",
    "ingest_regional_sales": "example_asset_partition.py",
    "ingest_team_a_player_stats": "example_asset_partition.py",
    "live_region_player_stats": "example_asset_partition.py",
    "monthly_team_a_rollup": "example_asset_partition.py",
    "multi_region_player_stats": "example_asset_partition.py",
    "player_odds_quality_check_wont_ever_to_trigger": "example_asset_partition.py",
    "regional_stats_breakdown": "example_asset_partition.py",
    "scatter_live_region_to_segments": "example_asset_partition.py",
    "segment_region_stats_early_rollup": "example_asset_partition.py",
    "segment_region_stats_rollup": "example_asset_partition.py",
    "summarize_live_region_stats": "example_asset_partition.py",
    "team_b_player_stats": "example_asset_partition.py",
    "team_c_player_stats": "example_asset_partition.py",
    "trailing_week_inference": "example_asset_partition.py",
    "train_weekly_model": "example_asset_partition.py",
    "example_asset_state_store_consumer": "example_asset_state_store.py",
    "example_asset_state_store_producer": "example_asset_state_store.py",
    "example_asset_with_watchers": "example_asset_with_watchers.py",
    "asset_consumes_1": "example_assets.py",
    "asset_consumes_1_and_2": "example_assets.py",
    "asset_consumes_1_never_scheduled": "example_assets.py",
    "asset_consumes_unknown_never_scheduled": "example_assets.py",
    "asset_produces_1": "example_assets.py",
    "asset_produces_2": "example_assets.py",
    "conditional_asset_and_time_based_timetable": "example_assets.py",
    "consume_1_and_2_with_asset_expressions": "example_assets.py",
    "consume_1_or_2_with_asset_expressions": "example_assets.py",
    "consume_1_or_both_2_and_3_with_asset_expressions": "example_assets.py",
    "example_branch_labels": "example_branch_labels.py",
    "example_branch_dop_operator_v3": "example_branch_python_dop_operator_3.py",
    "example_complex": "example_complex.py",
    "example_custom_weight": "example_custom_weight.py",
    "example_dag_decorator": "example_dag_decorator.py",
    "example_display_name": "example_display_name.py",
    "example_dynamic_task_mapping": "example_dynamic_task_mapping.py",
    "example_task_group_mapping": "example_dynamic_task_mapping.py",
    "example_task_mapping_second_order": "example_dynamic_task_mapping.py",
    "example_dynamic_task_mapping_with_no_taskflow_operators": (
        "example_dynamic_task_mapping_with_no_taskflow_operators.py"
    ),
    "example_failed_dag": "example_failed_dag.py",
    "read_asset_event": "example_inlet_event_extra.py",
    "read_asset_event_from_classic": "example_inlet_event_extra.py",
    "latest_only_with_trigger": "example_latest_only_with_trigger.py",
    "example_nested_branch_dag": "example_nested_branch_dag.py",
    "asset_with_extra_by_context": "example_outlet_event_extra.py",
    "asset_with_extra_by_yield": "example_outlet_event_extra.py",
    "asset_with_extra_from_classic_operator": "example_outlet_event_extra.py",
    "example_params_trigger_ui": "example_params_trigger_ui.py",
    "example_params_ui_tutorial": "example_params_ui_tutorial.py",
    "example_passing_params_via_test_command": "example_passing_params_via_test_command.py",
    "example_retry_policy": "example_retry_policy.py",
    "example_setup_teardown": "example_setup_teardown.py",
    "example_setup_teardown_taskflow": "example_setup_teardown_taskflow.py",
    "example_simplest_dag": "example_simplest_dag.py",
    "example_skip_dag": "example_skip_dag.py",
    "example_task_group": "example_task_group.py",
    "example_task_group_decorator": "example_task_group_decorator.py",
    "example_task_state_store": "example_task_state_store.py",
    "example_task_state_store_async": "example_task_state_store_async.py",
    "example_task_state_store_mapped": "example_task_state_store_mapped.py",
    "example_time_delta_sensor_async": "example_time_delta_sensor_async.py",
    "example_trigger_target_dag": "example_trigger_target_dag.py",
    "example_workday_timetable": "example_workday_timetable.py",
    "example_xcom": "example_xcom.py",
    "example_xcom_args": "example_xcomargs.py",
    "example_xcom_args_with_operators": "example_xcomargs.py",
    "tutorial": "tutorial.py",
    "tutorial_dag": "tutorial_dag.py",
    "tutorial_objectstorage": "tutorial_objectstorage.py",
    "tutorial_taskflow_api": "tutorial_taskflow_api.py",
    "tutorial_taskflow_api_virtualenv": "tutorial_taskflow_api_virtualenv.py",
    "tutorial_taskflow_templates": "tutorial_taskflow_templates.py",
}

# DAGs scripts/airflow_examples.py does not run with `dags test`, and why
NOT_RUN: dict[str, str] = {
    "example_dag_decorator": (
        "calls https://httpbingo.org; tests/examples/test_examples_with_services.py runs it against a local "
        "server and gets what Airflow gets"
    ),
    "example_retry_policy": "calls https://api.example.com (Airflow, without network: failed after 6 tries)",
    "tutorial_taskflow_api_virtualenv": "installs funcsigs from PyPI into a new virtualenv (on Airflow: success)",
}

# what an example file needs that tradewind does not provide, said next to its import error
FILE_NOTES: dict[str, str] = {
    "example_kubernetes_executor.py": "not supported: Kubernetes pods (`executor_config={'pod_override': ...}`)",
    "example_local_kubernetes_executor.py": "not supported: the Kubernetes executor",
    "example_custom_weight.py": "imports a weight rule from Airflow's own package airflow.example_dags",
    "example_task_state_store_async.py": "not supported: the task state store",
}

# DAGs whose run tradewind is known to give differently from Airflow's (docs/airflow-examples.md
# shows how), and why
DIFFERS: dict[str, str] = {
    "example_task_state_store_mapped": "no task state store (tests/examples/test_examples_with_services.py)",
    "example_task_state_store": "no task state store: airflow.sdk.execution_time.context is not provided",
    "example_task_state_store_async": "no task state store: airflow.sdk.execution_time.context is not provided",
    "example_workday_timetable": (
        "imports its timetable from Airflow's own package airflow.example_dags; kept next to the DAG file, "
        "the plugin gives Airflow's runs (tests/examples/test_workday_plugin.py)"
    ),
    "tutorial_objectstorage": "ObjectStoragePath is not provided",
    "team_analytics_producer": "asset access for teams (AssetAccessControl) is not provided",
    "team_ml_consumer": "asset access for teams (AssetAccessControl) is not provided",
    "example_asset_with_watchers": "asset watchers need Airflow's triggerer, which tradewind has not",
    "example_asset_state_store_consumer": "no asset state store (docs/adr/0012-data-aware-scheduling.md)",
    "example_asset_state_store_producer": "no asset state store (docs/adr/0012-data-aware-scheduling.md)",
    **{
        dag_id: "partitioned assets are not provided (docs/adr/0012-data-aware-scheduling.md)"
        for dag_id in (
            "aggregate_regional_sales",
            "clean_and_combine_player_stats",
            "compute_player_odds",
            "daily_inference",
            "daily_team_a_rollup",
            "ingest_region_stats",
            "ingest_regional_sales",
            "ingest_team_a_player_stats",
            "live_region_player_stats",
            "monthly_team_a_rollup",
            "multi_region_player_stats",
            "player_odds_quality_check_wont_ever_to_trigger",
            "regional_stats_breakdown",
            "scatter_live_region_to_segments",
            "segment_region_stats_early_rollup",
            "segment_region_stats_rollup",
            "summarize_live_region_stats",
            "team_b_player_stats",
            "team_c_player_stats",
            "trailing_week_inference",
            "train_weekly_model",
        )
    },
}
