#!/usr/bin/env bash
# CI: build a virtual environment with exactly deploy/Dockerfile's install commands, then load the code location
# from it (outside the checkout, so the installed package is what loads). No base image is pulled, no cluster used.
set -euo pipefail
cd "$(dirname "$0")/.."
CONTEXT=$PWD
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

base=$(sed -n 's/^FROM python:\([0-9.]*\).*/\1/p' deploy/Dockerfile)
python=$(command -v "python$base")
"$python" -m venv "$WORK/venv"
mkdir "$WORK/build"
python3 .ci/dockerfile_steps.py deploy/Dockerfile > "$WORK/steps.sh"
echo "check_image: running deploy/Dockerfile's install steps with python$base:"
sed 's/^/  /' "$WORK/steps.sh"
(cd "$WORK/build" && PATH="$WORK/venv/bin:$PATH" CONTEXT="$CONTEXT" PIP_QUIET=1 bash "$WORK/steps.sh")

cd "$WORK"
venv="$WORK/venv/bin"
"$venv/python" - <<'PY'
import dagster_k8s, dagster_postgres, pipeline
from importlib import metadata
from pipeline.definitions import defs

assert "/venv/" in pipeline.__file__, f"loaded the checkout, not the installed package: {pipeline.__file__}"
assert metadata.version("dagster-k8s") == metadata.version("dagster-postgres"), "dagster-k8s must match postgres"
keys = defs.resolve_asset_graph().get_all_asset_keys()
print(f"check_image: pipeline.definitions loads from the image's environment: {len(keys)} assets, "
      f"dagster-k8s {dagster_k8s.__version__}")
PY
"$venv/dagster" definitions validate -m pipeline.definitions
