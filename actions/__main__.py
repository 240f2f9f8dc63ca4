"""The action server: `python -m actions --port 5055` (what `make run` starts).

Rasa SDK's own server, without the weight of TensorFlow, PyTorch and JAX: the
actions need only rasa_sdk, spaCy (a pipeline built from code) and dateparser, but
spaCy's thinc imports TensorFlow whenever it is installed, and Rasa installs it.
Marking those modules as absent before anything imports them keeps the server
at about 120 MB instead of about 500 MB (README, Performance).

It answers on 127.0.0.1 only: it has no authentication, and only the Rasa servers of
this machine call it. HSG_ACTIONS_HOST sets another address (0.0.0.0: every one),
for Rasa servers on other machines; rasa_sdk reads it as SANIC_HOST.
"""

import os
import sys

for heavy in ("tensorflow", "torch", "jax"):
    sys.modules.setdefault(heavy, None)  # type: ignore[arg-type]  # None makes the import fail fast

from rasa_sdk.__main__ import main  # noqa: E402

DEFAULT_HOST = "127.0.0.1"

if __name__ == "__main__":
    os.environ["SANIC_HOST"] = os.environ.get("HSG_ACTIONS_HOST") or DEFAULT_HOST
    if "--actions" not in sys.argv:
        sys.argv += ["--actions", "actions"]
    main()
