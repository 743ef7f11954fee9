"""gunicorn's settings for `make serve` that depend on the environment (.env included); the rest are on its
command line in the Makefile.

- Where it listens: BIND when set (an address or unix:/path), else 127.0.0.1:PORT (PORT as for `make run`).
- Whose X-Forwarded-Proto it believes: behind the TLS proxy (BEHIND_TLS_PROXY), the addresses in
  FORWARDED_ALLOW_IPS (127.0.0.1 when unset or empty); without it nobody's: an empty list, so gunicorn never serves
  a plain HTTP request as HTTPS because a client said so. (gunicorn trusts Unix socket connections whatever this is.)
"""

import os

from helpcenter.env import env_bool

bind = [os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT') or '8000'}"]
forwarded_allow_ips = ""
if env_bool("BEHIND_TLS_PROXY", False):
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS") or "127.0.0.1"
