"""Each view's contract, declared beside the view, and the OpenAPI document built from them.

A JSON endpoint declares itself with `operation`, a page with `page`: what it takes (query
parameters, a body or a form) and what it answers. Bodies and answers are pydantic models (or
dataclasses), the same ones that parse the JSON bodies (`api.web.parsing.body`). The document
walks the app's URL rules: paths and their parameters come from the rules' converters, the rest
from the declarations, so a route without one is an error of the document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar, get_args, get_origin

from flask import Flask
from flask_wtf import FlaskForm
from pydantic import TypeAdapter
from werkzeug.routing import AnyConverter, IntegerConverter, Rule
from wtforms import FileField, FloatField, IntegerField, MultipleFileField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length

JSON = "application/json"
GEOJSON = "application/geo+json"
NO_NUL = "^[^\u0000]*$"  # no text column stores a NUL character
#: Placeholders for values that change with the layer or the settings, filled as the document is built.
CATEGORIES = {"x-enum": "categories"}  # the current layer's category codes
BASEMAPS = {"x-enum": "basemaps"}  # the basemaps the maps offer
PAGE_STATUSES = {
    "200": "The page", "202": "Still being computed: ask again after Retry-After",
    "301": "Moved: to the page that replaced it", "302": "Not signed in: to the sign-in form", "303": "Done: to the next page",
    "400": "A page saying what was wrong (a form without its CSRF token, say)", "401": "A page asking to sign in", "403": "A page saying this role may not",
    "404": "A page saying there is no such thing", "405": "A page saying the page cannot be used that way",
    "409": "The page again, saying the thing is no longer in a state to allow it", "413": "A page saying the upload is too large",
    "422": "The form again, saying what to correct", "429": "A page saying to wait (Retry-After)", "503": "A page saying to try again shortly (Retry-After)",
}
Schema = Any  # a model or dataclass (a component of the document), a tuple of them (all of), list[model], or a JSON schema
View = TypeVar("View", bound=Callable[..., Any])


@dataclass(frozen=True)
class Param:
    """A query, header or path parameter."""

    name: str
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "string"})
    where: str = "query"
    required: bool = False
    description: str = ""

    def spec(self) -> dict[str, Any]:
        """The parameter object of the document."""
        out = {"name": self.name, "in": self.where, "required": self.required or self.where == "path", "schema": self.schema}
        return {**out, "description": self.description} if self.description else out


def query(name: str, kind: str = "string", *, required: bool = False, description: str = "", **schema: Any) -> Param:
    """A query parameter of type ``kind`` with more of its schema (``enum``, ``maximum``, ...)."""
    return Param(name, {"type": kind, **schema}, required=required, description=description)


@dataclass(frozen=True)
class Operation:
    """What one method of one route takes and answers."""

    summary: str
    responses: Mapping[str, tuple[str, Mapping[str, Schema | None]]]  # status → (description, media type → schema)
    params: tuple[Param, ...] = ()
    body: Mapping[str, Schema] | None = None  # media type → schema
    secured: bool = True
    path: Mapping[str, Param] = field(default_factory=dict)  # path parameters told more precisely than their converter


def _declare(view: View, method: str | None, op: Operation) -> View:
    view.__dict__.setdefault("contracts", {})[method or "*"] = op
    return view


def operation(summary: str, *, answer: Schema | None = None, status: str = "200", content: str | tuple[str, ...] = JSON, body: Schema | None = None,
              body_type: str = JSON, params: Iterable[Param] = (), errors: Iterable[str] = ("401", "403", "404", "422"), error: str = "Problem",
              secured: bool = True, method: str | None = None, also: Mapping[str, str] | None = None,
              path: Mapping[str, Param] | None = None) -> Callable[[View], View]:
    """Declare a JSON (or file) endpoint: it answers ``answer`` with ``status``, and ``errors``
    as problem details (``error``: a component of `responses`); any value holding a NUL character
    is refused, so 422 (400 for Open311) is always among them. ``also``: more successful
    statuses answering the same, with their descriptions."""
    refused = "400" if error == "Open311Errors" else "422"
    answers = {media: answer for media in ((content,) if isinstance(content, str) else content)}
    responses: dict[str, tuple[str, Mapping[str, Schema | None]]] = {status: ("OK", answers)}
    for code, description in (also or {}).items():
        responses[code] = (description, answers)
    for code in (*errors, refused):
        responses[code] = ("#" + error, {})
    op = Operation(summary, responses, tuple(params), {body_type: body} if body is not None else None, secured, path or {})
    return lambda view: _declare(view, method, op)


def form_schema(form: type[FlaskForm], **more: dict[str, Any]) -> dict[str, Any]:
    """The schema of a posted form, read off its WTForms class (its CSRF token included);
    ``more``: fields the view reads beside the class's (repeated checkboxes, files)."""
    properties: dict[str, Any] = {"csrf_token": {"type": "string"}}
    required = ["csrf_token"]
    for name, unbound in sorted(vars(form).items()):
        if not isinstance(unbound, UnboundField):
            continue
        kind = unbound.field_class
        schema: dict[str, Any] = ({"type": "number"} if issubclass(kind, FloatField) else {"type": "integer"} if issubclass(kind, IntegerField)
                                  else {"type": "array", "items": {"type": "string", "format": "binary"}} if issubclass(kind, MultipleFileField)
                                  else {"type": "string", "format": "binary"} if issubclass(kind, FileField) else {"type": "string"})
        validators = unbound.kwargs.get("validators", [])
        for validator in validators:
            if isinstance(validator, Length) and validator.max > 0 and schema["type"] == "string":
                schema["maxLength"] = validator.max
        if any(isinstance(v, DataRequired | InputRequired) for v in validators):
            required.append(name)
        properties[name] = schema
    return {"type": "object", "required": required, "properties": {**properties, **more}}


