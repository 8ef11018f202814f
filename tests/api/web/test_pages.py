"""The pages people use, through Flask's test client: the front door and the language switch,
staff sign-in with its limits, the citizens' report form (+1 on a report nearby, a receipt, the
progress page), the public board with the photos a dispatcher published, and the accounts."""

from __future__ import annotations

import gzip
import io
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from PIL import Image

from api.auth.accounts import set_active, set_password
from api.cli import main
from api.persistence.models import Photo, Report, Support
from tests.api.reports.test_reports import LAT, LON, REPORT, submit
from tests.support.pages import PASSWORD, account, csrf, sign_in, signed_in

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def jpeg(colour: tuple[int, int, int] = (180, 40, 30), size: tuple[int, int] = (640, 480), note: str = "") -> bytes:
    """A JPEG photo, with ``note`` in its EXIF description (metadata that must not survive)."""
    out = io.BytesIO()
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if note:
        exif[0x010E] = note
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def counts(app) -> tuple[int, int, int]:
    """Reports, photos and +1s stored."""
    with app.extensions["zonemap.db"].session() as session:
        return tuple(session.scalar(sa.select(sa.func.count()).select_from(table)) for table in (Report, Photo, Support))


def report_form(client, **fields) -> dict:
    """The form's fields as the page gives them (its CSRF token and key), with ``fields`` filled in."""
    html = client.get("/report").get_data(as_text=True)
    client_ref = re.search(r'id="client_ref" name="client_ref" type="hidden" value="([0-9a-f]+)"', html).group(1)
    return {"csrf_token": csrf(html), "client_ref": client_ref, "crs": "wgs84", "lon": str(LON), "lat": str(LAT), "accuracy_m": "8",
            "category": "litter", "description": "路口垃圾堆了两天", "phone": "13912345678", **fields}


def send(client, form: dict, photos: list[bytes] | None = None):
    data = {**form, "photos": [(io.BytesIO(p), f"p{n}.jpg") for n, p in enumerate([jpeg()] if photos is None else photos)]}
    return client.post("/report", data=data, content_type="multipart/form-data")


def test_front_door_in_chinese_with_an_english_switch(client):
    page = client.get("/").get_data(as_text=True)
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page
    for link, text in (('href="/report"', "我要反映"), ('href="/public"', "晾晒台"), ('href="/login"', "工作人员登录")):
        assert link in page and text in page
    assert "城阳区" in page
    switched = client.get("/language/en?next=/public")
    assert switched.status_code == 303 and switched.headers["Location"] == "/public"
    assert "Public board: fixed and published" in client.get("/public").get_data(as_text=True)  # the cookie holds
    assert client.get("/language/en?next=https://evil.example/").headers["Location"] == "/"  # never to another site
    assert "我要反映" in client.get("/?lang=zh").get_data(as_text=True)


def test_each_role_signs_in_to_its_own_console(app, client):
    for username, role, unit, console in (("wang", "dispatcher", None, "/console/dispatch"), ("li", "planner", None, "/console/plan"),
                                          ("hw", "unit", "HW01", "/console/unit"), ("root", "admin", None, "/admin/users")):
        account(app, username, role, unit)
        landed = sign_in(client, username)
        assert landed.status_code == 303 and landed.headers["Location"] == "/console"
        [cookie] = [c for c in landed.headers.getlist("Set-Cookie") if c.startswith("zonemap_session=")]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
        assert client.get("/console").headers["Location"] == console
        assert client.get(console).status_code == 200, console
        token = csrf(client.get("/").get_data(as_text=True))
        assert client.post("/logout", data={"csrf_token": token}).status_code == 303
        assert client.get("/console").headers["Location"] == "/login?next=/console"
    back = sign_in(client, "wang", next_path="/units/P06")
    assert back.headers["Location"] == "/units/P06"
    assert sign_in(client, "wang", next_path="//evil.example/x").headers["Location"] == "/console"


