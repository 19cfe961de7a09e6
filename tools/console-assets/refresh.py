"""Refresh the console's third-party files from the npm packages package-lock.json pins.

    python tools/console-assets/refresh.py

runs `npm ci` here, copies each file in VENDORED below into the Python package (so a
wheel carries them and nobody needs Node to run Baton), and writes vendored.json: for
each file, the package, version and tarball integrity the lockfile pins and the file's
sha256. tests/test_console_assets.py fails when a served file differs from it.
To upgrade a package: change its version in package.json, `npm install`, run this.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATIC = ROOT / "catalog" / "console" / "static" / "vendor"
TESTS = ROOT / "tests" / "browser" / "vendor"

VENDORED: list[tuple[str, str, Path]] = [
    # (package, file inside the package, destination)
    ("react", "umd/react.production.min.js", STATIC / "react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js", STATIC / "react-dom.production.min.js"),
    ("graphiql", "graphiql.min.js", STATIC / "graphiql.min.js"),
    ("graphiql", "graphiql.min.css", STATIC / "graphiql.min.css"),
    ("swagger-ui-dist", "swagger-ui-bundle.js", STATIC / "swagger-ui-bundle.js"),
    ("swagger-ui-dist", "swagger-ui.css", STATIC / "swagger-ui.css"),
    ("htmx.org", "dist/htmx.min.js", STATIC / "htmx.min.js"),
    ("cytoscape", "dist/cytoscape.min.js", STATIC / "cytoscape.min.js"),
    # The browser tests' accessibility checker: not served, not in the wheel.
    ("axe-core", "axe.min.js", TESTS / "axe.min.js"),
]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=HERE, check=True)
    lock = json.loads((HERE / "package-lock.json").read_text())["packages"]
    entries = []
    for package, inside, destination in VENDORED:
        pinned = lock[f"node_modules/{package}"]
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HERE / "node_modules" / package / inside, destination)
        entries.append(
            {
                "file": destination.relative_to(ROOT).as_posix(),
                "package": package,
                "version": pinned["version"],
                "integrity": pinned["integrity"],
                "path_in_package": inside,
                "sha256": sha256(destination),
            }
        )
    manifest = ROOT / "catalog" / "console" / "static" / "vendored.json"
    manifest.write_text(json.dumps({"files": entries}, indent=2) + "\n")
    print(f"{len(entries)} files vendored; {manifest.relative_to(ROOT)} written")


if __name__ == "__main__":
    main()
