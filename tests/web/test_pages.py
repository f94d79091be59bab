"""The UI's read-only pages, as a logged-in user sees them (in process, real SQLite store)."""

from __future__ import annotations

import re

from webkit import Site, mapped_dag


def _mapped_run(site: Site, run_id: str = "manual__1", states: tuple[str, ...] = ("success", "success", "success")):
    site.add_dag(mapped_dag())
    instances = [
        {"task_id": "generate", "state": "success"},
        *[
            {"task_id": "process", "map_index": i, "state": s, "rendered_map_index": f"item-{i}"}
            for i, s in enumerate(states)
        ],
        {"task_id": "summary", "state": "success" if "failed" not in states else "upstream_failed"},
        {"task_id": "checks.check", "state": None},
    ]
    run_state = "failed" if "failed" in states else "success"
    site.add_run("mapped_example_dag", run_id, run_state, instances)


def test_dag_list_shows_dags_schedule_tags_runs_and_pause_state(site: Site) -> None:
    _mapped_run(site)
    other = mapped_dag("quiet_dag")
    site.add_dag(other, paused=True)
    page = site.client("ada").get("/dags")
    assert page.status_code == 200
    html = page.text
    assert 'DAGs <span class="muted">2</span>' in html
    assert 'href="/dags/grid?dag_id=mapped_example_dag"' in html
    assert "<code>0 0 * * *</code>" in html or "@daily" in html
    assert '<span class="tag">demo</span>' in html
    # one run dot for the run, titled with its id and state
    assert re.search(r'class="dot s-success"[^>]*\n?\s*title="manual__1 · success', html)
    # the paused DAG shows an "Unpause" toggle, the active one a "Pause" toggle
    assert 'aria-label="Unpause quiet_dag"' in html
    assert 'aria-label="Pause mapped_example_dag"' in html


def test_dag_list_search_and_pages(site: Site) -> None:
    for n in range(105):
        site.add_dag(mapped_dag(f"bulk_{n:03d}"))
    client = site.client("ada")
    first = client.get("/dags").text
    assert "page 1 of 2" in first and "bulk_099" in first and "bulk_100" not in first
    second = client.get("/dags?page=2").text
    assert "bulk_104" in second and "bulk_000" not in second
    found = client.get("/dags?search=_10").text
    assert "bulk_100" in found and "bulk_104" in found and "bulk_099" not in found
    assert "No DAG id contains" in client.get("/dags?search=nothing_like_this").text


def test_import_errors_are_shown_first(site: Site) -> None:
    from tradewind.store import dag_versions as dv
    from tradewind.store.engine import session_scope

    with session_scope(site.engine) as session:
        dv.set_import_error(
            session, "/dags/broken.py", "Traceback ...\nSyntaxError: invalid syntax (broken.py, line 3)"
        )
    html = site.client("ada").get("/dags").text
    assert "1 DAG file failed to import" in html
    assert "/dags/broken.py" in html and "SyntaxError: invalid syntax (broken.py, line 3)" in html
    assert html.index("failed to import") < html.index("<h1>DAGs")


def test_grid_shows_runs_by_tasks_with_mapped_counts(site: Site) -> None:
    _mapped_run(site, states=("success", "failed", "success"))
    html = site.client("ada").get("/dags/grid?dag_id=mapped_example_dag").text
    for task_id in ("generate", "process", "summary", "checks.check"):
        assert f">\n        {task_id}" in html or f"{task_id}<" in html or f"{task_id} <span" in html
    assert 'title="mapped task">[ ]' in html
    # the mapped cell: failed wins the cell's colour and the title lists the counts per state
    assert "process · manual__1 · failed 1 · success 2" in html
    assert 'class="cell s-failed mapped"' in html
    assert 'class="cell s-upstream_failed"' in html


def test_opened_mapped_task_lists_instances_with_state_filter(site: Site) -> None:
    _mapped_run(site, states=("success", "failed", "success"))
    client = site.client("ada")
    html = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__1&task_id=process").text
    assert "3 mapped instances" in html
    assert "failed 1" in html and "success 2" in html
    rows = re.findall(r"map_index=(\d+)\">\d+</a>", html)
    assert rows == ["0", "1", "2"]
    assert "item-1" in html
    only_failed = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&state=failed").text
    assert re.findall(r"map_index=(\d+)\">\d+</a>", only_failed) == ["1"]
    by_label = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&label=item-2").text
    assert re.findall(r"map_index=(\d+)\">\d+</a>", by_label) == ["2"]
    none = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&label=zzz").text
    assert "No instance matches this filter." in none