def test_a_citizen_without_gps_finds_the_spot_by_name(client):
    found = client.get("/report/places?place=zyj").get_data(as_text=True)  # pinyin initials of 正阳街
    links = re.findall(r'<a class="place" href="(/report\?lon=[\d.]+&amp;lat=[\d.]+)" data-lon="([\d.]+)" data-lat="([\d.]+)">([^<]+)</a>', found)
    assert links and links[0][3] == "正阳街" and "道路 · " in found
    assert "没有找到" in client.get("/report/places?place=不存在的路名").get_data(as_text=True)
    assert client.get("/report/places?place=").get_data(as_text=True).strip() == ""
    # Without scripts: the search comes back to the form with the places, and one chosen fills the spot in.
    page = client.get("/report?place=正阳街").get_data(as_text=True)
    assert 'value="正阳街"' in page and ">正阳街</a>" in page
    href, lon, lat, _name = links[0]
    chosen = client.get(href.replace("&amp;", "&")).get_data(as_text=True)
    assert f'value="{lon}"' in chosen and f'value="{lat}"' in chosen
    assert 'value="abc"' not in client.get("/report?lon=abc&lat=36.3").get_data(as_text=True)  # not a number: nothing filled in


@SQLITE
def test_wrong_password_and_missing_form_token_are_clear_pages_in_chinese(app, client):
    account(app, "wang", "dispatcher")
    wrong = sign_in(client, "wang", "not the password")
    assert wrong.status_code == 200 and "用户名或密码错误" in wrong.get_data(as_text=True)
    assert client.get("/console/dispatch").status_code == 302  # not signed in
    forged = client.post("/login", data={"username": "wang", "password": PASSWORD})
    assert forged.status_code == 400 and forged.mimetype == "text/html"
    assert "表单缺少安全令牌" in forged.get_data(as_text=True)
    assert client.get("/console/dispatch").status_code == 302
    with app.extensions["zonemap.db"].session() as session:
        assert session.scalar(sa.text("SELECT last_login_at FROM users WHERE username = 'wang'")) is None


@SQLITE
def test_sign_in_attempts_are_limited(app, client):
    app.config["LOGIN_LIMIT"] = "3 per minute"
    account(app, "wang", "dispatcher")
    for _ in range(3):
        assert "用户名或密码错误" in sign_in(client, "wang", "guess").get_data(as_text=True)
    blocked = sign_in(client, "wang")  # even the right password, until the window passes
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0
    assert "操作过于频繁" in blocked.get_data(as_text=True)


def _from(app, address: str):
    """A browser of its own at ``address``."""
    client = app.test_client()
    client.environ_base["REMOTE_ADDR"] = address
    return client


@SQLITE
def test_failures_from_elsewhere_do_not_lock_out_a_browser_that_signed_in_before(app, client):
    account(app, "wang", "dispatcher")
    assert sign_in(client, "wang").status_code == 303  # this browser now holds a device cookie for wang
    client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))})
    for attempt in range(20):  # an attacker from 20 addresses
        stranger = _from(app, f"203.0.113.{attempt}")
        assert sign_in(stranger, "wang", "guess").status_code in (200, 429)
    assert sign_in(_from(app, "198.51.100.7"), "wang").status_code == 429  # unknown: locked
    assert sign_in(client, "wang").status_code == 303  # the known browser: its own allowance
    admin = signed_in(app, app.test_client(), "admin")
    assert admin.post("/admin/users/wang/unlock", data={"csrf_token": csrf(admin.get("/admin/users").get_data(as_text=True))}).status_code == 303
    assert sign_in(_from(app, "198.51.100.8"), "wang").status_code == 303  # unlocked


@SQLITE
def test_parallel_failures_are_each_counted_before_the_password_is_checked(app):
    account(app, "wang", "dispatcher")
    clients = [_from(app, f"203.0.113.{n}") for n in range(40)]
    forms = [{"username": "wang", "password": "guess", "csrf_token": csrf(c.get("/login").get_data(as_text=True))} for c in clients]
    with ThreadPoolExecutor(40) as pool:
        statuses = list(pool.map(lambda pair: pair[0].post("/login", data=pair[1]).status_code, zip(clients, forms, strict=True)))
    assert sorted(statuses) == [200] * 10 + [429] * 30  # ten passwords checked (the account's allowance), thirty refused unchecked


@SQLITE
def test_a_disabled_account_or_a_new_password_ends_the_session(app, client):
    signed_in(app, client, "dispatcher")
    assert client.get("/console/dispatch").status_code == 200
    with app.extensions["zonemap.db"].session() as session:
        set_password(session, "dispatcher-x", "another password")
    assert client.get("/console/dispatch").headers["Location"] == "/login?next=/console/dispatch"
    assert sign_in(client, "dispatcher-x", "another password").status_code == 303
    with app.extensions["zonemap.db"].session() as session:
        set_active(session, "dispatcher-x", False)
    assert client.get("/console/dispatch").headers["Location"] == "/login?next=/console/dispatch"
    assert "用户名或密码错误" in sign_in(client, "dispatcher-x", "another password").get_data(as_text=True)


