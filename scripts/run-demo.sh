#!/usr/bin/env bash
# Start the demo site (one ASGI server, uvicorn: the pages, the admin and the
# live chat's WebSockets) and a django-q2 worker together; Ctrl-C stops both.
# Beside them, the demo's e-mail: the help desk's LMTP receiver and the
# demo's mailbox server with the citizens' webmail (scripts/demo_mail.py).
set -u
PY="$1"; HOST="$2"; PORT="$3"
pids=()
spid_pid=""
mail_pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping the demo…"
  for pid in "${pids[@]}" $spid_pid "${mail_pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  exit 0
}
trap stop INT TERM EXIT
# Links in the demo's e-mails point at this server.
export WAGTAILADMIN_BASE_URL="${WAGTAILADMIN_BASE_URL:-http://$HOST:$PORT}"
# SPID/CIE login with the reference test providers (scripts/demo_spid.py);
# DEMO_SPID=0 skips them. Without them the demo runs without SPID/CIE login.
spid_settings="var/demo-spid/settings.json"
if [ "${DEMO_SPID:-1}" != "0" ]; then
  echo "==> Starting the SPID/CIE reference test providers (the first time installs them, about a minute)…"
  "$PY" scripts/demo_spid.py "$HOST" "$PORT" &
  spid_pid=$!
  for _ in $(seq 1 600); do
    [ -f "$spid_settings" ] && break
    kill -0 "$spid_pid" 2>/dev/null || { spid_pid=""; break; }
    sleep 0.5
  done
  if [ -n "$spid_pid" ] && [ -f "$spid_settings" ]; then
    export HELPDESK_DEMO_SPID="$PWD/$spid_settings"
  elif [ -n "$spid_pid" ]; then
    echo "The SPID/CIE test providers did not start in time: the demo runs without them."
    kill "$spid_pid" 2>/dev/null
    spid_pid=""
  fi
fi
# The live chat's channel layer: the worker's chat jobs (automatic offers,
# conversations handed back when their operator goes offline) signal the
# sockets of the web server, another process: that takes Redis. Without a
# Redis on 127.0.0.1:6379 the in-memory layer serves the web server alone, and
# what the worker changes reaches the sockets with the next message.
if [ -z "${WAGTAIL_HELPDESK_REDIS_URL:-}${REDIS_URL:-}" ]; then
  if "$PY" -c 'import redis; redis.Redis.from_url("redis://127.0.0.1:6379/0", socket_connect_timeout=1).ping()' 2>/dev/null; then
    export WAGTAIL_HELPDESK_REDIS_URL="redis://127.0.0.1:6379/2"
    chat_layer="Redis at $WAGTAIL_HELPDESK_REDIS_URL (shared by the web server and the worker)"
  else
    chat_layer="in memory (no Redis on 127.0.0.1:6379: the worker's changes reach open chats with their next message)"
  fi
else
  chat_layer="Redis at ${WAGTAIL_HELPDESK_REDIS_URL:-$REDIS_URL}"
fi
# The demo's e-mail (DEMO_MAIL=0 skips it: e-mails are then written to
# var/mail/ as files). The worker sends through the demo's mailbox server
# (SMTP on 127.0.0.1:8025), which keeps every message in var/mail/ for the
# citizens' webmail (127.0.0.1:8026) and hands the help desk's own mail
# (assistenza@… and the assistenza+<token>@… of the notifications' Reply-To)
# to the LMTP receiver on 127.0.0.1:8024, which stores it for the worker.
# A port already taken: said, and the demo goes on without that part.
mail_note="E-mails sent by the worker are written to var/mail/"
if [ "${DEMO_MAIL:-1}" != "0" ]; then
  echo "==> Starting the demo's e-mail (LMTP receiver, mailbox server, webmail)…"
  if "$PY" -c 'import socket; socket.create_connection(("127.0.0.1", 8024), 1).close()' 2>/dev/null; then
    echo "Port 8024 is taken: no LMTP receiver (the help desk will not receive e-mail)."
  else
    "$PY" manage.py helpdesk_lmtp --host 127.0.0.1 --port 8024 &
    mail_pids+=($!)
  fi
  mail_dir="${VAR_DIR:-var}/mail"  # where example_site/settings.py keeps e-mails too
  mail_ready="$mail_dir/.demo-mail.json"
  mkdir -p "$mail_dir"
  rm -f "$mail_ready"
  "$PY" scripts/demo_mail.py --smtp 127.0.0.1:8025 --lmtp 127.0.0.1:8024 \
    --webmail 127.0.0.1:8026 --dir "$mail_dir" --ready "$mail_ready" &
  mail_pid=$!
  for _ in $(seq 1 100); do
    [ -f "$mail_ready" ] && break
    kill -0 "$mail_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -f "$mail_ready" ]; then
    mail_pids+=($mail_pid)
    export EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend"
    export EMAIL_HOST="127.0.0.1" EMAIL_PORT="8025"  # read by example_site/settings.py
    webmail_url="$("$PY" -c 'import json, sys; print(json.load(open(sys.argv[1]))["webmail"] or "")' "$mail_ready")"
    mail_note="E-mails go through the demo's mailbox (SMTP 127.0.0.1:8025) and are kept in $mail_dir/"
    if [ -n "$webmail_url" ]; then
      mail_note="$mail_note
    Citizens' webmail: $webmail_url   (read the help desk's e-mails, \"Rispondi\", \"Scrivi al Comune\")"
    fi
  else
    echo "The demo's mailbox server did not start (port 8025 taken?): e-mails are written to var/mail/ as files."
    kill "$mail_pid" 2>/dev/null
  fi
