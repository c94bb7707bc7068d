"""Response conformance: every body the emulator sends, checked against discord/openapi.json.

:class:`Conformance` maps ``"METHOD /template"`` to the operation of the same path in Discord's
OpenAPI 3.1 description, picks the response for the status (exact, then ``4XX``-style, then
``default``) and validates the body with JSON Schema 2020-12 (``$ref`` resolved inside the
document). Violations are collected, not raised, so the pytest plugin can fail the test that
caused them and a summary can report how many routes and responses were validated.
"""

from __future__ import annotations

import functools
import json
import os
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_DOC_URI = "urn:discord-openapi"
#: Compiled validators, shared by every checker of the same document: spec -> (route, status).
_VALIDATORS: dict[str, dict[tuple[str, int], Any]] = {}

#: Schemas replaced because Discord's written documentation (which wins, says the spec) and
#: Discord itself disagree with the spec. Field errors of 50035 carry string codes such as
#: ``"BASE_TYPE_REQUIRED"`` (docs: Reference > Error Messages), not the integers of ``Error``.
DOCUMENTATION_WINS: dict[str, Any] = {
    "InnerErrors": {
        "type": "object",
        "properties": {
            "_errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                    "required": ["code", "message"],
                },
            }
        },
        "additionalProperties": False,
        "required": ["_errors"],
    }
}


@dataclass(frozen=True)
class Violation:
    """A response body that does not match its schema."""

    route: str
    status: int
    message: str
    path: str


@dataclass
class Conformance:
    """Validator of response bodies; ``spec`` is the path of openapi.json."""

    spec: Path = field(default_factory=lambda: default_spec_path())
    #: ``(route, status)`` → number of bodies validated.
    validated: Counter[tuple[str, int]] = field(default_factory=Counter)
    #: Responses without a schema in the document (no body to check, or an unknown route).
    unchecked: Counter[tuple[str, int]] = field(default_factory=Counter)
    violations: list[Violation] = field(default_factory=list)

    def __post_init__(self) -> None:
        """Load the document and prepare the ``$ref`` registry."""
        from jsonschema import Draft202012Validator

        self._doc, self._registry = _load(str(self.spec))
        self._validator_cls = Draft202012Validator
        self._validators = _VALIDATORS.setdefault(str(self.spec), {})

    def _pointer(self, route: str, status: int) -> str | None:
        method, _, template = route.partition(" ")
        operation = self._doc["paths"].get(template, {}).get(method.lower())
        if operation is None:
            return None
        responses = operation.get("responses", {})
        key = next(
            (k for k in (str(status), f"{str(status)[0]}XX", "default") if k in responses), None
        )
        if key is None:
            return None
        base = ["paths", template, method.lower(), "responses", key]
        response = responses[key]
        if "$ref" in response:
            base = response["$ref"].lstrip("#/").split("/")
            response = self._doc
            for part in base:
                response = response[part]
        if "application/json" not in response.get("content", {}):
            return None
        parts = [*base, "content", "application/json", "schema"]
        escaped = "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)
        return "#/" + urllib.parse.quote(escaped, safe="/~")

    def check(self, route: str, status: int, body: Any) -> None:
        """Validate one response body (204s and bodies without a schema are counted apart)."""
        key = (route, status)
        if body is None:
            self.unchecked[key] += 1
            return
        if key not in self._validators:
            pointer = self._pointer(route, status)
            self._validators[key] = (
                None
                if pointer is None
                else self._validator_cls({"$ref": _DOC_URI + pointer}, registry=self._registry)
            )
        validator = self._validators[key]
        if validator is None:
            self.unchecked[key] += 1
            return
        self.validated[key] += 1
        for error in validator.iter_errors(body):
            where = "/".join(str(p) for p in error.absolute_path)
            self.violations.append(Violation(route, status, error.message[:300], where))

    def summary(self) -> dict[str, Any]:
        """Counts: routes and responses validated, violations."""
        return {
            "routes": len({route for route, _ in self.validated}),
            "route_statuses": len(self.validated),
            "responses": sum(self.validated.values()),
            "unchecked": sum(self.unchecked.values()),
            "violations": len(self.violations),
        }

    def merge(self, other: Conformance) -> None:
        """Add ``other``'s counts and violations to this one."""
        self.validated.update(other.validated)
        self.unchecked.update(other.unchecked)
        self.violations.extend(other.violations)


def default_spec_path() -> Path:
    """Discord's openapi.json: ``SECUREBOT_DISCORD_OPENAPI`` if set, else the copy shipped here
    (discord/discord-api-spec at commit 74fda0f, MIT licence in discord-openapi.LICENSE)."""
    override = os.environ.get("SECUREBOT_DISCORD_OPENAPI")
    if override:
        return Path(override)
    return Path(__file__).with_name("discord-openapi.json")


@functools.lru_cache(maxsize=4)
def _load(path: str) -> tuple[dict[str, Any], Any]:
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    doc: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    for name, schema in DOCUMENTATION_WINS.items():
        doc["components"]["schemas"][name] = schema
    resource = Resource.from_contents(doc, default_specification=DRAFT202012)
    return doc, Registry().with_resource(_DOC_URI, resource)
