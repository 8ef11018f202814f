"""The OpenAPI document is built from what each view declares: paths and path parameters from
the URL rules, the rest from the declarations; a route without one cannot be documented."""

from __future__ import annotations

import pytest
from flask import Flask
from pydantic import BaseModel

from api.web import contract
from api.web.errors import ApiError
from api.web.forms import LoginForm
from api.web.parsing import Text, body


class Greeting(BaseModel):
    name: Text(10, required=True)
    note: Text() = None


def _app() -> Flask:
    app = Flask(__name__)

    @app.post("/things/<int(max=99):thing_id>/<any(a, b):side>")
    @contract.operation("Greet a thing", body=Greeting, answer=Greeting, errors=("404",))
    def greet(thing_id: int, side: str) -> str:
        return ""

    @app.route("/login", methods=["GET", "POST"])
    @contract.page("The form", method="GET")
    @contract.page("Sign in", ("303", "422"), form=contract.form_schema(LoginForm), method="POST")
    def login() -> str:
        return ""

    contract.declare(app, "static", contract.operation("Files", content="*/*", secured=False, errors=()))
    return app


def test_the_document_is_read_off_the_rules_and_the_declarations():
    doc = contract.document(_app(), info={"title": "t", "version": "1"}, responses={"Problem": ("problem", "application/problem+json", {})}, enums={})
    greet = doc["paths"]["/things/{thing_id}/{side}"]["post"]
    assert [(p["name"], p["schema"]) for p in greet["parameters"]] == [
        ("thing_id", {"type": "integer", "minimum": 1, "maximum": 99}), ("side", {"type": "string", "enum": ["a", "b"]})]
    assert greet["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Greeting"}
    assert sorted(greet["responses"]) == ["200", "404", "422"]
    greeting = doc["components"]["schemas"]["Greeting"]
    assert greeting["required"] == ["name"]
    assert greeting["properties"]["note"] == {"type": "string", "maxLength": 2000, "pattern": contract.NO_NUL, "nullable": True, "default": None}
    login = doc["paths"]["/login"]
    assert login["get"]["summary"] == "The form" and sorted(login["post"]["responses"]) == ["303", "422"]
    form = login["post"]["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
    assert form["required"] == ["csrf_token", "password", "username"] and form["properties"]["username"]["maxLength"] == 64
    assert "/static/{filename}" in doc["paths"]


def test_a_route_without_a_contract_cannot_be_documented():
    app = _app()
    app.add_url_rule("/secret", "secret", lambda: "")
    with pytest.raises(LookupError, match="GET /secret"):
        contract.document(app, info={}, responses={}, enums={})


def test_a_body_is_parsed_by_its_model_naming_each_field():
    assert body({"name": "  ann ", "note": " "}, Greeting) == Greeting(name="ann", note=None)
    with pytest.raises(ApiError) as refused:
        body({"name": " ", "note": "a\x00"}, Greeting)
    assert refused.value.status == 422
    assert refused.value.errors == [{"field": "name", "message": "is required"}, {"field": "note", "message": "contains a NUL character"}]