def test_ten_thousand_instances_one_page_and_the_failed_one_click_away(site: Site) -> None:
    site.add_dag(mapped_dag())
    failed = {17, 4242, 9001}
    instances = [
        {"task_id": "process", "map_index": i, "state": "failed" if i in failed else "success"} for i in range(10_000)
    ]
    site.add_run(
        "mapped_example_dag", "manual__big", "failed", [{"task_id": "generate", "state": "success"}, *instances]
    )
    client = site.client("ada")
    grid = client.get("/dags/grid?dag_id=mapped_example_dag").text
    assert "process · manual__big · failed 3 · success 9,997" in grid
    opened = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__big&task_id=process").text
    assert "10,000 mapped instances" in opened
    assert len(re.findall(r"map_index=\d+\">\d+</a>", opened)) == 100  # one page
    assert "page 1 of 100" in opened
    chip = re.search(r'href="([^"]*state=failed[^"]*)">failed 3</a>', opened)
    assert chip, "a 'failed 3' filter chip"
    failed_page = client.get(chip.group(1).replace("&amp;", "&")).text
    assert re.findall(r"map_index=(\d+)\">\d+</a>", failed_page) == ["17", "4242", "9001"]
    last = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__big&task_id=process&page=100").text
    assert re.findall(r"map_index=(\d+)\">\d+</a>", last)[-1] == "9999"


def test_graph_marks_groups_and_mapped_tasks(site: Site) -> None:
    _mapped_run(site)
    html = site.client("ada").get("/dags/graph?dag_id=mapped_example_dag").text
    assert '<g class="node mapped">' in html
    assert html.count('<g class="node">') == 3  # generate, summary, checks.check
    assert '<g class="frame">' in html and ">checks</text>" in html
    assert html.count('class="edge"') == 3
    assert "process [ ]" in html


def test_task_instance_page_shows_return_value_and_log(site: Site) -> None:
    _mapped_run(site)
    site.add_xcom("mapped_example_dag", "manual__1", "process", 1, "BAR")
    site.write_log(
        "mapped_example_dag",
        "manual__1",
        "process",
        1,
        1,
        "[2025-07-01T00:00:00.000Z] {process} INFO - Processing: bar\n::tradewind-result:: {}\n",
    )
    client = site.client("ada")
    page = client.get("/dags/instance?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&map_index=1")
    assert page.status_code == 200
    assert '<pre class="json" id="return-value">&#34;BAR&#34;</pre>' in page.text
    assert "label <b>item-1</b>" in page.text
    src = re.search(r'data-src="([^"]+)"', page.text)
    assert src
    log = client.get(src.group(1).replace("&amp;", "&") + "&offset=0").json()
    assert log["text"] == "[2025-07-01T00:00:00.000Z] {process} INFO - Processing: bar\n"
    assert log["state"] == "success"
    end = client.get(src.group(1).replace("&amp;", "&") + f"&offset={log['next_offset']}").json()
    assert end["text"] == "" and end["done"] is True


def test_unknown_ids_are_404_pages(site: Site) -> None:
    _mapped_run(site)
    client = site.client("ada")
    assert client.get("/dags/grid?dag_id=nope").status_code == 404
    assert "DAG &#39;nope&#39; not found" in client.get("/dags/grid?dag_id=nope").text
    assert client.get("/dags/grid?dag_id=mapped_example_dag&run_id=bogus").status_code == 404
    missing = client.get("/dags/instance?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&map_index=7")
    assert missing.status_code == 404 and "process[7]" in missing.text
    assert client.get("/dags/log.json?dag_id=mapped_example_dag&run_id=x&task_id=y").status_code == 404


def test_bad_query_values_are_4xx_not_500(site: Site) -> None:
    _mapped_run(site)
    client = site.client("ada")
    for url in (
        "/dags?page=0",
        "/dags?page=abc",
        "/dags?page=99999999999999",
        "/dags/grid?dag_id=",
        "/dags/grid?dag_id=" + "x" * 300,
        "/dags/instance?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&map_index=-5",
        "/dags/log.json?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&offset=-1",
    ):
        assert 400 <= client.get(url).status_code < 500, url


def test_log_json_follows_a_running_try_until_it_ends(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "live", "running", [{"task_id": "generate", "state": "running"}])
    path = site.write_log("mapped_example_dag", "live", "generate", -1, 1, "[t] {generate} INFO - step 1\n[t] {gen")
    client = site.client("ada")
    url = "/dags/log.json?dag_id=mapped_example_dag&run_id=live&task_id=generate&try=1"
    first = client.get(url + "&offset=0").json()
    assert first["done"] is False and first["state"] == "running"
    assert first["text"].startswith("[t] {generate} INFO - step 1\n")
    with path.open("a") as log:
        log.write("erate} INFO - step 2\n::tradewind-result:: {}\n")
    second = client.get(url + f"&offset={first['next_offset']}").json()
    assert (first["text"] + second["text"]).splitlines() == [
        "[t] {generate} INFO - step 1",
        "[t] {generate} INFO - step 2",
    ]
    assert second["done"] is False  # still running in the store
    from tradewind.store import queries as q
    from tradewind.store.engine import session_scope

    with session_scope(site.engine) as session:
        q.upsert_task_instances(
            session,
            [
                {
                    "dag_id": "mapped_example_dag",
                    "run_id": "live",
                    "task_id": "generate",
                    "map_index": -1,
                    "state": "success",
                }
            ],
        )
    last = client.get(url + f"&offset={second['next_offset']}").json()
    assert last == {"text": "", "next_offset": second["next_offset"], "state": "success", "done": True}


