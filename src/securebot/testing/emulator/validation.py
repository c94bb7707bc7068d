"""Reading request bodies like Discord: every problem collected into a 50035 ``errors`` tree.

Routes build a :class:`Form` over the parsed JSON and read fields with typed accessors; a wrong
type, a missing field or an exceeded limit is recorded under the field's path, and
:meth:`Form.check` raises one :class:`~securebot.testing.emulator.errors.ApiError`
(400, 50035 Invalid Form Body) naming every bad field. Nothing from the body is trusted.
"""

from __future__ import annotations

from typing import Any

from securebot.testing.emulator import errors as err

_MISSING: Any = object()

#: Discord's embed limits.
EMBED_LIMITS = {
    "title": 256,
    "description": 4096,
    "footer.text": 2048,
    "author.name": 256,
    "field.name": 256,
    "field.value": 1024,
    "fields": 25,
    "total": 6000,
}


class Form:
    """A request body being validated; field errors accumulate into :attr:`errors`."""

    def __init__(self, data: Any, *, root: Form | None = None, path: tuple[str, ...] = ()) -> None:
        """Wrap ``data`` (must be a JSON object; anything else is one error at the root)."""
        self._root = root or self
        self._path = path
        self.errors: dict[str, Any] = {} if root is None else root.errors
        #: False when the body was not an object: its fields are then not examined further.
        self.valid = isinstance(data, dict)
        if isinstance(data, dict):
            self.data: dict[str, Any] = data
        else:
            self.data = {}
            self.fail((), "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType")

    def fail(self, path: tuple[str, ...], code: str, message: str) -> None:
        """Record an error at ``path`` (relative to this form).

        A form whose body is not an object has one error, at its root; nothing below it.
        """
        if path and not getattr(self, "valid", True):
            return
        node = self.errors
        for part in (*self._path, *path):
            node = node.setdefault(part, {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def check(self) -> None:
        """Raise 50035 if any error was recorded."""
        if self.errors:
            raise err.invalid_form(self.errors)

    def has(self, name: str) -> bool:
        """Whether the body has ``name`` (even as null)."""
        return name in self.data

    def sub(self, name: str, data: Any) -> Form:
        """A nested form for an object at ``name``."""
        return Form(data, root=self._root, path=(*self._path, name))

    def child(self, path: tuple[str, ...], data: Any) -> Form:
        """A nested form for an object at ``path`` (e.g. ``("fields", "3")``)."""
        return Form(data, root=self._root, path=(*self._path, *path))

    # --- typed accessors ----------------------------------------------------------------------

    def _get(self, name: str, required: bool) -> Any:
        value = self.data.get(name, _MISSING)
        if value is _MISSING and required and self.valid:
            self.fail((name,), "BASE_TYPE_REQUIRED", "This field is required")
        return value

    def string(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        min_length: int = 0,
        max_length: int | None = None,
        default: str | None = None,
    ) -> str | None:
        """A string field within length bounds."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return default
        if not isinstance(value, str):
            self.fail((name,), "BASE_TYPE_STRING", "Must be a string.")
            return default
        if len(value) < min_length or (max_length is not None and len(value) > max_length):
            top = max_length if max_length is not None else "any"
            self.fail(
                (name,),
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between {min_length} and {top} in length.",
            )
            return default
        return value

    def integer(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        minimum: int | None = None,
        maximum: int | None = None,
        default: int | None = None,
    ) -> int | None:
        """An integer field (bools refused) within bounds."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return default
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail((name,), "NUMBER_TYPE_COERCE", f'Value "{value!s:.40}" is not int.')
            return default
        if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
            self.fail(
                (name,),
                "NUMBER_TYPE_MAX" if maximum is not None and value > maximum else "NUMBER_TYPE_MIN",
                f"int value should be between {minimum} and {maximum}.",
            )
            return default
        return value

    def boolean(self, name: str, *, default: bool | None = None) -> bool | None:
        """A boolean field."""
        value = self._get(name, False)
        if value is _MISSING or value is None:
            return default
        if not isinstance(value, bool):
            self.fail((name,), "BASE_TYPE_BOOLEAN", "Must be either true or false.")
            return default
        return value

    def snowflake(self, name: str, *, required: bool = False, nullable: bool = False) -> int | None:
        """A snowflake, as a string or an integer."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return None
        return self.as_snowflake((name,), value)

    def as_snowflake(self, path: tuple[str, ...], value: Any) -> int | None:
        """Convert ``value`` to a snowflake or record an error at ``path``."""
        if isinstance(value, bool):
            value = None
        if isinstance(value, int) and 0 <= value < 1 << 64:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
            number = int(value)
            if number < 1 << 64:
                return number
        self.fail(path, "NUMBER_TYPE_COERCE", f'Value "{value!s:.40}" is not snowflake.')
        return None

    def snowflakes(
        self, name: str, *, required: bool = False, max_items: int | None = None
    ) -> list[int] | None:
        """A list of snowflakes."""
        value = self.array(name, required=required, max_items=max_items)
        if value is None:
            return None
        result = []
        for index, item in enumerate(value):
            number = self.as_snowflake((name, str(index)), item)
            if number is not None:
                result.append(number)
        return result

    def array(
        self,
        name: str,
        *,
        required: bool = False,
        nullable: bool = False,
        min_items: int = 0,
        max_items: int | None = None,
    ) -> list[Any] | None:
        """A list field within size bounds."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return None
        if not isinstance(value, list):
            self.fail((name,), "BASE_TYPE_LIST", "Must be an array.")
            return None
        if len(value) < min_items or (max_items is not None and len(value) > max_items):
            self.fail(
                (name,),
                "BASE_TYPE_BAD_LENGTH",
                f"Must be between {min_items} and {max_items} in length.",
            )
            return None
        return value

    def obj(self, name: str, *, required: bool = False, nullable: bool = True) -> Form | None:
        """A nested object field."""
        value = self._get(name, required)
        if value is _MISSING or (value is None and nullable):
            return None
        return self.sub(name, value)

    def permissions(self, name: str) -> int | None:
        """A permission bitfield (string of digits, as Discord wants)."""
        value = self._get(name, False)
        if value is _MISSING or value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 1 << 64:
            return value
        if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
            return int(value)
        self.fail((name,), "NUMBER_TYPE_COERCE", f'Value "{value!s:.40}" is not int.')
        return None


def embeds(form: Form, name: str = "embeds") -> list[dict[str, Any]] | None:
    """Validate up to 10 embeds against Discord's limits; returns cleaned copies."""
    raw = form.array(name, nullable=True, max_items=10)
    if raw is None:
        return None
    cleaned: list[dict[str, Any]] = []
    total = 0
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            form.fail((name, str(index)), "DICT_TYPE_CONVERT", "Only dictionaries may be used")
            continue
        sub = form.child((name, str(index)), item)
        out: dict[str, Any] = {"type": "rich"}
        for key, limit in (("title", 256), ("description", 4096), ("url", 2048)):
            text = sub.string(key, nullable=True, max_length=limit)
            if text is not None:
                out[key] = text
                if key != "url":
                    total += len(text)
        color = sub.integer("color", nullable=True, minimum=0, maximum=0xFFFFFF)
        if color is not None:
            out["color"] = color
        timestamp = sub.string("timestamp", nullable=True, max_length=64)
        if timestamp is not None:
            out["timestamp"] = timestamp
        for key, text_key, limit in (("footer", "text", 2048), ("author", "name", 256)):
            part = sub.obj(key)
            if part is None:
                continue
            text = part.string(text_key, required=True, max_length=limit)
            entry: dict[str, Any] = {text_key: text or ""}
            for extra in ("icon_url", "url"):
                link = part.string(extra, nullable=True, max_length=2048)
                if link is not None:
                    entry[extra] = link
            total += len(text or "")
            out[key] = entry
        for key in ("image", "thumbnail"):
            part = sub.obj(key)
            if part is not None:
                link = part.string("url", required=True, max_length=2048)
                out[key] = {"url": link or ""}
        fields = sub.array("fields", nullable=True, max_items=25)
        if fields is not None:
            out_fields = []
            for findex, fitem in enumerate(fields):
                fform = form.child((name, str(index), "fields", str(findex)), fitem)
                fname = fform.string("name", required=True, min_length=1, max_length=256)
                fvalue = fform.string("value", required=True, min_length=1, max_length=1024)
                inline = fform.boolean("inline", default=False)
                total += len(fname or "") + len(fvalue or "")
                out_fields.append(
                    {"name": fname or "", "value": fvalue or "", "inline": bool(inline)}
                )
            out["fields"] = out_fields
        cleaned.append(out)
    if total > EMBED_LIMITS["total"]:
        form.fail((name,), "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")
    return cleaned


def components(form: Form, name: str = "components") -> list[dict[str, Any]] | None:
    """Validate message components: up to 5 action rows of buttons or one select each."""
    raw = form.array(name, nullable=True, max_items=5)
    if raw is None:
        return None
    rows: list[dict[str, Any]] = []
    numbering = iter(range(1, 1000))
    for index, item in enumerate(raw):
        row = form.child((name, str(index)), item)
        kind = row.integer("type", required=True)
        if kind != 1:
            if kind is not None:
                row.fail(
                    ("type",), "COMPONENT_TYPE_INVALID", "Top-level components must be action rows"
                )
            continue
        children = row.array("components", required=True, min_items=1, max_items=5) or []
        out_children: list[dict[str, Any]] = []
        for cindex, child in enumerate(children):
            c = form.child((name, str(index), "components", str(cindex)), child)
            ctype = c.integer("type", required=True)
            entry = {k: v for k, v in c.data.items() if k in _COMPONENT_KEYS}
            if ctype == 2:
                style = c.integer("style", required=True, minimum=1, maximum=6)
                c.string("label", nullable=True, max_length=80)
                if style == 5:
                    c.string("url", required=True, max_length=512)
                elif style != 6:
                    c.string("custom_id", required=True, min_length=1, max_length=100)
            elif ctype in (3, 5, 6, 7, 8):
                c.string("custom_id", required=True, min_length=1, max_length=100)
                c.string("placeholder", nullable=True, max_length=150)
                if ctype == 3:
                    c.array("options", required=True, min_items=1, max_items=25)
            elif ctype == 4:
                c.string("custom_id", required=True, min_length=1, max_length=100)
                c.string("label", nullable=True, max_length=45)
            elif ctype is not None:
                c.fail(("type",), "COMPONENT_TYPE_INVALID", "Invalid component type")
            out_children.append(entry)
        row_id = next(numbering)
        for entry in out_children:
            if not isinstance(entry.get("id"), int) or isinstance(entry.get("id"), bool):
                entry["id"] = next(numbering)
        rows.append({"type": 1, "id": row_id, "components": out_children})
    return rows


_COMPONENT_KEYS = frozenset(
    {
        "type",
        "style",
        "label",
        "emoji",
        "custom_id",
        "url",
        "disabled",
        "options",
        "placeholder",
        "min_values",
        "max_values",
        "min_length",
        "max_length",
        "required",
        "value",
        "channel_types",
        "default_values",
        "sku_id",
        "id",
    }
)