fi
# Replies to notifications carry the ticket's signed token in their address
# (example_site/settings.py reads HELPDESK_NOTIFY_REPLY_TO).
default_reply_to='assistenza+{token}@comune.example.it'
export HELPDESK_NOTIFY_REPLY_TO="${HELPDESK_NOTIFY_REPLY_TO:-$default_reply_to}"
echo "==> Starting the web server (ASGI: uvicorn) and the worker…"
# A fresh REST API token for "operatore" (the previous demo token is revoked).
api_token="$("$PY" manage.py shell -c '
from django.contrib.auth import get_user_model
from wagtail.models import APIToken
user = get_user_model().objects.get(username="operatore")
for old in APIToken.objects.filter(user=user, name="make demo", revoked_at__isnull=True):
    old.revoke()
print(APIToken.create_token(user=user, name="make demo")[1])
' 2>/dev/null | tail -1)"
# helpdesk_worker: django-q2's cluster, stopping cleanly on SIGTERM (docs/notifications.md).
"$PY" manage.py helpdesk_worker &
pids+=($!)
# One ASGI process serves everything: pages, admin, static files and media
# (DEBUG: from the apps' folders and MEDIA_ROOT) and the chat's WebSockets.
"$PY" -m uvicorn example_site.asgi:application --host "$HOST" --port "$PORT" \
  --ws websockets-sansio --timeout-graceful-shutdown 3 --lifespan off &
pids+=($!)
# Wait until it answers, so the addresses below work when they are printed.
for _ in $(seq 1 200); do
  "$PY" -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
    "$HOST" "$PORT" 2>/dev/null && break
  kill -0 "${pids[-1]}" 2>/dev/null || break
  sleep 0.1
done
cat <<MSG

  Demo site running (Ctrl-C stops the web server and the worker):
    Website:  http://$HOST:$PORT/
    Admin:    http://$HOST:$PORT/admin/   (Helpdesk is in the side menu)
    Live chat: WebSockets at ws://$HOST:$PORT/ws/helpdesk/   (channel layer: $chat_layer)
    Logins (password "demo"):
      operatore      operator (URP, Lavori pubblici)
      responsabile   supervisor (URP, Polizia Locale e Mobilità, Lavori pubblici,
                     Servizi demografici)
      admin          helpdesk administrator and superuser
    $mail_note
    REST API:  http://$HOST:$PORT/api/helpdesk/v1/docs   (token of "operatore":
               ${api_token:-not created})
    Open311:   http://$HOST:$PORT/open311/v2/discovery.json   (api_key o311_demo)

MSG
if [ -n "$spid_pid" ]; then
  "$PY" - "$spid_settings" "$HOST" "$PORT" <<'PYEOF'
import json, sys
settings = json.load(open(sys.argv[1]))
print(f"    Citizens' login (SPID/CIE with the reference test providers):")
print(f"      http://{sys.argv[2]}:{sys.argv[3]}/oidc/rp/login/  ->  personal area")
for profile, person in settings["citizens"].items():
    print(f"      {profile.upper():<5} user {person['username']:<14} password {person['password']}"
          f"   ({person['given_name']} {person['family_name']})")
print()
PYEOF
fi
# The web server or the worker ending stops the demo; the SPID/CIE providers
# ending only takes their login away.
wait -n "${pids[@]}"
stop