def page(summary: str, codes: Iterable[str] = ("200",), *, params: Iterable[Param] = (), form: Schema | None = None, multipart: bool = False,
         data: bool = False, download: str | None = None, method: str | None = None, path: Mapping[str, Param] | None = None) -> Callable[[View], View]:
    """Declare a page for people (HTML): every answer, errors included, is a page in the reader's
    language. ``form``: what it takes when posted (`form_schema`). ``data``: the JSON a page's
    script fetches (with the page's session or a token). ``download``: the media type of the file
    it answers instead of a page."""
    responses: dict[str, tuple[str, Mapping[str, Schema | None]]] = {code: (PAGE_STATUSES[code], {"text/html": None}) for code in codes}
    if data:
        summary += " (a session or a token)"
        responses["200"] = ("OK", {JSON: {}})
    if download:
        responses["200"] = ("The file (an attachment)", {download: {"type": "string", "format": "binary"}})
    lang = query("lang", description="the page's language: zh or en (anything else: the language cookie, else Chinese)")
    body = {"multipart/form-data" if multipart else "application/x-www-form-urlencoded": form} if form is not None else None
    op = Operation(summary, responses, (lang, *params), body, False, path or {})
    return lambda view: _declare(view, method, op)


def declare(app: Flask, endpoint: str, decorator: Callable[[Any], Any]) -> None:
    """Declare the contract of a view the app did not write (Flask's static files)."""

    def view() -> None: ...

    app.extensions.setdefault("contracts", {})[endpoint] = decorator(view).contracts


def _path_params(rule: Rule, told: Mapping[str, Param]) -> list[dict[str, Any]]:
    out = []
    for name, converter in rule._converters.items():
        if name in told:
            out.append(Param(name, told[name].schema, "path", description=told[name].description).spec())
        elif isinstance(converter, IntegerConverter):
            bounds = {"minimum": max(converter.min or 0, 1), **({"maximum": converter.max} if converter.max else {})}
            out.append(Param(name, {"type": "integer", **bounds}, "path").spec())
        elif isinstance(converter, AnyConverter):
            out.append(Param(name, {"type": "string", "enum": sorted(converter.items)}, "path").spec())
        else:
            out.append(Param(name, {"type": "string", "pattern": NO_NUL}, "path").spec())
    return out


class _Components:
    """The models an operation names, each turned into one schema component."""

    def __init__(self, enums: Mapping[str, Iterable[str]]) -> None:
        self.models: dict[str, Any] = {}
        self.enums = enums

    def ref(self, schema: Schema | None) -> dict[str, Any]:
        if schema is None:
            return {}
        if isinstance(schema, dict):
            return schema
        if isinstance(schema, tuple):
            return {"allOf": [self.ref(part) for part in schema]}
        if get_origin(schema) is list:
            return {"type": "array", "items": self.ref(get_args(schema)[0])}
        self.models.setdefault(schema.__name__, schema)
        return {"$ref": f"#/components/schemas/{schema.__name__}"}

    def filled(self, schema: Any) -> Any:
        """``schema`` with each ``x-enum`` placeholder replaced by the values it names."""
        if isinstance(schema, list):
            return [self.filled(s) for s in schema]
        if not isinstance(schema, dict):
            return schema
        out = {key: self.filled(value) for key, value in schema.items() if key != "x-enum"}
        if "x-enum" in schema:
            out["enum"] = list(self.enums[schema["x-enum"]])
        return out

    def schemas(self) -> dict[str, Any]:
        adapters = [(name, "serialization", TypeAdapter(model)) for name, model in self.models.items()]
        keys, top = TypeAdapter.json_schemas(adapters, ref_template="#/components/schemas/{model}") if adapters else ({}, {})
        out = {name: openapi30(schema) for name, schema in top.get("$defs", {}).items()}
        for (name, _mode), schema in keys.items():
            if "$ref" not in schema:
                out[name] = openapi30(schema)
        return dict(sorted(out.items()))