def _session_cookie(client) -> str:
    return client.get_cookie("zonemap_session").value


@SQLITE
def test_a_session_ends_on_the_server_wherever_its_cookie_was_copied(app, client):
    signed_in(app, client, "dispatcher")
    copied = _session_cookie(client)
    thief = app.test_client()
    thief.set_cookie("zonemap_session", copied)
    assert thief.get("/console/dispatch").status_code == 200
    assert client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))}).status_code == 303
    assert thief.get("/console/dispatch").headers["Location"] == "/login?next=/console/dispatch"  # signed out everywhere
    sign_in(client, "dispatcher-x")
    copied = _session_cookie(client)
    with app.extensions["zonemap.db"].session() as session:
        set_active(session, "dispatcher-x", False)
        set_active(session, "dispatcher-x", True)
    thief.set_cookie("zonemap_session", copied)
    assert thief.get("/console/dispatch").status_code == 302  # enabling again does not revive a session
    assert client.get("/console/dispatch").status_code == 302
    assert sign_in(client, "dispatcher-x").status_code == 303 and client.get("/console/dispatch").status_code == 200


@SQLITE
def test_the_form_token_is_new_after_sign_in(app, client):
    account(app, "wang", "dispatcher")
    before = csrf(client.get("/login").get_data(as_text=True))
    sign_in(client, "wang")
    assert client.post("/logout", data={"csrf_token": before}).status_code == 400  # the token of the page before is dead
    assert client.post("/logout", data={"csrf_token": csrf(client.get("/").get_data(as_text=True))}).status_code == 303


@SQLITE
def test_a_unit_gets_a_403_page_not_json_on_the_dispatch_console(app, client):
    signed_in(app, client, "unit", "HW01")
    page = client.get("/console/dispatch")
    assert page.status_code == 403 and page.mimetype == "text/html"
    assert "无权访问" in page.get_data(as_text=True)
    assert client.get("/units/P06").status_code == 403  # another unit's page
    assert client.get("/units/HW01").headers["Location"] == "/console/unit"  # its own: its console
    assert client.get("/console/unit").status_code == 200


def test_a_citizen_reports_from_the_form_and_follows_it(app, client):
    form = report_form(client)
    sent = send(client, form, [jpeg(note="GPS 36.31N 120.40E SECRET-EXIF")])
    assert sent.status_code == 303
    ref = re.fullmatch(r"/r/([0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4})\?new=1", sent.headers["Location"]).group(1)
    receipt = client.get(sent.headers["Location"]).get_data(as_text=True)
    assert "您的反映已收到" in receipt and ref in receipt and f'href="/r/{ref}"' in receipt
    assert "青岛金海物业服务有限公司" in receipt and "已派单" in receipt  # routed to P06 and dispatched at once
    for private in ("13912345678", "路口垃圾", str(LON)):
        assert private not in receipt
    with app.extensions["zonemap.db"].session() as session:
        report = session.scalar(sa.select(Report).where(Report.public_ref == ref))
        assert (report.unit_id, report.source, report.reporter_contact, report.accuracy_m) == ("P06", "citizen", "13912345678", 8.0)
        [photo] = session.scalars(sa.select(Photo)).all()
        assert report.photos == [f"/api/v1/photos/{photo.id}"]
        assert b"SECRET-EXIF" not in photo.data and photo.thumb
    again = send(client, form)  # a double tap sends the same form twice: one report
    assert again.headers["Location"] == sent.headers["Location"]
    assert counts(app)[0] == 1
    assert client.get(f"/r?ref={ref.lower().replace('-', '')}").headers["Location"] == f"/r/{ref}"
    assert client.get("/r/0000-0000-0000").status_code == 404


@SQLITE
def test_a_form_with_errors_says_what_in_chinese_and_stores_nothing(app, client):
    app.config["MAX_PHOTO_BYTES"] = 60_000
    cases = [
        ({}, [], "请至少拍一张照片"),
        ({}, [jpeg(size=(2400, 1800)) + b"\0" * 60_000], "超过 0 MB"),  # over the (lowered) limit
        ({}, [b"this is not a picture"], "无法识别为图片"),
        ({"lon": ""}, None, "请在地图上标出位置"),
        ({"category": ""}, None, "请选择问题类别"),
        ({"phone": "call me"}, None, "请填写数字组成的电话号码"),
    ]
    for fields, photos, message in cases:
        page = send(client, report_form(client, **fields), photos)
        assert page.status_code == 422, message
        assert message in page.get_data(as_text=True), message
    assert counts(app) == (0, 0, 0)


