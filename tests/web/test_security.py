"""Login, roles, CSRF, escaping and ids that try to leave the logs folder (in process)."""

from __future__ import annotations

import re

import pytest
from webkit import PASSWORD, Site, csrf_of, mapped_dag

from tradewind.auth import delete_user, reset_password
from tradewind.store import dag_versions as dv
from tradewind.store import queries as q
from tradewind.store.engine import session_scope
from tradewind.store.models import User

PAGES = [
    "/dags",
    "/dags/grid?dag_id=mapped_example_dag",
    "/dags/grid?dag_id=mapped_example_dag&run_id=r1",
    "/dags/graph?dag_id=mapped_example_dag",
    "/dags/instance?dag_id=mapped_example_dag&run_id=r1&task_id=generate",
    "/dags/trigger?dag_id=mapped_example_dag",
]


def _with_run(site: Site) -> None:
    site.add_dag(mapped_dag())
    site.add_run(
        "mapped_example_dag",
        "r1",
        "failed",
        [
            {"task_id": "generate", "state": "success"},
            {"task_id": "process", "map_index": 0, "state": "success"},
            {"task_id": "process", "map_index": 1, "state": "failed", "error": "ValueError: bad item"},
        ],
    )


def _paused(site: Site, dag_id: str = "mapped_example_dag") -> bool:
    with session_scope(site.engine) as session:
        row = q.get_dag(session, dag_id)
        assert row is not None
        return row.is_paused


@pytest.mark.parametrize("url", PAGES)
def test_anonymous_visitor_is_sent_to_login(site: Site, url: str) -> None:
    _with_run(site)
    response = site.client().get(url)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=%2Fdags")