def test_a_try_without_a_log_says_so(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "r", "queued", [{"task_id": "generate", "state": "queued"}])
    body = site.client("ada").get("/dags/log.json?dag_id=mapped_example_dag&run_id=r&task_id=generate&try=1").json()
    assert body["text"] == "" and body["done"] is False
    assert body["missing"].startswith("No log for try 1 of generate")


def test_the_log_of_a_try_not_started_is_waited_for_only_while_its_run_is_active(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "waiting", "running", [{"task_id": "generate", "state": None, "try_number": 0}])
    site.add_run("mapped_example_dag", "over", "failed", [{"task_id": "generate", "state": None, "try_number": 0}])
    client = site.client("ada")
    url = "/dags/log.json?dag_id=mapped_example_dag&task_id=generate&try=1&run_id="
    assert client.get(url + "waiting").json()["done"] is False
    assert client.get(url + "over").json()["done"] is True


def test_grid_shows_the_newest_25_runs_unless_asked_for_more(site: Site) -> None:
    site.add_dag(mapped_dag())
    for day in range(30):
        site.add_run("mapped_example_dag", f"run_{day:02d}", "success", [], offset_days=day)
    client = site.client("ada")
    default = client.get("/dags/grid?dag_id=mapped_example_dag").text
    shown = re.findall(r'title="(run_\d\d) · success', default)
    assert shown == [f"run_{d:02d}" for d in range(5, 30)]  # oldest on the left
    more = client.get("/dags/grid?dag_id=mapped_example_dag&runs=50").text
    assert len(re.findall(r'title="(run_\d\d) · success', more)) == 30
    assert "&amp;runs=50" in more  # links keep the choice
    # a run picked by link is shown even when older than the newest 25
    picked = client.get("/dags/grid?dag_id=mapped_example_dag&run_id=run_01").text
    assert "run_01" in re.findall(r'title="(run_\d\d) · success', picked)
    assert client.get("/dags/grid?dag_id=mapped_example_dag&runs=366").status_code == 422


def test_pages_showing_an_active_run_refresh_themselves(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run("mapped_example_dag", "done", "success", [{"task_id": "generate", "state": "success"}])
    client = site.client("ada")
    instance = "/dags/instance?dag_id=mapped_example_dag&task_id=generate&run_id="
    for url in ("/dags", "/dags/grid?dag_id=mapped_example_dag", instance + "done"):
        assert 'data-live="0"' in client.get(url).text, url
    site.add_run("mapped_example_dag", "busy", "running", [{"task_id": "generate", "state": "running"}], offset_days=1)
    for url in (
        "/dags",
        "/dags/grid?dag_id=mapped_example_dag",
        "/dags/graph?dag_id=mapped_example_dag",
        instance + "busy",
    ):
        html = client.get(url).text
        assert 'data-live="1"' in html and 'id="live"' in html, url
    assert 'data-live="0"' in client.get(instance + "done").text


def test_instance_page_steps_to_neighbours_and_the_next_failed_index(site: Site) -> None:
    _mapped_run(site, states=("failed", "success", "success", "failed", "success"))
    client = site.client("ada")
    base = "/dags/instance?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&map_index="

    def steps(index: int) -> dict[str, str]:
        html = client.get(base + str(index)).text
        return dict(re.findall(r'rel="nofollow">[^a-z]*([a-z ]+?)[^a-z\[]*\[(\d+)\]</a>', html))

    assert steps(1) == {"previous": "0", "next": "2", "next failed": "3"}
    assert steps(3) == {"previous": "2", "next": "4", "next failed": "0"}  # wraps to the first
    assert steps(0) == {"next": "1", "next failed": "3"}
    assert (
        "next failed"
        not in client.get("/dags/instance?dag_id=mapped_example_dag&run_id=manual__1&task_id=generate").text
    )


def test_a_filter_that_matches_nothing_keeps_the_mapped_view(site: Site) -> None:
    _mapped_run(site, states=("success",))
    html = (
        site.client("ada")
        .get("/dags/grid?dag_id=mapped_example_dag&run_id=manual__1&task_id=process&state=failed")
        .text
    )
    assert "1 mapped instance" in html and "No instance matches this filter." in html
    assert ">all 1</a>" in html  # the way back to every instance
