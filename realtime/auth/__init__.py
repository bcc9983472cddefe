"""Who may connect, and as whom.

- :mod:`.tokens`: the server's own signed name tokens (``realtime token NAME``);
- :mod:`.jwt`: JSON Web Tokens from the embedder's backend (``--jwt-key``);
- :mod:`.identity`: :class:`Identity` and the :class:`Authenticator` that
  combines both with the embedder's ``authenticate`` hook.

::

    from realtime import auth
    token = auth.issue(secret, "alice", ttl=3600, role="moderator")
    auth.verify(secret, "alice", token)       # "moderator"; raises Invalid
"""

from .identity import Authenticator, Identity, may_join
from .tokens import MEMBER, ROLES, issue, verify

MODERATOR = "moderator"

__all__ = ["Authenticator", "Identity", "MEMBER", "MODERATOR", "ROLES", "issue", "may_join",
           "verify"]