def test_anonymous_json_and_posts_change_nothing(site: Site) -> None:
    _with_run(site)
    client = site.client()
    log = client.get("/dags/log.json?dag_id=mapped_example_dag&run_id=r1&task_id=generate")
    assert log.status_code == 401 and "log in" in log.json()["detail"]
    response = client.post("/dags/pause", data={"dag_id": "mapped_example_dag", "paused": "1", "csrf_token": "x"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert _paused(site) is False
    assert client.get("/static/style.css").status_code == 200  # assets need no login
    assert client.get("/login").status_code == 200


def test_login_then_next_page_and_logout(site: Site) -> None:
    _with_run(site)
    client = site.client()
    start = client.get("/dags/grid?dag_id=mapped_example_dag")
    target = start.headers["location"]
    form = client.get(target)
    assert 'name="next" value="/dags/grid?dag_id=mapped_example_dag"' in form.text
    token = csrf_of(form.text)
    wrong = client.post("/login", data={"username": "ada", "password": "nope nope", "csrf_token": token})
    assert wrong.status_code == 401 and "Wrong user name or password." in wrong.text
    token = csrf_of(wrong.text)
    good = client.post(
        "/login",
        data={
            "username": "ada",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/dags/grid?dag_id=mapped_example_dag",
        },
    )
    assert good.status_code == 303 and good.headers["location"] == "/dags/grid?dag_id=mapped_example_dag"
    cookie = good.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie
    page = client.get("/dags")
    assert page.status_code == 200 and "ada" in page.text
    out = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/dags").status_code == 303


def test_login_form_needs_its_nonce_and_never_redirects_off_site(site: Site) -> None:
    client = site.client()
    client.get("/login")
    no_nonce = client.post("/login", data={"username": "ada", "password": PASSWORD})
    assert no_nonce.status_code == 403 and site.client().get("/dags").status_code == 303
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        token = csrf_of(client.get("/login").text)
        response = client.post(
            "/login", data={"username": "ada", "password": PASSWORD, "csrf_token": token, "next": evil}
        )
        assert response.status_code == 303 and response.headers["location"] == "/dags", evil
        client.cookies.clear()


def test_session_ends_when_password_changes_or_user_is_deleted(site: Site) -> None:
    client = site.client("ada")
    assert client.get("/dags").status_code == 200
    with session_scope(site.engine) as session:
        reset_password(session, "ada", "another long password")
    # the same second as the login still counts (tokens carry whole seconds): move the change on a year
    with session_scope(site.engine) as session:
        user = session.get(User, "ada")
        assert user is not None
        user.password_changed_at = user.password_changed_at.replace(year=user.password_changed_at.year + 1)
    assert client.get("/dags").status_code == 303
    viewer = site.client("vic")
    with session_scope(site.engine) as session:
        delete_user(session, "vic")
    assert viewer.get("/dags").status_code == 303


def test_post_without_or_with_a_foreign_csrf_token_is_refused(site: Site) -> None:
    _with_run(site)
    ada = site.client("ada")
    other = site.client("ada")  # a second session of the same user has its own token
    foreign = csrf_of(other.get("/dags").text)
    for token in ("", "0" * 64, foreign):
        response = ada.post("/dags/pause", data={"dag_id": "mapped_example_dag", "paused": "1", "csrf_token": token})
        assert response.status_code == 403 and "CSRF" in response.text
    assert _paused(site) is False
    own = csrf_of(ada.get("/dags").text)
    done = ada.post("/dags/pause", data={"dag_id": "mapped_example_dag", "paused": "1", "csrf_token": own})
    assert done.status_code == 303 and _paused(site) is True


def test_viewer_sees_no_actions_and_gets_403(site: Site) -> None:
    _with_run(site)
    vic = site.client("vic")
    for url in PAGES[:5]:
        html = vic.get(url).text
        assert 'action="/dags/clear"' not in html and 'action="/dags/pause"' not in html, url
        assert 'action="/dags/run-state"' not in html, url
        assert "/dags/trigger" not in html, url
    assert vic.get("/dags/trigger?dag_id=mapped_example_dag").status_code == 403
    token = csrf_of(vic.get("/dags").text)  # the logout form's
    posts = [
        ("/dags/pause", {"dag_id": "mapped_example_dag", "paused": "1"}),
        ("/dags/trigger", {"dag_id": "mapped_example_dag", "conf": "{}"}),
        ("/dags/clear", {"dag_id": "mapped_example_dag", "run_id": "r1", "task_id": "process", "map_index": "1"}),
        ("/dags/run-state", {"dag_id": "mapped_example_dag", "run_id": "r1", "state": "success"}),
    ]
    for path, data in posts:
        response = vic.post(path, data={**data, "csrf_token": token})
        assert response.status_code == 403 and "may only read" in response.text, path
    assert _paused(site) is False
    with session_scope(site.engine) as session:
        assert [r.run_id for r in q.list_dag_runs(session, "mapped_example_dag")] == ["r1"]
        states = {(t.task_id, t.map_index): t.state for t in q.list_task_instances(session, "mapped_example_dag", "r1")}
    assert states[("process", 1)] == "failed"


XSS = '<script>alert("x")</script>'
IMG = "<img src=x onerror=alert(1)>"


def test_ids_labels_conf_and_log_lines_are_escaped(site: Site) -> None:
    dag = mapped_dag()
    digest = site.add_dag(dag)
    # a DAG row and version whose id no DAG file could give (the store is the UI's only source)
    with session_scope(site.engine) as session:
        found = dv.get_version(session, "mapped_example_dag", digest)
        assert found is not None
        data = {**found[1], "dag_id": XSS, "description": IMG, "tags": [IMG]}
        dv.store_versions(
            session,
            "/dags/" + IMG + ".py",
            [dv.DagVersionInput(XSS, "f" * 64, data, "@daily", [IMG], 16, False)],
        )
    run_id = '"><svg onload=alert(2)>'
    site.add_run(
        XSS,
        run_id,
        "success",
        [
            {"task_id": "generate", "state": "success"},
            {"task_id": "process", "map_index": 0, "state": "failed", "rendered_map_index": IMG, "error": XSS},
        ],
        conf={"note": "</pre>" + XSS},
    )
    site.add_xcom(XSS, run_id, "process", 0, IMG)
    site.write_log(XSS, run_id, "process", 0, 1, f"[t] {{process}} INFO - {XSS}\n")
    ada = site.client("ada")
    pages = [
        "/dags",
        f"/dags/grid?dag_id={XSS}",
        f"/dags/grid?dag_id={XSS}&run_id={run_id}",
        f"/dags/grid?dag_id={XSS}&run_id={run_id}&task_id=process",
        f"/dags/graph?dag_id={XSS}",
        f"/dags/instance?dag_id={XSS}&run_id={run_id}&task_id=process&map_index=0",
        f"/dags/trigger?dag_id={XSS}",
        f"/dags/grid?dag_id={XSS}&run_id=nope{IMG}",
    ]
    for url in pages:
        response = ada.get(url, params=None)
        html = response.text
        assert response.status_code in (200, 404), url
        assert "<script>alert" not in html and "<img src=x" not in html and "<svg onload" not in html, url
        assert "Content-Security-Policy" in response.headers
    grid = ada.get(f"/dags/grid?dag_id={XSS}&run_id={run_id}&task_id=process").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in grid  # the label, shown as text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in grid  # the dag_id and the error
    instance = ada.get(f"/dags/instance?dag_id={XSS}&run_id={run_id}&task_id=process&map_index=0").text
    src = re.search(r'data-src="([^"]+)"', instance)
    assert src
    log = ada.get(src.group(1).replace("&amp;", "&"))
    assert log.headers["content-type"] == "application/json"
    assert XSS in log.json()["text"]  # JSON carries it; the page sets it with textContent


def test_ids_that_look_like_paths_never_read_outside_the_logs_folder(site: Site) -> None:
    site.add_dag(mapped_dag())
    sneaky = "../../../outside"
    site.add_run("mapped_example_dag", sneaky, "success", [{"task_id": "generate", "state": "success"}])
    # where a naive join of the ids would land
    planted = site.root / "outside" / "generate" / "-1" / "1.log"
    planted.parent.mkdir(parents=True)
    planted.write_text("SECRET outside the logs folder\n")
    ada = site.client("ada")
    response = ada.get(
        "/dags/log.json", params={"dag_id": "mapped_example_dag", "run_id": sneaky, "task_id": "generate", "try": 1}
    )
    assert response.status_code == 200
    body = response.json()
    assert "SECRET" not in body["text"] and "No log for try 1" in body["missing"]
    page = ada.get("/dags/instance", params={"dag_id": "mapped_example_dag", "run_id": sneaky, "task_id": "generate"})
    assert page.status_code == 200 and "SECRET" not in page.text
