"""``import securebot`` stays light: no optional backend is imported."""

import json
import subprocess
import sys

HEAVY = ("pymongo", "redis", "boto3", "botocore", "py7zr", "moto")


def test_import_securebot_imports_no_optional_backend() -> None:
    code = (
        "import sys, json, securebot; "
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {HEAVY!r})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert json.loads(out) == []
