"""Print, as a shell script, what deploy/Dockerfile does to install the code location: its ENV, COPY and `pip` lines.

.ci/check_image.sh runs the output in a build folder with a virtual environment's pip first on PATH, so the
environment is made by the Dockerfile's own commands (no copy of them that could drift). Other RUN commands
(users, folders) and the base image are what only a real image build checks.
"""

import re
import shlex
import sys
from pathlib import Path


def instructions(text: str) -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(m[1].upper(), m[2].strip()) for m in re.finditer(r"^\s*(\w+)\s+(.*)$", joined, re.M)]


def steps(dockerfile: Path) -> list[str]:
    out = []
    for name, args in instructions(dockerfile.read_text(encoding="utf-8")):
        if name == "FROM":
            out.append(f"# {name} {args}: the base image is not pulled here")
        elif name == "ENV":
            out += [f"export {shlex.quote(pair)}" for pair in shlex.split(args)]
        elif name == "COPY":
            *sources, dest = shlex.split(args)
            if any(s.startswith("--") for s in sources):
                raise SystemExit(f"COPY with options is not emulated: {args}")
            into_folder = dest.endswith("/") or len(sources) > 1
            parent = shlex.quote(dest if into_folder else str(Path(dest).parent))
            out += [f'mkdir -p {parent} && cp -r "$CONTEXT"/{shlex.quote(src)} {shlex.quote(dest)}' for src in sources]
        elif name == "RUN":
            out += [cmd.strip() for cmd in args.split("&&") if cmd.strip().split()[0] == "pip"]
    return out


if __name__ == "__main__":
    print("\n".join(["set -euo pipefail", *steps(Path(sys.argv[1]))]))
