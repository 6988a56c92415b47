"""gunicorn settings for one quizbot instance (``gunicorn -c deploy/gunicorn.conf.py``).

The access log leaves out query strings and the Referer (they can carry phone searches, export
reasons, WeChat openids and invite codes); the app's own log redaction covers the rest.
"""

import os

bind = os.environ.get("BIND", f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WORKERS", "2"))
threads = int(os.environ.get("THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
max_requests = 5000  # recycle workers now and then (bounded memory over weeks)
max_requests_jitter = 500
wsgi_app = "quizbot.wsgi:app"
# nginx on the same machine is the only proxy: the app believes X-Forwarded-* only with
# PROXY_HOPS=1 (see docs/deploy.md), gunicorn only from loopback.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = os.environ.get("ERROR_LOG", "-")
# %(U)s is the path without the query string; no %(f)s (Referer), no %(a)s needed for audits.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(B)s %(L)ss'
