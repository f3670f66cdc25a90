#!/bin/bash
# The peer for bench/api.py: 6aika/issue-reporting (a Django Open311 GeoReport v2 server)
# on loopback, on SQLite or PostgreSQL, so a filing can be measured against it in the same run.
#
#   PEER_MIRROR=<git dir of a copy of github:6aika/issue-reporting> bench/peer.sh setup
#   PEER_DB=sqlite:////tmp/x/peer.sqlite3 bench/peer.sh db       # fresh schema, one service 'dog'
#   (or PEER_DB=postgres://postgres@127.0.0.1:5432/<an empty database>: Django's PostgreSQL backend)
#   PEER_DB=... bench/peer.sh serve 18801                      # gunicorn -w 2, in the foreground
#
# Its source and virtualenv live in PEER_DIR (default: the temp folder's bench-peer/),
# never in this repository. Its settings enable django.contrib.gis, which needs GDAL and
# GEOS even on SQLite: setup installs Debian's libgdal32 and libgeos-c1v5 when missing.
set -euo pipefail
P=${PEER_DIR:-$(dirname "$(mktemp -u)")/bench-peer}
export SECRET_KEY=peer DJANGO_SETTINGS_MODULE=peer_settings
export DATABASE_URL=${PEER_DB:-sqlite:///$P/db.sqlite3}

setup() {
    local mirror=${PEER_MIRROR:?set PEER_MIRROR to the git dir of a copy of 6aika/issue-reporting}
    mkdir -p "$P/src"
    [ -f "$P/src/manage.py" ] || git --git-dir="$mirror" archive HEAD | tar -x -C "$P/src"
    if [ ! -x "$P/venv/bin/gunicorn" ]; then
        python3 -m venv "$P/venv"
        "$P/venv/bin/pip" install -q --disable-pip-version-check -r "$P/src/requirements.txt" gunicorn
    fi
    # Its requirements name no PostgreSQL driver (its deployments add one): the one Django 3.2 takes.
    "$P/venv/bin/python" -c "import psycopg2" 2>/dev/null ||
        "$P/venv/bin/pip" install -q --disable-pip-version-check psycopg2-binary==2.9.10
    if ! ls /usr/lib/*/libgdal.so.* >/dev/null 2>&1 || ! ls /usr/lib/*/libgeos_c.so.* >/dev/null 2>&1; then
        apt-get update -qq
        apt-get install -y -qq libgdal32 libgeos-c1v5 >/dev/null
    fi
    cat >"$P/src/peer_settings.py" <<'PY'
from cfh.settings import *  # noqa
import glob
GDAL_LIBRARY_PATH = (glob.glob('/usr/lib/*/libgdal.so.*') or [None])[0]
GEOS_LIBRARY_PATH = (glob.glob('/usr/lib/*/libgeos_c.so.*') or [None])[0]
PY
}

db() {
    cd "$P/src"
    "$P/venv/bin/python" manage.py migrate -v 0
    "$P/venv/bin/python" manage.py shell -c "
from issues.models import Service
s, _ = Service.objects.get_or_create(service_code='dog')
s.set_current_language('en')
s.service_name = 'Unleashed dog'
s.save()"
}

serve() {
    cd "$P/src"
    exec "$P/venv/bin/gunicorn" -w 2 -b "127.0.0.1:${1:?port}" cfh.wsgi:application
}

case "${1:-}" in
setup) setup ;;
db) db ;;
serve) serve "${2:-18801}" ;;
*)
    echo "usage: $0 setup|db|serve PORT" >&2
    exit 2
    ;;
esac
