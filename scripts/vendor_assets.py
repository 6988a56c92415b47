"""Fetch the vendored third-party front-end files from the npm registry (never by hand).

Each asset is pinned by version and by the sha256 of the registry tarball; the files are
extracted with the package's licence into ``<dest>/<name>-<version>/``. Run from the repo root:

    .venv/bin/python scripts/vendor_assets.py          # fetch what is missing
    .venv/bin/python scripts/vendor_assets.py --check  # verify what is committed

Only ``npm`` (the registry's own client) is used to download.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Asset:
    name: str
    version: str
    sha256: str  # of the npm tarball
    files: tuple[str, ...]  # paths inside the package
    dest: str  # folder under the repo root
    why: str


ASSETS = (
    Asset("axe-core", "4.14.1",
          "e6b0ce02b84d892e2e33e403485e7f3d6c29e2be6df65daf44d89ba564139745",
          ("axe.min.js", "LICENSE"), "tests/vendor",
          "accessibility checks run inside the browser tests (MPL-2.0); never served to users"),
    Asset("swagger-ui-dist", "5.35.0",
          "1b8e891893404ea4c3558b6a87e2a3e494e7eedba41168c2ece5800a391a6ea6",
          ("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js", "LICENSE",
           "NOTICE"), "quizbot/static/vendor",
          "the API page /api/v1/docs, served by the app so it works offline (Apache-2.0)"),
)


def target_dir(asset: Asset) -> Path:
    return ROOT / asset.dest / f"{asset.name}-{asset.version}"


def fetch(asset: Asset) -> None:
    """Download the pinned tarball with npm, check its hash, extract the listed files."""
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", f"{asset.name}@{asset.version}", "--silent",
                        "--pack-destination", tmp], check=True, stdout=subprocess.DEVNULL)
        (tarball,) = Path(tmp).glob("*.tgz")
        digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
        if digest != asset.sha256:
            sys.exit(f"{asset.name}@{asset.version}: sha256 {digest} does not match the pinned "
                     f"{asset.sha256}; refusing to vendor it")
        out = target_dir(asset)
        out.mkdir(parents=True, exist_ok=True)
        with tarfile.open(tarball) as archive:
            for name in asset.files:
                member = archive.getmember(f"package/{name}")
                data = archive.extractfile(member).read()
                (out / Path(name).name).write_bytes(data)
    print(f"vendored {asset.name}@{asset.version} -> {out.relative_to(ROOT)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only verify the vendored files exist")
    args = parser.parse_args()
    missing = [a for a in ASSETS if not all((target_dir(a) / Path(f).name).is_file() for f in a.files)]
    if args.check:
        for asset in missing:
            print(f"missing: {asset.name}@{asset.version} in {target_dir(asset).relative_to(ROOT)}")
        return 1 if missing else 0
    for asset in missing:
        fetch(asset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