def test_an_open_report_nearby_is_offered_and_joined(app, client):
    first = send(client, report_form(client))
    ref = first.headers["Location"].split("/")[2].split("?")[0]
    check = client.get(f"/report/check?lon={LON + 0.0001}&lat={LAT}&category=litter&crs=wgs84").get_data(as_text=True)
    assert "附近已有人反映" in check and f'value="{ref}"' in check and "相距约 9 米" in check
    assert "附近已有人反映" not in client.get(f"/report/check?lon={LON}&lat={LAT}&category=illegal_ads").get_data(as_text=True)
    twin = send(client, report_form(client)).headers["Location"].split("/")[2].split("?")[0]  # another at the very same spot: a tie
    both = client.get(f"/report/check?lon={LON}&lat={LAT}&category=litter").get_data(as_text=True)
    assert both.index(f'value="{ref}"') < both.index(f'value="{twin}"') and "相距约 0 米" in both
    assert "附近已有人反映" not in client.get(f"/report/check?lon={LON + 0.001}&lat={LAT}&category=litter").get_data(as_text=True)  # ~90 m
    joined = send(client, report_form(client, join=ref, phone="13700001111"), photos=[])
    assert joined.headers["Location"] == f"/r/{ref}?joined=1"
    assert "现在共有 2 人反映" in client.get(joined.headers["Location"]).get_data(as_text=True)
    assert counts(app)[0::2] == (2, 1)  # two reports, one +1
    with app.extensions["zonemap.db"].session() as session:
        assert session.scalar(sa.select(Support.reporter_contact)) == "13700001111"


def test_the_public_board_shows_published_cases_with_the_photos_a_dispatcher_chose(app, client, tokens):
    exact = LON + 0.0000371
    sent = send(client, report_form(client, lon=str(exact)), [jpeg((200, 30, 30))])
    ref = sent.headers["Location"].split("/")[2].split("?")[0]
    report = client.get("/api/v1/reports?limit=5", headers=tokens["dispatcher"]).get_json()["items"][0]
    before = report["photos"][0]
    after = client.post("/api/v1/photos", data={"photo": (io.BytesIO(jpeg((30, 160, 60))), "after.jpg")}, headers=tokens["unit_a"],
                        content_type="multipart/form-data").get_json()["url"]
    move = f"/api/v1/reports/{report['id']}/transitions"
    assert client.post(move, json={"action": "rectify", "evidence": [after]}, headers=tokens["unit_a"]).status_code == 200
    assert client.post(move, json={"action": "verify"}, headers=tokens["dispatcher"]).status_code == 200
    assert client.get(f"/public/{ref}").status_code == 404  # not published yet
    assert client.get(after).status_code == 401  # nor its photos
    assert client.post(move, json={"action": "publish", "public_photos": ["/api/v1/photos/elsewhere"]}, headers=tokens["dispatcher"]).status_code == 422
    assert client.post(move, json={"action": "publish"}, headers=tokens["dispatcher"]).status_code == 200  # the fix's photo only
    board = client.get("/public").get_data(as_text=True)
    assert "已公开 1 件" in board and f'href="/public/{ref}"' in board and "青岛金海物业服务有限公司 用时 1 小时 整改完成" in board
    assert f'src="{after}?size=small"' in board and before not in board and "反映人的照片未公开" in board
    for private in ("13912345678", "路口垃圾", str(exact)[:9]):
        assert private not in board
    assert f'"lon": {round(exact, 4)}' in board  # about ten metres
    small = client.get(f"{after}?size=small")
    assert small.status_code == 200 and small.mimetype == "image/jpeg" and max(Image.open(io.BytesIO(small.data)).size) <= 480
    assert client.get(after).status_code == 200 and client.get(before).status_code == 401  # anyone: the fix; the reporter's: staff only
    case = client.get(f"/public/{ref}").get_data(as_text=True)
    assert "青岛金海物业服务有限公司" in case and re.search(r"\d{4}-\d{2}-\d{2}", case) and not re.search(r"\d{2}:\d{2}", case)  # the day only
    area = report["decision"]["area_id"]
    assert "已公开 1 件" in client.get(f"/public?area={area}&group=环境卫生&period=7d").get_data(as_text=True)
    assert "已公开 0 件" in client.get("/public?group=园林绿化").get_data(as_text=True)
    assert "已公开 0 件" in client.get("/public?area=370214002000").get_data(as_text=True)


