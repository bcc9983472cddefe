"""``python -m realtime`` and the ``realtime`` console script."""

# Patch first, before anything imports socket, ssl, threading or socketio.
from gevent import monkey

monkey.patch_all()

import sys  # noqa: E402

from realtime.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