def openapi30(schema: Any) -> Any:
    """A JSON Schema of pydantic (2020-12) in the dialect of OpenAPI 3.0: ``null`` as
    ``nullable``, ``const`` as a one-value ``enum``, no titles."""
    if isinstance(schema, list):
        return [openapi30(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or key == "examples":
            continue
        if key in ("properties", "$defs", "mapping"):
            out[key] = {name: openapi30(v) for name, v in value.items()}
        elif key == "const":
            out["enum"] = [value]
        else:
            out[key] = openapi30(value)
    for alternatives in ("anyOf", "oneOf"):
        options = out.get(alternatives)
        if options and {"type": "null"} in options:
            rest = [o for o in options if o != {"type": "null"}]
            del out[alternatives]
            inner = rest[0] if len(rest) == 1 else {alternatives: rest}
            out = {**({"allOf": [inner]} if "$ref" in inner else inner), **out, "nullable": True}
    if out.get("enum") and None in out["enum"]:
        out["nullable"] = True
    if out.get("nullable") and "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]  # in OpenAPI 3.0 an enum wins over nullable
    return out


def _response(description: str, contents: Mapping[str, Schema | None], components: _Components) -> dict[str, Any]:
    if description.startswith("#"):
        return {"$ref": f"#/components/responses/{description[1:]}"}
    content = {media: ({"schema": components.ref(schema)} if schema is not None else {}) for media, schema in contents.items()}
    return {"description": description, "content": content}


def document(app: Flask, *, info: Mapping[str, Any], responses: Mapping[str, tuple[str, str | tuple[str, ...], Schema]],
             enums: Mapping[str, Iterable[str]]) -> dict[str, Any]:
    """The OpenAPI 3.0 document of every route of ``app``; ``responses``: the shared error
    answers (name → description, media type or types, schema); ``enums``: the values of each ``x-enum``
    placeholder (what changes with the layer, such as its categories). A route without a
    declared contract raises `LookupError` naming it."""
    components = _Components(enums)
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        contracts = getattr(app.view_functions[rule.endpoint], "contracts", None) or app.extensions.get("contracts", {}).get(rule.endpoint, {})
        path = _openapi_path(rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            op = contracts.get(method) or contracts.get("*")
            if op is None:
                msg = f"{method} {rule.rule} ({rule.endpoint}) declares no contract"
                raise LookupError(msg)
            spec: dict[str, Any] = {"summary": op.summary, "responses": {code: _response(d, c, components) for code, (d, c) in op.responses.items()}}
            params = [*_path_params(rule, op.path), *(p.spec() for p in op.params)]
            if params:
                spec["parameters"] = params
            if op.body:
                spec["requestBody"] = {"required": True, "content": {media: {"schema": components.ref(schema)} for media, schema in op.body.items()}}
            if not op.secured:
                spec["security"] = []
            paths.setdefault(path, {})[method.lower()] = spec
    shared = {name: {"description": description, "content": {m: {"schema": components.ref(schema)} for m in ((media,) if isinstance(media, str) else media)}}
              for name, (description, media, schema) in responses.items()}
    return components.filled({
        "openapi": "3.0.3",
        "info": dict(info),
        "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}, "responses": shared, "schemas": components.schemas()},
        "security": [{"bearer": []}],
        "paths": paths,
    })


def _openapi_path(rule: Rule) -> str:
    """``/reports/<int(max=...):report_id>`` → ``/reports/{report_id}``."""
    out, rest = "", rule.rule
    while "<" in rest:
        head, _, tail = rest.partition("<")
        inner, _, rest = tail.partition(">")
        out += head + "{" + inner.split(":")[-1] + "}"
    return out + rest