@SQLITE
def test_a_dispatcher_may_publish_the_reporters_photo_too(app, client, tokens):
    send(client, report_form(client))
    report = client.get("/api/v1/reports?limit=5", headers=tokens["dispatcher"]).get_json()["items"][0]
    move = f"/api/v1/reports/{report['id']}/transitions"
    for action in ("rectify", "verify"):
        client.post(move, json={"action": action}, headers=tokens["dispatcher"])
    assert client.post(move, json={"action": "publish", "public_photos": report["photos"]}, headers=tokens["dispatcher"]).status_code == 200
    assert client.get(report["photos"][0]).status_code == 200
    assert client.post(f"/api/v1/reports/{report['id']}/transitions", json={"action": "verify", "public_photos": []},
                       headers=tokens["dispatcher"]).status_code == 422  # photos are published by publish alone


@SQLITE
def test_times_are_shown_in_shanghai(app, client):
    send(client, report_form(client))
    with app.extensions["zonemap.db"].session() as session:
        report = session.scalar(sa.select(Report))
        report.created_at = datetime(2026, 12, 1, 11, 16, 42, 123456, tzinfo=UTC)
        ref = report.public_ref
    page = client.get(f"/r/{ref}").get_data(as_text=True)
    assert "2026-12-01 19:16" in page and "11:16" not in page and "42.123" not in page


@SQLITE
def test_staff_pages_name_units_and_categories(app, client, tokens):
    submit(client, tokens["public"], {**REPORT, "accuracy_m": 80})  # an ambiguous location: the dispatcher's queue
    signed_in(app, client, "dispatcher")
    page = client.get("/console/dispatch").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", " ", page)  # what a person reads: codes only in attributes
    assert "垃圾杂物乱堆乱放" in text and "litter" not in text
    assert "青岛金海物业服务有限公司（P06）" in text and "dispatched" not in text
    english = client.get("/console/dispatch?lang=en").get_data(as_text=True)
    assert "Litter and dumped rubbish" in english and "Location uncertain" in english


@SQLITE
def test_an_administrator_manages_accounts(app, client):
    signed_in(app, client, "admin")
    token = csrf(client.get("/admin/users").get_data(as_text=True))
    made = client.post("/admin/users", data={"csrf_token": token, "username": "zhao", "role": "unit", "unit_id": "HW01", "password": "long enough"})
    assert made.status_code == 303
    refused = client.post("/admin/users", data={"csrf_token": token, "username": "qian", "role": "unit", "unit_id": "NOWHERE", "password": "long enough"})
    assert refused.status_code == 422 and "单位账号须填写当前责任区图层中的单位编码" in refused.get_data(as_text=True)
    assert client.post("/admin/users/zhao/disable", data={"csrf_token": token}).status_code == 303
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "zhao" in listing and "已停用" in listing and "qian" not in listing
    other = app.test_client()
    assert "用户名或密码错误" in sign_in(other, "zhao", "long enough").get_data(as_text=True)


@SQLITE
def test_user_commands(app, monkeypatch):
    monkeypatch.setenv("ZONEMAP_DATA_DIR", app.config["DATA_DIR"])
    monkeypatch.setenv("ZONEMAP_LAYER_DIR", app.config["LAYER_DIR"])
    monkeypatch.setenv("DATABASE_URL", app.config["DATABASE_URL"])
    runner = CliRunner()
    made = runner.invoke(main, ["user", "create", "sun", "--role", "unit", "--unit", "HW01", "--password-stdin"], input="a good password\n")
    assert made.exit_code == 0, made.output
    assert runner.invoke(main, ["user", "create", "sun", "--role", "planner", "--password-stdin"], input="another one\n").exit_code == 2
    assert "at least 8" in runner.invoke(main, ["user", "create", "zhou", "--role", "planner", "--password-stdin"], input="short\n").output
    assert "sun\tunit\tHW01\tactive" in runner.invoke(main, ["user", "list"]).output
    assert runner.invoke(main, ["user", "disable", "sun"]).exit_code == 0
    assert "sun\tunit\tHW01\tdisabled" in runner.invoke(main, ["user", "list"]).output
    assert runner.invoke(main, ["user", "enable", "sun"]).exit_code == 0
    assert runner.invoke(main, ["user", "password", "sun", "--password-stdin"], input="a new password\n").exit_code == 0
    assert runner.invoke(main, ["user", "disable", "nobody"]).exit_code == 2
    client = app.test_client()
    assert "用户名或密码错误" in sign_in(client, "sun", "a good password").get_data(as_text=True)
    assert sign_in(client, "sun", "a new password").headers["Location"] == "/console"
    assert runner.invoke(main, ["user", "disable", "sun"]).exit_code == 0
    with app.extensions["zonemap.db"].session() as session:
        stored = session.scalar(sa.text("SELECT password_hash FROM users WHERE username = 'sun'"))
    assert stored.startswith("scrypt:") and "a good password" not in stored


