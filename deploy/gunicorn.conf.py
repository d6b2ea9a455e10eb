"""gunicorn's settings for the production layout (``deploy/layout.py`` passes
the address, the workers and the threads on the command line)."""

# Threads in each worker process: a request waiting on PostgreSQL or Redis
# leaves the CPU to another. Persistent database connections (CONN_MAX_AGE in
# example_site/settings_scale.py) are per thread.
worker_class = "gthread"
# Requests longer than this are killed with their worker (exports and other
# long work run in the background workers instead).
timeout = 30
graceful_timeout = 10
keepalive = 5
# The application is loaded once and forked: workers share its memory.
preload_app = True
# Recycle a worker now and then (bounded memory growth), not all at once.
max_requests = 5000
max_requests_jitter = 500
accesslog = None
errorlog = "-"
loglevel = "warning"
