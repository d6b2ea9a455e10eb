#!/usr/bin/env bash
# Start the demo web server and a django-q2 worker together; Ctrl-C stops both.
set -u
PY="$1"; HOST="$2"; PORT="$3"
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "Stopping the demo…"
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  exit 0
}
trap stop INT TERM EXIT
# Links in the demo's e-mails point at this server.
export WAGTAILADMIN_BASE_URL="${WAGTAILADMIN_BASE_URL:-http://$HOST:$PORT}"
"$PY" manage.py qcluster &
pids+=($!)
"$PY" manage.py runserver --noreload "$HOST:$PORT" &
pids+=($!)
cat <<MSG

  Demo site running (Ctrl-C stops the web server and the worker):
    Website:  http://$HOST:$PORT/
    Admin:    http://$HOST:$PORT/admin/   (Helpdesk is in the side menu)
    Logins (password "demo"):
      operatore      operator (URP, Lavori pubblici)
      responsabile   supervisor (URP, Polizia Locale e Mobilità, Lavori pubblici,
                     Servizi demografici)
      admin          helpdesk administrator and superuser
    E-mails sent by the worker are written to var/mail/

MSG
wait -n "${pids[@]}"
stop