def test_the_catalogue_translates_every_message():
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    from api.web.i18n import CATALOGUES

    root = CATALOGUES.parents[1]  # the api package
    method_map = [("**/templates/**.html", "jinja2"), ("**.py", "python")]
    wanted = {message for _file, _line, message, _comments, _context
              in extract_from_dir(root, method_map, keywords={"_": None, "_l": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)})}
    with (CATALOGUES / "zh" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalogue = read_po(handle)
    translated = {m.id for m in catalogue if m.id and m.string and all(m.string if isinstance(m.string, tuple) else [m.string]) and "fuzzy" not in m.flags}
    assert not wanted - translated, sorted(wanted - translated)


@SQLITE
def test_scripts_styles_and_the_streets_layer_are_sent_compressed(client):
    for path in ("/assets/leaflet/leaflet.js", "/assets/htmx/htmx.min.js", "/static/site.css", "/maps/orientation.geojson"):
        plain = client.get(path)
        packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate"})
        assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"], path
        assert gzip.decompress(packed.data) == plain.data and len(packed.data) < len(plain.data) / 2, path
        plain.close()
        packed.close()


@SQLITE
def test_a_session_reads_the_api_but_never_writes_through_it(app, client, tokens):
    report_id = submit(client, tokens["public"]).get_json()["id"]
    signed_in(app, client, "dispatcher")
    assert client.get(f"/api/v1/reports/{report_id}").status_code == 200  # a signed-in browser may read
    for path, body in (("/api/v1/reports", REPORT), (f"/api/v1/reports/{report_id}/transitions", {"action": "reject", "note": "x"})):
        assert client.post(path, json=body).status_code == 401  # another site could make the browser post this: a token is needed
    assert client.get(f"/api/v1/reports/{report_id}", headers=tokens["dispatcher"]).get_json()["state"] == "dispatched"


@SQLITE
def test_the_pages_maps_take_configured_tiles(database_url, demo_files, tmp_path):
    from api import create_app
    from api.layers.live import stop_jobs

    config = {"DATA_DIR": str(tmp_path), "DATABASE_URL": database_url, "LAYER_DIR": str(demo_files.root), "TESTING": True}
    apps = [create_app(config), create_app({**config, "TILE_URL": "http://tiles.intranet:8080/{z}/{x}/{y}.png"})]
    offline, tiled = apps[0].test_client().get("/report"), apps[1].test_client().get("/public")
    assert 'data-tiles=""' in offline.get_data(as_text=True) and "img-src 'self' data: blob:;" in offline.headers["Content-Security-Policy"]
    assert 'data-tiles="http://tiles.intranet:8080/{z}/{x}/{y}.png"' in tiled.get_data(as_text=True)
    assert "img-src 'self' data: blob: http://tiles.intranet:8080;" in tiled.headers["Content-Security-Policy"]
    for app in apps:
        stop_jobs(app)
        app.extensions["zonemap.db"].engine.dispose()
    with pytest.raises(ValueError, match="BASEMAP must be one of osm, tianditu, local"):
        create_app({**config, "BASEMAP": "amap"})


def test_a_next_path_with_a_line_break_is_a_bad_request(app, client):
    assert client.get("/language/en?next=/public%0D%0ASet-Cookie:%20x=1").status_code == 400
    account(app, "wang", "dispatcher")
    token = csrf(client.get("/login").get_data(as_text=True))
    refused = client.post("/login", data={"username": "wang", "password": PASSWORD, "csrf_token": token, "next": "/console\r\nSet-Cookie: x=1"})
    assert refused.status_code == 400 and "Location" not in refused.headers
    assert not any(cookie.startswith("x=") for cookie in refused.headers.getlist("Set-Cookie"))


def test_an_error_page_links_back_only_to_this_site(client):
    page = client.get("/public/nothing-here", headers={"Referer": "http://localhost//evil.example/x"}).get_data(as_text=True)
    assert "evil.example" not in page
    page = client.get("/public/nothing-here", headers={"Referer": "http://localhost/public?page=2"}).get_data(as_text=True)
    assert 'href="/public"' in page
